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
