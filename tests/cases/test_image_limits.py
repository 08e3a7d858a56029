"""Photos that cost more to decode than they weigh (issue 9, point 12): a pixel limit read from
the header, one decode per photo, the image work outside the numbering lock, and no file left
behind by a registration that rolls back."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import translation
from PIL import Image, ImageFile

from qloop.cases.actions import register_case
from qloop.cases.models import Attachment, Case
from qloop.cases.uploads import check_photo
from tests.cases.test_uploads import noisy_image, register_snapshot, stored_files, upload
from tests.conftest import registration


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def real_png(width: int, height: int) -> bytes:
    """A whole, valid PNG of ``width`` × ``height`` black pixels. Compressed rows of zeros keep
    it small on disk (8,900 × 8,900 is about 300 KB) while decoding it takes 240 MB."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (width * 3 + 1)  # filter byte + RGB
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[int, int], int]]:
    """Every image decode (Pillow's ``ImageFile.load``), with the image's size and how deep in
    transactions it ran. A spy: it records and calls the real decoder."""
    calls: list[tuple[tuple[int, int], int]] = []
    real_load = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> Any:
        if self.tile:  # pixels still to decode (load() on a decoded image does nothing)
            calls.append((self.size, len(connection.savepoint_ids)))
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


def test_the_big_png_of_the_probe_is_refused_from_its_header(
    decodes: list[Any],
) -> None:
    """Issue 9.12: an 8,900 × 8,900 PNG of about 300 KB (900 MB and 6.6 s to take in before)
    is refused with its size and the limit, and not one pixel of it is decoded."""
    data = real_png(8_900, 8_900)
    assert len(data) < 400 * 1024
    with Image.open(io.BytesIO(data)) as probe:  # it is a real, whole PNG
        assert probe.size == (8_900, 8_900)

    with pytest.raises(ValidationError) as caught:
        check_photo(upload("8900.png", data, "image/png"))

    assert caught.value.code == "too_many_pixels"
    assert caught.value.messages == [
        "“8900.png” is 8900 × 8900 pixels (79 megapixels); photos may have at most 40 "
        "megapixels. Send a smaller copy."
    ]
    assert decodes == []


def test_the_pixel_limit_is_a_setting(settings: Any, decodes: list[Any]) -> None:
    """QLOOP_MAX_IMAGE_MEGAPIXELS: a 2,000 × 1,500 photo (3 megapixels) passes at the default
    and is refused, undecoded, at a limit of 2."""
    data = noisy_image("JPEG", (2_000, 1_500))
    assert check_photo(upload("3mp.jpg", data)).width == 2_000
    settings.QLOOP_MAX_IMAGE_MEGAPIXELS = 2
    decodes.clear()
    with pytest.raises(ValidationError) as caught:
        check_photo(upload("3mp.jpg", data))
    assert caught.value.code == "too_many_pixels"
    assert "at most 2 megapixels" in caught.value.messages[0]
    assert decodes == []


def test_pillow_itself_refuses_what_is_far_over_the_limit() -> None:
    """Image.MAX_IMAGE_PIXELS follows the setting, so code that opens an image without
    check_photo still cannot be made to decode a bomb."""
    assert Image.MAX_IMAGE_PIXELS == 40_000_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(real_png(9_000, 9_000)))


def test_a_registration_with_big_pngs_is_refused_and_decodes_none(
    users: dict[str, Any], decodes: list[Any]
) -> None:
    """Issue 9.12: ten of them in one registration took 40 s and 2 GB; now each is refused
    from its header, and nothing is stored."""
    before = register_snapshot()
    big = real_png(8_900, 8_900)
    with pytest.raises(ValidationError) as caught:
        register_case(
            registration(),
            actor=users["cs"],
            photos=[upload(f"{i}.png", big, "image/png") for i in range(10)],
        )
    assert len(caught.value.message_dict["photos"]) == 10
    assert decodes == []
    assert register_snapshot() == before


def test_each_photo_is_decoded_once_outside_the_numbering_lock(
    users: dict[str, Any], decodes: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9.12: the check and the thumbnail share one decode, and it happens (with the
    writing of the files) before the registration's transaction takes the number's row lock."""
    from django.core.files.storage import FileSystemStorage

    depth = len(connection.savepoint_ids)
    writes: list[int] = []
    real_save = FileSystemStorage._save

    def save(self: FileSystemStorage, name: str, content: Any) -> str:
        writes.append(len(connection.savepoint_ids))
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", save)
    photos = [
        upload("a.jpg", noisy_image("JPEG", (1_600, 1_200))),
        upload("b.png", noisy_image("PNG", (800, 600)), "image/png"),
    ]

    case = register_case(registration(), actor=users["cs"], photos=photos)

    assert case.attachments.count() == 2
    # One decode each; the JPEG at reduced size (draft), the PNG whole.
    assert len(decodes) == 2
    assert [d for _size, d in decodes] == [depth, depth]
    assert writes == [depth] * 4  # two photos and two thumbnails, before the transaction
    for att in case.attachments.all():
        assert att.thumbnail.storage.exists(att.thumbnail.name)


@pytest.fixture
def failing_clock_insert(db: Any) -> Callable[[], None]:
    """Make the database refuse to start a deadline clock, as a full disk or a lost connection
    would, half-way through a registration (after its photos are written). A real trigger in
    the test's transaction, gone when the test ends."""

    def install() -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "CREATE FUNCTION qloop_test_refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
                )
                cursor.execute(
                    "CREATE TRIGGER qloop_test_refuse BEFORE INSERT ON process_clock "
                    "FOR EACH ROW EXECUTE FUNCTION qloop_test_refuse()"
                )
            else:
                cursor.execute(
                    "CREATE TRIGGER qloop_test_refuse BEFORE INSERT ON process_clock "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )

    return install


def test_a_registration_that_rolls_back_leaves_no_file(
    users: dict[str, Any], failing_clock_insert: Callable[[], None]
) -> None:
    """Issue 9.12: photos written for a registration whose transaction then fails are removed;
    MEDIA_ROOT holds nothing for a case that does not exist."""
    failing_clock_insert()
    before = register_snapshot()
    photos = [upload("a.jpg", noisy_image("JPEG")), upload("b.jpg", noisy_image("JPEG"))]
    with pytest.raises(Exception, match="refused by the test"):
        register_case(registration(), actor=users["cs"], photos=photos)
    assert register_snapshot() == before
    assert stored_files() == []
    assert not Attachment.objects.exists()


def test_the_registration_page_refuses_the_big_png_with_its_message(
    client_for: Callable[[str], Client],
) -> None:
    """Issue 9.12, through the page: the form comes back with the message at the photos."""
    from qloop.cases.choices import Channel

    client = client_for("cs")
    client.cookies["django_language"] = "en"
    response = client.post(
        "/cases/new/",
        {
            "received_at": "2026-01-05T09:30",
            "channel": Channel.PHONE,
            "severity": "minor",
            "contact_name": "王芳",
            "contact_phone": "13800138000",
            "symptom": "漏水",
            "photos": [upload("8900.png", real_png(8_900, 8_900), "image/png")],
        },
    )
    assert response.status_code == 200
    assert "8900 × 8900 pixels" in response.content.decode()
    assert not Case.objects.exists()
