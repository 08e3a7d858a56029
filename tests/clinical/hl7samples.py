"""HL7 v2 messages for the tests: NIST's ELR samples read from ../shared/standards (never
copied), and Chinese and critical-value messages made from them."""

from __future__ import annotations

from tests.standards import STANDARDS

NIST = STANDARDS / "hl7v2" / "nist-elr"


def nist(case: int) -> bytes:
    return (NIST / f"ORU_R01_2.5.1_SampleTestCase{case}.hl7").read_bytes()


def _fields(segment: str) -> list[str]:
    return segment.split("|")


def variant(
    case: int = 1,
    *,
    control_id: str | None = None,
    charset: str = "",
    name: tuple[str, str] | None = None,
    obx: dict[int, str] | None = None,
    message_type: str | None = None,
    patient_id: str | None = None,
    pv1: str = "",
    orc_doctor: str | None = None,
    accession: str | None = None,
) -> str:
    """A NIST sample with some fields changed (for the test, by hand: the system under test
    parses with the library)."""
    segments = nist(case).decode("ascii").strip("\r").split("\r")
    out = []
    for seg in segments:
        f = _fields(seg)
        if f[0] == "MSH":
            if control_id is not None:
                f[9] = control_id
            if message_type is not None:
                f[8] = message_type
            f += [""] * (19 - len(f))
            f[17] = charset
        elif f[0] == "PID":
            if name is not None:
                f[5] = "^".join(name)
            if patient_id is not None:
                f[3] = f"{patient_id}^^^MPI&2.16.840.1.113883.19.3.2.1&ISO^MR"
        elif f[0] == "ORC" and orc_doctor is not None:
            f += [""] * (13 - len(f))
            f[12] = orc_doctor
        elif f[0] == "OBR" and accession is not None:
            f[3] = accession
        elif f[0] == "OBX" and obx:
            for index, value in obx.items():
                f[index] = value
        out.append("|".join(f))
        if f[0] == "PID" and pv1:
            out.append(pv1)
    return "\r".join(out) + "\r"
