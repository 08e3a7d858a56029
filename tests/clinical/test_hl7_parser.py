"""The listener reads a message in the standard delimiters without escapes by splitting its
text (``hl7v2._Split``) instead of building python-hl7's tree: every value the listener reads,
and the ACK, must be what python-hl7 gives for the same message."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import hl7
import pytest

from qloop.clinical import hl7v2
from tests.clinical.hl7samples import nist, variant
from tests.standards import skip_without_standards

skip_without_standards()

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from clinical_bench import message as bench_message  # noqa: E402

ODD = [
    # repetitions, subcomponents, empty and missing fields, a segment with its name only
    "MSH|^~\\&|LAB^1.2&ISO|HOSP||QLOOP|20261207||ORU^R01^ORU_R01|X1|P|2.5.1\r"
    "PID|||123~456^^^H&1&ISO^MR||Li^Ming~Lee^Min||19800101|F\r"
    "PV1||I|^^12~W2^^3\r"
    "OBR|1||S1&x|K^Kalium&sub^L|||2026\r"
    "SPM\r"
    "OBX|1|NM|K^^L||4.1~4.2|mmol/L^^UCUM|3.5-5.3|N|||F\r",
    # MSH-9 without a trigger event, MSH shorter than its twelfth field
    "MSH|^~\\&|LAB|HOSP|||2026||ACK|X2\rMSA|AA|1",
    "MSH|^~\\&|LAB|HOSP|||2026||ORU^R01|X3|P|2.5.1|||||UNICODE UTF-8\rPID|||1\r",
    "MSH|^~\\&|LAB\r",
    "  MSH|^~\\&|LAB|H|||2026||ORU^R01|X4|P|2.5.1  \r\r",
]


def _messages() -> list[str]:
    out = [nist(case).decode("ascii") for case in range(1, 7)]
    out.append(variant(2, name=("王", "建华"), charset="UNICODE UTF-8", pv1="PV1|1|I|IM1^^12"))
    rng = random.Random(3)
    out += [bench_message(i, rng).decode("gb18030" if i % 2 else "utf-8") for i in range(4)]
    return out + ODD


def _text(message: str) -> str:
    return message.replace("\r\n", "\r").replace("\n", "\r").strip("\r")


@pytest.mark.parametrize("message", _messages())
def test_every_field_the_listener_reads_is_what_python_hl7_reads(message: str) -> None:
    text = _text(message)
    split = hl7v2._Split.read(text)
    assert split is not None
    tree = hl7.parse(text)
    assert [seg[0] for seg in split] == [str(seg[0]) for seg in tree]
    for ours, theirs in zip(split, tree, strict=True):
        for field in range(1, 32):
            for component in range(1, 7):
                assert hl7v2._f(ours, field, component) == hl7v2._f(theirs, field, component), (
                    ours[0],
                    field,
                    component,
                )
    assert hl7v2._key(split) == hl7v2._key(tree)  # type: ignore[arg-type]


def _ack(build: object) -> str:
    try:
        text = str(build())  # type: ignore[operator]
    except Exception as exc:  # the same failure on both sides
        return type(exc).__name__
    # the time and the new control ID differ from one call to the next
    return re.sub(r"\|\d{14}\|\|(ACK[^|]*)\|\w{20}\|", r"|T||\1|ID|", text)


@pytest.mark.parametrize("message", _messages())
@pytest.mark.parametrize("code", ["AA", "AE", "AR"])
def test_the_ack_is_the_one_python_hl7_makes(message: str, code: str) -> None:
    text = _text(message)
    split = hl7v2._Split.read(text)
    assert split is not None
    tree = hl7.parse(text)
    assert _ack(lambda: split.create_ack(code)) == _ack(lambda: tree.create_ack(code))


@pytest.mark.parametrize(
    "message",
    [
        "MSH|^~\\&|LAB|H|||2026||ORU^R01|X5|P|2.5.1\rOBX|1|FT|N^Note||line\\.br\\next",
        "MSH|!~\\&|LAB|H|||2026||ORU!R01|X6|P|2.5.1",
        "MSH#^~\\&#LAB#H###2026##ORU^R01#X7#P#2.5.1",
        "MSH|^~\\&|LAB|H|||2026||ORU^R01|X8|P|2.5.1\r\rPID|||1",
    ],
)
def test_escapes_and_other_delimiters_go_through_python_hl7(message: str) -> None:
    assert hl7v2._Split.read(_text(message)) is None
    parsed, _codec = hl7v2._parse(message.encode())
    assert isinstance(parsed, hl7.Message)
