"""Photo checks benchmark (issue 9.12): time and peak memory of ``check_photo`` and of making
the thumbnail, for a decompression bomb and for ordinary phone photos, with this code and with
the code before the fix (the ``uploads.py`` of another checkout, e.g. ``/work/main``).

    .venv/bin/python bench/photos_bench.py
    .venv/bin/python bench/photos_bench.py --before /work/main/src/qloop/cases/uploads.py

Each measurement runs in a fresh process, so the peak resident memory (``ru_maxrss``) is that
of the one check. Times are wall-clock, the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import resource
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_common_arguments, machine_description, setup_django

CASES = {
    "bomb-png-8900": "PNG, 8,900 × 8,900 black pixels, about 300 KB (the probe's file)",
    "phone-jpeg-12mp": "JPEG, 4,000 × 3,000 pixels, a few MB (a 12-megapixel phone photo)",
    "png-1600": "PNG, 1,600 × 1,200 noisy pixels",
}


def bomb_png(width: int = 8_900, height: int = 8_900) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (width * 3 + 1)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def noisy(fmt: str, size: tuple[int, int], grain: int = 1) -> bytes:
    """Random pixels in ``grain`` × ``grain`` blocks (4 gives a phone photo's file size)."""
    from PIL import Image

    small = (size[0] // grain, size[1] // grain)
    image = Image.frombytes("RGB", small, os.urandom(small[0] * small[1] * 3)).resize(size)
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


def make(case: str) -> bytes:
    if case == "bomb-png-8900":
        return bomb_png()
    if case == "phone-jpeg-12mp":
        return noisy("JPEG", (4_000, 3_000), grain=4)
    return noisy("PNG", (1_600, 1_200))


def measure(case: str, module_path: str) -> dict[str, Any]:
    """In this process: check and thumbnail one photo with the given uploads module."""
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    spec = importlib.util.spec_from_file_location("uploads_under_test", module_path)
    assert spec is not None and spec.loader is not None
    uploads = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = uploads  # dataclasses look their module up
    spec.loader.exec_module(uploads)
    if hasattr(uploads, "set_pillow_limit"):
        uploads.set_pillow_limit()
    data = make(case)
    upload = SimpleUploadedFile("photo", data, "image/png")
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    outcome = "accepted"
    try:
        checked = uploads.check_photo(upload)
        if not hasattr(checked, "thumbnail"):  # before: the thumbnail was a second decode
            uploads.make_thumbnail(upload)
    except ValidationError as exc:
        outcome = f"refused ({exc.code})"
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "case": case,
        "bytes": len(data),
        "outcome": outcome,
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak / 1024, 1),
        "added_rss_mb": round((peak - base_rss) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--before", default="", help="an older uploads.py to measure too (e.g. from /work/main)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("CASE", "MODULE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django(args.database_url, args.data_dir)
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    after = str(Path(__file__).resolve().parent.parent / "src/qloop/cases/uploads.py")
    codes = [("after", after)] + ([("before", args.before)] if args.before else [])
    print(machine_description())
    print(f"load average before: {os.getloadavg()}")
    for label, module in codes:
        for case in CASES:
            runs = []
            for _ in range(args.repeat):
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--data-dir",
                        args.data_dir,
                        "--child",
                        case,
                        module,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            best = min(runs, key=lambda r: r["seconds"])
            best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
            best["added_rss_mb"] = max(r["added_rss_mb"] for r in runs)
            print(json.dumps({"code": label, **best}, ensure_ascii=False))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
