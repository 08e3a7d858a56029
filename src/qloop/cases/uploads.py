"""Safe photo uploads: the content decides the type, never the name; a thumbnail for each."""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from qloop import inputs

# Pillow format → (MIME type, extension). Only these are accepted as photos.
ALLOWED_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
}
THUMBNAIL_SIZE = (480, 480)


def max_pixels() -> int:
    return int(settings.QLOOP_MAX_IMAGE_MEGAPIXELS * 1_000_000)


def set_pillow_limit() -> None:
    """Pillow's own guard at ours (it warns beyond it, and refuses in ``Image.open`` beyond
    twice it), for code that opens an image without ``check_photo``. Called at start-up.
    The warning is not needed: ``check_photo`` refuses all it would warn about."""
    Image.MAX_IMAGE_PIXELS = max_pixels()
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


@dataclass(frozen=True)
class CheckedImage:
    """A photo that passed ``check_photo``, with its thumbnail already made."""

    upload: UploadedFile
    name: str
    content_type: str
    extension: str
    width: int
    height: int
    size: int
    thumbnail: ContentFile[bytes]


def check_photo(upload: UploadedFile) -> CheckedImage:
    """Refuse anything that is not a whole, decodable image of an allowed type and size.

    The pixel count comes from the header, before anything is decoded (a 300 KB PNG can claim
    8,900 × 8,900 pixels and take 900 MB to decode); then the image is decoded once, and the
    thumbnail made from that decode. All of it runs before a registration's transaction, so no
    lock is held while it works.
    """
    name = inputs.cell_text((upload.name or "photo").rsplit("/", 1)[-1])[:200] or "photo"
    limit = settings.QLOOP_MAX_UPLOAD_MB * 1024 * 1024
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="empty")
    if size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size).1f MB; photos may be at most %(limit)d MB.")
            % {"name": name, "size": size / 1024 / 1024, "limit": settings.QLOOP_MAX_UPLOAD_MB},
            code="too_large",
        )
    not_image = ValidationError(
        _("“%(name)s” is not a photo QLoop can read (JPEG, PNG, GIF or WebP).") % {"name": name},
        code="not_image",
    )
    try:
        upload.seek(0)
        # Only the allowed formats' readers look at the file; Image.open reads the header only.
        with Image.open(upload, formats=list(ALLOWED_FORMATS)) as img:
            fmt = img.format or ""
            width, height = img.size
            if width * height > max_pixels():
                raise _too_many_pixels(name, width, height)
            thumbnail = make_thumbnail(img)  # the one decode: a corrupt file fails here
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow's guard: beyond twice its limit it refuses in Image.open, before our check.
        raise _too_many_pixels(name, 0, 0) from exc
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise not_image from exc
    finally:
        upload.seek(0)
    if fmt not in ALLOWED_FORMATS:
        raise not_image
    content_type, extension = ALLOWED_FORMATS[fmt]
    return CheckedImage(upload, name, content_type, extension, width, height, size, thumbnail)


def _too_many_pixels(name: str, width: int, height: int) -> ValidationError:
    limit = settings.QLOOP_MAX_IMAGE_MEGAPIXELS
    if width and height:
        message = _(
            "“%(name)s” is %(width)d × %(height)d pixels (%(mp).0f megapixels); photos may have "
            "at most %(limit)s megapixels. Send a smaller copy."
        ) % {
            "name": name,
            "width": width,
            "height": height,
            "mp": width * height / 1e6,
            "limit": limit,
        }
    else:
        message = _(
            "“%(name)s” has far more pixels than a photo; photos may have at most %(limit)s "
            "megapixels. Send a smaller copy."
        ) % {"name": name, "limit": limit}
    return ValidationError(message, code="too_many_pixels")


def make_thumbnail(img: Image.Image) -> ContentFile[bytes]:
    """Decode ``img`` (just opened) once, at reduced size where the format allows, and return
    its thumbnail as a JPEG."""
    if img.format == "JPEG":
        img.draft("RGB", THUMBNAIL_SIZE)  # decode at reduced size: much faster for big photos
    img.load()
    thumb = ImageOps.exif_transpose(img)
    thumb = thumb.convert("RGB")
    thumb.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=82, optimize=True)
    return ContentFile(out.getvalue())


def new_token() -> str:
    return secrets.token_hex(16)
