"""Safe photo uploads: the content decides the type, never the name; a thumbnail for each."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format → (MIME type, extension). Only these are accepted as photos.
ALLOWED_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
}
MAX_PIXELS = 80_000_000  # refuses decompression bombs long before they fill the memory
THUMBNAIL_SIZE = (480, 480)


@dataclass(frozen=True)
class CheckedImage:
    upload: UploadedFile
    name: str
    content_type: str
    extension: str
    width: int
    height: int
    size: int


def check_photo(upload: UploadedFile) -> CheckedImage:
    """Refuse anything that is not a whole, decodable image of an allowed type and size."""
    name = (upload.name or "photo").rsplit("/", 1)[-1][:200]
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
    too_many_pixels = ValidationError(
        _("“%(name)s” has too many pixels.") % {"name": name}, code="too_many_pixels"
    )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            fmt = probe.format or ""
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise too_many_pixels
            probe.verify()  # checks the structure without decoding everything
        upload.seek(0)
        with Image.open(upload) as full:
            full.load()  # a truncated or corrupt file fails here
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow refuses very large images on open, before our own pixel limit is checked.
        raise too_many_pixels from exc
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
    return CheckedImage(upload, name, content_type, extension, width, height, size)


def make_thumbnail(upload: UploadedFile) -> ContentFile[bytes]:
    upload.seek(0)
    with Image.open(upload) as img:
        if img.format == "JPEG":
            img.draft("RGB", THUMBNAIL_SIZE)  # decode at reduced size: much faster for big photos
        thumb = ImageOps.exif_transpose(img)
        thumb = thumb.convert("RGB")
        thumb.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        thumb.save(out, "JPEG", quality=82, optimize=True)
    upload.seek(0)
    return ContentFile(out.getvalue())


def new_token() -> str:
    return secrets.token_hex(16)
