"""Photos with a registration (R1.2): what is accepted, what is refused, how it is stored."""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from qloop.cases.actions import add_photos, register_case
from qloop.cases.models import Attachment, Case, Contact, Event
from qloop.cases.uploads import check_photo
from qloop.org.models import Sequence
from tests.conftest import registration

FORMATS = [
    pytest.param("JPEG", "image/jpeg", ".jpg", id="jpeg"),
    pytest.param("PNG", "image/png", ".png", id="png"),
    pytest.param("GIF", "image/gif", ".gif", id="gif"),
    pytest.param("WEBP", "image/webp", ".webp", id="webp"),
]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are compared in English whatever translations are installed."""
    with translation.override("en"):
        yield


def noisy_image(fmt: str, size: tuple[int, int] = (400, 300)) -> bytes:
    """A photo-like image (random pixels, so it does not compress to nothing)."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels: a decompression bomb."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type)


def stored_files() -> list[str]:
    media = settings.MEDIA_ROOT
    return sorted(
        os.path.relpath(os.path.join(root, name), media)
        for root, _dirs, names in os.walk(media)
        for name in names
    )


def register_snapshot() -> dict[str, Any]:
    return {
        "cases": Case.objects.count(),
        "contacts": Contact.objects.count(),
        "events": Event.objects.count(),
        "attachments": Attachment.objects.count(),
        "sequences": list(Sequence.objects.values_list("key", "last_value")),
        "files": stored_files(),
    }


# Accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "content_type", "extension"), FORMATS)
def test_it_accepts_common_photo_formats_with_a_thumbnail(
    users: dict[str, Any], fmt: str, content_type: str, extension: str
) -> None:
    """R1.2: photos from phones and cameras (JPEG, PNG, GIF, WebP) are kept with the case,
    each with a thumbnail for the case page, through Django's storage."""
    data = noisy_image(fmt, (1200, 900))
    case = register_case(
        registration(), actor=users["cs"], photos=[upload(f"现场{extension}", data, content_type)]
    )

    [att] = case.attachments.all()
    assert (att.content_type, att.extension) == (content_type, extension)
    assert (att.width, att.height, att.size) == (1200, 900, len(data))
    assert att.uploaded_by == users["cs"]
    assert att.file.name.endswith(extension)
    with default_storage.open(att.file.name) as stored:
        assert stored.read() == data
    assert default_storage.exists(att.thumbnail.name)
    with default_storage.open(att.thumbnail.name) as thumb, Image.open(thumb) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 480
        assert image.size == (480, 360)


def test_the_content_decides_the_type_not_the_name(users: dict[str, Any]) -> None:
    """R1.2: a PNG sent as "photo.jpg" with a JPEG content type is stored and served as PNG."""
    case = register_case(
        registration(), actor=users["cs"], photos=[upload("photo.jpg", noisy_image("PNG"))]
    )
    [att] = case.attachments.all()
    assert (att.content_type, att.extension) == ("image/png", ".png")
    assert att.file.name.endswith(".png")


@pytest.mark.parametrize(
    "name",
    ["客户现场照片-王芳.jpg", "../../etc/passwd.jpg", "C:\\Users\\wang\\secret plan.jpg"],
)
def test_the_stored_file_name_never_contains_the_uploaders_file_name(
    users: dict[str, Any], name: str
) -> None:
    """R1.2: stored names are QLoop's own, so a file name can neither leak (a customer's
    name) nor climb out of the upload folder; the original name is kept only as text."""
    case = register_case(
        registration(), actor=users["cs"], photos=[upload(name, noisy_image("JPEG"))]
    )
    [att] = case.attachments.all()
    for stored in (att.file.name, att.thumbnail.name):
        assert ".." not in stored
        assert not os.path.isabs(stored)
        for word in ("客户现场照片", "王芳", "passwd", "secret", "wang"):
            assert word not in stored
    assert att.file.name.startswith("attachments/")
    assert att.thumbnail.name.startswith("thumbnails/")
    assert os.path.realpath(att.file.path).startswith(os.path.realpath(settings.MEDIA_ROOT))
    assert att.original_name == name.rsplit("/", 1)[-1]


def test_two_photos_with_the_same_name_are_both_kept(users: dict[str, Any]) -> None:
    """R1.2: every phone calls its photos IMG_0001.jpg; neither overwrites the other."""
    first, second = noisy_image("JPEG"), noisy_image("JPEG")
    case = register_case(
        registration(),
        actor=users["cs"],
        photos=[upload("IMG_0001.jpg", first), upload("IMG_0001.jpg", second)],
    )
    stored = []
    for att in case.attachments.all():
        with default_storage.open(att.file.name) as f:
            stored.append(f.read())
    assert sorted(stored) == sorted([first, second])


def test_it_accepts_exactly_the_maximum_number_of_photos(
    users: dict[str, Any], settings: Any
) -> None:
    """R1.2: the limit on photos is inclusive."""
    settings.QLOOP_MAX_PHOTOS = 3
    photos = [upload(f"{i}.jpg", noisy_image("JPEG", (40, 30))) for i in range(3)]
    case = register_case(registration(), actor=users["cs"], photos=photos)
    assert case.attachments.count() == 3


# Refused ----------------------------------------------------------------------------------


def _refusal(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> Any:
    with pytest.raises(ValidationError) as caught:
        check_photo(upload(name, data, content_type))
    return caught.value


REFUSED: list[Any] = [
    pytest.param(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "not_image", id="pdf"),
    pytest.param("质量报告：机械密封漏水。\n".encode(), "not_image", id="text"),
    pytest.param(b"<html><script>alert(1)</script></html>", "not_image", id="html-as-jpeg"),
    pytest.param(b"MZ\x90\x00\x03" + b"\x00" * 500, "not_image", id="exe-as-jpeg"),
    pytest.param(noisy_image("BMP"), "not_image", id="bmp-not-allowed"),
    pytest.param(noisy_image("JPEG")[:2000], "not_image", id="truncated-jpeg"),
    pytest.param(noisy_image("PNG")[:5000], "not_image", id="truncated-png"),
    pytest.param(noisy_image("WEBP")[:3000], "not_image", id="truncated-webp"),
    pytest.param(noisy_image("JPEG")[:20], "not_image", id="header-only"),
    pytest.param(b"", "empty", id="empty"),
    pytest.param(png_claiming(9_000, 9_000), "too_many_pixels", id="bomb-81-megapixels"),
    pytest.param(png_claiming(20_000, 20_000), "too_many_pixels", id="bomb-400-megapixels"),
]


@pytest.mark.parametrize(("data", "code"), REFUSED)
def test_check_photo_refuses_what_is_not_a_whole_readable_photo(data: bytes, code: str) -> None:
    """R1.2: only whole, decodable photos of an allowed type are accepted, whatever the
    file's name and declared type say; the message names the file."""
    error = _refusal(data, name="photo.jpg")
    assert error.code == code
    [message] = error.messages
    assert "“photo.jpg”" in message


def test_the_refusal_messages_say_what_is_wrong() -> None:
    """R1.2: a clerk reads what to do about a refused file."""
    assert _refusal(b"<html></html>").messages == [
        "“photo.jpg” is not a photo QLoop can read (JPEG, PNG, GIF or WebP)."
    ]
    assert _refusal(b"").messages == ["“photo.jpg” is empty."]
    assert _refusal(png_claiming(8_000, 6_000)).messages == [
        "“photo.jpg” is 8000 × 6000 pixels (48 megapixels); photos may have at most 40 "
        "megapixels. Send a smaller copy."
    ]
    assert _refusal(png_claiming(20_000, 20_000)).messages == [
        "“photo.jpg” has far more pixels than a photo; photos may have at most 40 megapixels. "
        "Send a smaller copy."
    ]


def test_it_refuses_a_photo_over_the_size_limit(settings: Any) -> None:
    """R1.2: the size limit is a setting; the message gives the size and the limit."""
    settings.QLOOP_MAX_UPLOAD_MB = 1
    data = noisy_image("PNG", (800, 600))  # about 1.4 MB of incompressible pixels
    assert len(data) > 1024 * 1024
    error = _refusal(data, name="big.png", content_type="image/png")
    assert error.code == "too_large"
    assert error.messages == [
        f"“big.png” is {len(data) / 1024 / 1024:.1f} MB; photos may be at most 1 MB."
    ]


def test_it_accepts_a_photo_just_under_the_size_limit(settings: Any) -> None:
    """R1.2: the same photo passes once the limit is raised."""
    settings.QLOOP_MAX_UPLOAD_MB = 2
    checked = check_photo(upload("big.png", noisy_image("PNG", (800, 600)), "image/png"))
    assert checked.content_type == "image/png"


BAD_UPLOADS: list[Any] = [
    pytest.param(lambda: upload("report.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"), id="pdf"),
    pytest.param(lambda: upload("notes.txt", b"hello", "text/plain"), id="text"),
    pytest.param(lambda: upload("photo.jpg", b"<html></html>"), id="html-as-jpeg"),
    pytest.param(lambda: upload("photo.jpg", b"MZ\x90\x00" + b"\x00" * 64), id="exe-as-jpeg"),
    pytest.param(lambda: upload("photo.jpg", noisy_image("JPEG")[:2000]), id="truncated"),
    pytest.param(lambda: upload("photo.jpg", b""), id="empty"),
    pytest.param(lambda: upload("bomb.png", png_claiming(20_000, 20_000)), id="bomb"),
]


@pytest.mark.parametrize("bad", BAD_UPLOADS)
def test_a_registration_with_a_bad_photo_is_refused_and_stores_nothing(
    users: dict[str, Any], bad: Callable[[], SimpleUploadedFile]
) -> None:
    """R1.2, X2: one bad file refuses the registration; no case, no number, no file is kept,
    not even the good photo that came with it."""
    before = register_snapshot()
    with pytest.raises(ValidationError) as caught:
        register_case(
            registration(),
            actor=users["cs"],
            photos=[upload("good.jpg", noisy_image("JPEG")), bad()],
        )
    errors = caught.value.message_dict
    assert list(errors) == ["photos"]
    assert len(errors["photos"]) == 1
    assert register_snapshot() == before


def test_it_refuses_a_registration_with_a_large_photo_and_stores_nothing(
    users: dict[str, Any], settings: Any
) -> None:
    """R1.2: too large a photo is refused before anything is written."""
    settings.QLOOP_MAX_UPLOAD_MB = 1
    before = register_snapshot()
    with pytest.raises(ValidationError) as caught:
        register_case(
            registration(),
            actor=users["cs"],
            photos=[upload("big.png", noisy_image("PNG", (800, 600)), "image/png")],
        )
    assert "at most 1 MB" in caught.value.message_dict["photos"][0]
    assert register_snapshot() == before


def test_it_refuses_more_photos_than_allowed(users: dict[str, Any], settings: Any) -> None:
    """R1.2: at most QLOOP_MAX_PHOTOS photos with one registration."""
    settings.QLOOP_MAX_PHOTOS = 2
    before = register_snapshot()
    photos = [upload(f"{i}.jpg", noisy_image("JPEG", (40, 30))) for i in range(3)]
    with pytest.raises(ValidationError) as caught:
        register_case(registration(), actor=users["cs"], photos=photos)
    assert caught.value.message_dict == {"photos": ["At most 2 photos."]}
    assert register_snapshot() == before


def test_adding_photos_later_counts_those_already_there(
    make_case: Callable[..., Any], users: dict[str, Any], settings: Any
) -> None:
    """R1.2: the limit holds for the case, not per upload."""
    settings.QLOOP_MAX_PHOTOS = 2
    case = make_case(photos=[upload("1.jpg", noisy_image("JPEG", (40, 30)))])
    files = stored_files()
    with pytest.raises(ValidationError):
        add_photos(
            case,
            [upload("2.jpg", noisy_image("JPEG")), upload("3.jpg", noisy_image("JPEG"))],
            actor=users["cs"],
        )
    assert case.attachments.count() == 1
    assert stored_files() == files
    [added] = add_photos(case, [upload("2.jpg", noisy_image("JPEG"))], actor=users["cs"])
    assert added.original_name == "2.jpg"
    assert case.events.filter(verb="photos_added").get().data == {"files": ["2.jpg"]}
