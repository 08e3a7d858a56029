"""Where the reference files of ../shared/standards are (ICH E2B(R3) schemas, NIST HL7 v2
samples): beside the checkout, as CI has them, or where ``QLOOP_STANDARDS`` points. Read from
there, never copied into the project."""

from __future__ import annotations

import os
from pathlib import Path

STANDARDS = Path(
    os.environ.get("QLOOP_STANDARDS")
    or Path(__file__).resolve().parents[1].parent / "shared" / "standards"
)


def skip_without_standards() -> None:
    """A checkout with no ``../shared`` beside it (a clone somewhere else) skips the tests that
    read these files and says how to run them; CI has them, so there it is an error."""
    import pytest

    if not STANDARDS.is_dir() and not os.environ.get("CI"):
        pytest.skip(
            f"the reference files are not at {STANDARDS}: set QLOOP_STANDARDS to the "
            "standards folder (../shared/standards in the workplace) to run these tests",
            allow_module_level=True,
        )
