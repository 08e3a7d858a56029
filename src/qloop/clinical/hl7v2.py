"""Results from the laboratory and radiology systems as HL7 v2 messages (R5.8).

``receive`` takes one message as bytes (from MLLP or HTTP) and returns the ACK as bytes:

- MSH-18 names the character set (UTF-8, GB18030 or GBK; none: ``QLOOP_HL7_CHARSET``); the
  ACK goes back in the same one.
- ORU^R01 results fill the register; OBX-8 ``HH``/``LL``/``AA`` and the laboratory's rules
  open findings.
- The ACK (MSA-1 ``AA``, MSA-2 = MSH-10) is built only after the message and everything it
  wrote are committed: an ACK means the result is stored.
- A message that cannot be read or is of an unknown type is answered ``AR``; one that is read
  but cannot be applied (a missing patient, a result without a value) ``AE``; both with the
  reason in MSA-3 and ERR, both kept for an administrator to look at and replay, and nothing
  of them half-applied.
- The same message (sender and MSH-10) sent again is applied once: the first ACK is repeated.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import hl7
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from qloop.clinical.models import (
    ClinicalRegister,
    EntrySource,
    HL7Message,
    MessageStatus,
    Modality,
    ResultEntry,
)

if TYPE_CHECKING:
    from qloop.clinical.actions import ResultData
    from qloop.org.models import User

log = logging.getLogger(__name__)

START, END = b"\x0b", b"\x1c\x0d"
CHARSETS = {
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "UTF8": "utf-8",
    "GB 18030-2000": "gb18030",
    "GB18030": "gb18030",
    "GB 18030": "gb18030",
    "GBK": "gb18030",  # GB18030 is a superset of GBK
    "GB2312": "gb18030",
    "ASCII": "ascii",
    "8859/1": "latin-1",
}


class Refused(Exception):
    """The message cannot be read or is not one we take (AR)."""


@dataclass
class Outcome:
    """What became of one message."""

    code: str  # AA, AE, AR
    reason: str = ""
    control_id: str = ""
    message: HL7Message | None = None
    entries: list[ResultEntry] = field(default_factory=list)
    duplicate: bool = False
    # The message as parsed, and its character set (for the ACK).
    parsed: Any = None
    codec: str = ""


def charset_of(raw: bytes) -> str:
    """The Python codec MSH-18 names, read with the parser from an ASCII-safe decoding (the
    delimiters and MSH-18 are ASCII in every character set HL7 allows here)."""
    first = raw.replace(b"\n", b"\r").split(b"\r", 1)[0]
    try:
        msh = hl7.parse(first.decode("latin-1")).segment("MSH")
        declared = str(msh.extract_field(1, 18, 1, 1)).strip().upper()
    except Exception as exc:
        raise Refused(_("The message does not start with a readable MSH segment.")) from exc
    if not declared:
        return str(getattr(settings, "QLOOP_HL7_CHARSET", "utf-8"))
    codec = CHARSETS.get(declared)
    if codec is None:
        raise Refused(_("Unknown character set in MSH-18: %(name)s.") % {"name": declared})
    return codec


def _parse(raw: bytes) -> tuple[hl7.Message, str]:
    codec = charset_of(raw)
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise Refused(
            _("The message is not valid %(codec)s text (MSH-18).") % {"codec": codec}
        ) from exc
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    try:
        return hl7.parse(text), codec
    except Exception as exc:
        raise Refused(_("The message cannot be parsed: %(error)s") % {"error": exc}) from exc


def _f(seg: Any, field_num: int, component: int = 1, repeat: int = 1) -> str:
    try:
        return str(seg.extract_field(1, field_num, repeat, component)).strip()
    except (IndexError, KeyError, AttributeError):
        return ""


def _when(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = hl7.parse_datetime(value)
    except (ValueError, TypeError):
        raise ValidationError(_("Not a HL7 date and time: %(v)s.") % {"v": value}) from None
    if moment is None:
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _person_name(seg: Any, field_num: int, offset: int = 0) -> str:
    family = _f(seg, field_num, 1 + offset)
    given = _f(seg, field_num, 2 + offset)
    if not given:
        return family
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in family + given)
    return f"{family}{given}" if cjk else f"{given} {family}"


def _register_for(sending_app: str) -> ClinicalRegister | None:
    from qloop.clinical import lookups

    registers = lookups.registers()
    for register in registers:
        if (
            register.hl7_application
            and register.hl7_application.casefold() == sending_app.casefold()
        ):
            return register
    return next((r for r in registers if r.modality == Modality.LABORATORY), None)


def results_of(message: hl7.Message) -> list[ResultData]:
    """The register entries an ORU^R01 carries, one per OBX, with the patient, visit, order
    and specimen around it."""
    from qloop.clinical.actions import ResultData

    out: list[ResultData] = []
    patient: dict[str, Any] = {}
    visit: dict[str, str] = {}
    order: dict[str, Any] = {}
    pending: list[ResultData] = []
    for seg in message:
        name = str(seg[0])
        if name == "PID":
            born = _f(seg, 7)
            patient = {
                "patient_id": _f(seg, 3),
                "patient_name": _person_name(seg, 5),
                "sex": {"M": "M", "F": "F"}.get(_f(seg, 8).upper(), "U"),
                "birth": _when(born) if born else None,
            }
        elif name == "PV1":
            visit = {"ward": _f(seg, 3, 1), "bed": _f(seg, 3, 3), "department": _f(seg, 10)}
        elif name == "ORC":
            order.update(
                {
                    "doctor_id": _f(seg, 12, 1),
                    "doctor_name": _person_name(seg, 12, 1),
                    "department": _f(seg, 17, 1),
                }
            )
        elif name == "OBR":
            pending = []
            order.update(
                {
                    "accession": _f(seg, 3) or _f(seg, 2),
                    "panel": _f(seg, 4, 2) or _f(seg, 4, 1),
                    "collected": _when(_f(seg, 7)),
                    "received": _when(_f(seg, 14)),
                    "reported": _when(_f(seg, 22)),
                }
            )
            if _f(seg, 16, 1) and not order.get("doctor_id"):  # ORC-12 first
                order["doctor_id"] = _f(seg, 16, 1)
                order["doctor_name"] = _person_name(seg, 16, 1)
        elif name == "OBX":
            if not patient:
                raise ValidationError(_("An OBX comes before any PID: whose result is it?"))
            code = _f(seg, 3, 1)
            value = _f(seg, 5)
            if not value:
                raise ValidationError(
                    _("OBX %(set)s (%(code)s) has no value in OBX-5.")
                    % {"set": _f(seg, 1), "code": code}
                )
            reported = _when(_f(seg, 19)) or order.get("reported") or _when(_f(seg, 14))
            collected = order.get("collected") or _when(_f(seg, 14))
            age: float | None = None
            birth: dt.datetime | None = patient.get("birth")
            if birth is not None and isinstance(collected, dt.datetime):
                age = max(0, (collected - birth).days) / 365.25
            data = ResultData(
                patient_name=patient["patient_name"],
                patient_id=patient["patient_id"],
                sex=patient["sex"],
                age_years=None if age is None else round(Decimal(age), 2),
                test_code=code,
                test_name=_f(seg, 3, 2) or code,
                result_value=value,
                unit=_f(seg, 6, 1),
                reference_range=_f(seg, 7),
                abnormal_flag=_f(seg, 8).upper(),
                accession=order.get("accession", ""),
                ordering_doctor=order.get("doctor_id", ""),
                ordering_doctor_name=order.get("doctor_name", ""),
                ordering_department=visit.get("department") or order.get("department", ""),
                ward=visit.get("ward", ""),
                bed=visit.get("bed", ""),
                collected_at=collected,
                received_at=order.get("received"),
                reported_at=reported,
                extra={"status": _f(seg, 11)},
            )
            pending.append(data)
            out.append(data)
        elif name == "SPM":
            specimen = _f(seg, 4, 2) or _f(seg, 4, 1)
            for data in pending:
                data.specimen = specimen
    if not out:
        raise ValidationError(_("The message carries no OBX result."))
    return out


def _known(data: ResultData) -> ResultData:
    """Codes the hospital does not know (a doctor's number, a ward) are kept as names, not
    refused: the result must reach the register."""
    from qloop.clinical import lookups

    if data.ordering_doctor and lookups.user(data.ordering_doctor) is None:
        data.ordering_doctor = ""
    if data.ward and lookups.ward(data.ward) is None:
        data.bed = f"{data.ward} {data.bed}".strip()
        data.ward = ""
    if data.ordering_department and lookups.department(data.ordering_department) is None:
        data.ordering_department = ""
    if data.abnormal_flag and data.abnormal_flag not in {"N", "H", "L", "HH", "LL", "A", "AA"}:
        data.abnormal_flag = ""
    if data.reported_at is not None and data.reported_at > timezone.now():
        data.reported_at = timezone.now()
    return data


def _apply(
    results: list[ResultData], register: ClinicalRegister, msg: HL7Message
) -> list[ResultEntry]:
    """Each result into the register: new, or a new version of the same specimen and test."""
    from qloop.clinical.actions import correct_result, register_result

    entries = []
    for data in results:
        data = _known(data)
        existing = None
        if data.accession:
            existing = ResultEntry.objects.filter(
                register=register, accession=data.accession, test_code=data.test_code
            ).first()
        if existing is None:
            entry, _opened = register_result(
                data, register=register, actor=None, source=EntrySource.HL7, message=msg
            )
        else:
            reason = _("Corrected by %(sender)s (message %(id)s)") % {
                "sender": msg.sender,
                "id": msg.control_id,
            }
            entry, _opened = correct_result(
                existing, data, reason=reason, actor=None, source=EntrySource.HL7, message=msg
            )
        entries.append(entry)
    return entries


def _key(message: hl7.Message) -> tuple[str, str, str]:
    msh = message.segment("MSH")
    sender = f"{_f(msh, 3)}|{_f(msh, 4)}"
    return sender, _f(msh, 10), f"{_f(msh, 9, 1)}^{_f(msh, 9, 2)}"


def handle(raw: bytes, *, transport: str, replay_of: HL7Message | None = None) -> Outcome:
    """Store and apply one message; the outcome says which ACK to give."""
    try:
        message, codec = _parse(raw)
        key = _key(message)
    except Refused as exc:
        return _keep(raw, transport, "", "", "", "", MessageStatus.REJECTED, "AR", str(exc))
    outcome = _handle(raw, message, codec, key, transport=transport, replay_of=replay_of)
    outcome.parsed, outcome.codec = message, codec
    return outcome


def _handle(
    raw: bytes,
    message: hl7.Message,
    codec: str,
    key: tuple[str, str, str],
    *,
    transport: str,
    replay_of: HL7Message | None,
) -> Outcome:
    sender, control_id, kind = key
    if not control_id:
        return _keep(
            raw,
            transport,
            codec,
            sender,
            "",
            kind,
            MessageStatus.REJECTED,
            "AR",
            _("MSH-10 (message control ID) is empty."),
        )
    if kind != "ORU^R01":
        return _keep(
            raw,
            transport,
            codec,
            sender,
            control_id,
            kind,
            MessageStatus.REJECTED,
            "AR",
            _("Unsupported message type %(type)s: only ORU^R01 results are taken.")
            % {"type": kind},
        )
    if replay_of is None:
        done = HL7Message.objects.filter(
            sender=sender, control_id=control_id, status=MessageStatus.APPLIED
        ).first()
        if done is not None:
            return Outcome("AA", control_id=control_id, message=done, duplicate=True)
    msh = message.segment("MSH")
    register = _register_for(_f(msh, 3))
    if register is None:
        return _keep(
            raw,
            transport,
            codec,
            sender,
            control_id,
            kind,
            MessageStatus.ERROR,
            "AE",
            _("No register is set up to take results."),
        )
    try:
        with transaction.atomic():
            msg = HL7Message.objects.create(
                sender=sender,
                control_id=control_id,
                message_type=kind,
                transport=transport,
                raw=raw,
                charset=codec,
                status=MessageStatus.APPLIED,
                ack_code="AA",
            )
            with override(settings.LANGUAGE_CODE):
                entries = _apply(results_of(message), register, msg)
            HL7Message.objects.filter(pk=msg.pk).update(entries=len(entries))
            msg.entries = len(entries)
            if replay_of is not None:
                HL7Message.objects.filter(pk=replay_of.pk).update(replayed_at=timezone.now())
    except IntegrityError:
        # The same message arrived on another connection at the same moment and won.
        done = HL7Message.objects.filter(
            sender=sender, control_id=control_id, status=MessageStatus.APPLIED
        ).first()
        if done is None:
            raise
        return Outcome("AA", control_id=control_id, message=done, duplicate=True)
    except ValidationError as exc:
        reason = "; ".join(
            f"{k}: {'; '.join(v)}" if k != "__all__" else "; ".join(v)
            for k, v in (
                exc.message_dict.items()
                if hasattr(exc, "error_dict")
                else [("__all__", exc.messages)]
            )
        )
        return _keep(
            raw, transport, codec, sender, control_id, kind, MessageStatus.ERROR, "AE", reason
        )
    return Outcome("AA", control_id=control_id, message=msg, entries=entries)


def _keep(
    raw: bytes,
    transport: str,
    codec: str,
    sender: str,
    control_id: str,
    kind: str,
    status: str,
    code: str,
    reason: str,
) -> Outcome:
    """A message refused is kept, with why, for an administrator to look at and replay."""
    msg = HL7Message.objects.create(
        sender=sender[:200],
        control_id=control_id[:200],
        message_type=kind[:40],
        transport=transport,
        raw=raw,
        charset=codec,
        status=status,
        ack_code=code,
        error=reason[:2000],
    )
    log.warning("HL7 message %s from %s answered %s: %s", control_id, sender, code, reason)
    return Outcome(code, reason=reason, control_id=control_id, message=msg)


def ack_for(raw: bytes, outcome: Outcome) -> bytes:
    """The ACK, in the message's own character set (UTF-8 when it could not be read)."""
    declared = ""
    try:
        message, codec = (
            (outcome.parsed, outcome.codec) if outcome.parsed is not None else _parse(raw)
        )
        declared = _f(message.segment("MSH"), 18)
        text = str(message.create_ack(outcome.code))
    except Exception:
        codec = "utf-8"
        now = timezone.localtime().strftime("%Y%m%d%H%M%S")
        control = _escape(outcome.control_id)
        text = f"MSH|^~\\&|QLoop|QLoop|||{now}||ACK|{now}|P|2.5.1\rMSA|{outcome.code}|{control}"
    if declared:
        # The ACK says which character set it is written in, as the message did.
        head, _sep, rest = text.partition("\r")
        fields = head.split("|")
        fields += [""] * (18 - len(fields))
        fields[17] = declared
        text = "|".join(fields) + "\r" + rest
    if outcome.reason:
        reason = _escape(outcome.reason[:200])
        text = text.rstrip("\r")
        lines = text.split("\r")
        lines[-1] = f"{lines[-1]}|{reason}" if lines[-1].startswith("MSA") else lines[-1]
        severity = "E"
        code = "207" if outcome.code == "AE" else "200"
        lines.append(f"ERR||||{severity}|{code}^{_escape(outcome.reason[:80])}^HL70357")
        text = "\r".join(lines)
    return (text.rstrip("\r") + "\r").encode(codec, errors="replace")


def _escape(text: str) -> str:
    """HL7 escapes for the delimiters in free text (MSA-3, ERR)."""
    return (
        text.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def receive(raw: bytes, *, transport: str) -> bytes:
    """One message in, its ACK out (after the message is durably stored)."""
    return ack_for(raw, handle(raw, transport=transport))


def replay(msg: HL7Message, *, actor: User) -> Outcome:
    """An administrator sends a kept AE/AR message through again (after fixing the cause)."""
    from django.core.exceptions import PermissionDenied

    if not (actor.is_superuser or actor.administers):
        raise PermissionDenied
    if msg.status == MessageStatus.APPLIED:
        raise ValidationError(_("This message was applied; it is not replayed."))
    outcome = handle(bytes(msg.raw), transport=msg.transport, replay_of=msg)
    if outcome.code == "AA":
        HL7Message.objects.filter(pk=msg.pk).update(replayed_by=actor, replayed_at=timezone.now())
    return outcome


# --- MLLP framing ------------------------------------------------------------------------------


def frames(buffer: bytearray) -> list[bytes]:
    """Take every complete MLLP frame (VT … FS CR) out of the buffer; the rest waits."""
    out: list[bytes] = []
    while True:
        start = buffer.find(START)
        if start < 0:
            buffer.clear()
            return out
        end = buffer.find(END, start + 1)
        if end < 0:
            del buffer[:start]
            return out
        out.append(bytes(buffer[start + 1 : end]))
        del buffer[: end + len(END)]


def frame(payload: bytes) -> bytes:
    return START + payload + END
