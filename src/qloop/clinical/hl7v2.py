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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import hl7
import hl7.parser
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from hl7.util import generate_message_control_id, unescape

from qloop.clinical.models import (
    ClinicalRegister,
    EntrySource,
    HL7Message,
    MessageStatus,
    Modality,
    ResultEntry,
)
from qloop.together import sent_together

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
    """The Python codec MSH-18 names. The delimiters and MSH-18 are ASCII in every character
    set HL7 allows here, so MSH-18 is read from the raw first segment by its own field and
    component separators (MSH-1, MSH-2) before the message is decoded and parsed."""
    first = raw.replace(b"\n", b"\r").split(b"\r", 1)[0].decode("latin-1")
    if not first.startswith("MSH") or len(first) < 8:
        raise Refused(_("The message does not start with a readable MSH segment."))
    fields = first.split(first[3])
    declared = fields[17] if len(fields) > 17 else ""
    declared = declared.split(fields[1][:1] or "^", 1)[0].split(fields[1][1:2] or "~", 1)[0]
    declared = declared.strip().upper()
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
        return parse(text), codec
    except Exception as exc:
        raise Refused(_("The message cannot be parsed: %(error)s") % {"error": exc}) from exc


def _fast_init(level: int) -> Any:
    """``__init__`` of a python-hl7 container, without its assertion and chain of super calls
    (the parse of a message makes about 150 containers; their set-up was a fifth of it)."""

    def __init__(
        self: Any,
        separator: str | None = None,
        sequence: Any = (),
        esc: str = "\\",
        separators: str = "\r|~^&",
        factory: Any = None,
    ) -> None:
        list.__init__(self, sequence)
        self.separator = separators[level]
        self.esc = esc
        self.separators = separators
        self.factory = factory if factory is not None else Factory

    return __init__


class _Message(hl7.Message):
    __init__ = _fast_init(0)


class _Segment(hl7.Segment):
    __init__ = _fast_init(1)


class _Field(hl7.Field):
    __init__ = _fast_init(2)


class _Repetition(hl7.Repetition):
    __init__ = _fast_init(3)


class _Component(hl7.Component):
    __init__ = _fast_init(4)


class Factory(hl7.Factory):
    """python-hl7's containers with a lighter set-up (python-hl7's documented way to use
    container subclasses); they read, print and build ACKs as python-hl7's own."""

    create_message = _Message
    create_segment = _Segment
    create_field = _Field
    create_repetition = _Repetition
    create_component = _Component


class _Plan(hl7.parser._ParsePlan):
    """python-hl7's parse plan with its next level made once, not at every field and
    component (``hl7.parse`` made about 120 plans per message), and ``applies`` without
    its index arithmetic. The splitting is python-hl7's own (``hl7.parser._split``)."""

    def __init__(
        self, seperator: str, separators: str, containers: list[Any], esc: str, factory: Any
    ) -> None:
        super().__init__(seperator, separators, containers, esc, factory)
        tail = separators[separators.find(seperator) :]
        self._any = re.compile(f"[{re.escape(tail)}]").search
        self._next = hl7.parser._ParsePlan.next(self)

    def next(self) -> Any:
        return self._next

    def applies(self, text: str) -> bool:
        """Whether any delimiter of this level or below is in the text: one search of the
        text for all of them, not one for each."""
        return self._any(text) is not None


_plans: dict[tuple[str, str], _Plan] = {}


def parse(text: str) -> hl7.Message:
    """``hl7.parse(text)``, the same tree (of ``Factory``'s containers), cheaper: the plan of
    each set of delimiters is made once and kept."""
    strmsg = text.strip()
    base = hl7.parser.create_parse_plan(strmsg, Factory)
    plan = _plans.get((base.separators, base.esc))
    if plan is None:
        plan = _Plan(base.separator, base.separators, base.containers, base.esc, Factory)
        if len(_plans) < 64:  # a sender's delimiters are few; a stranger's are not kept
            _plans[(base.separators, base.esc)] = plan
    return hl7.parser._split(strmsg, plan)


def _f(seg: Any, field_num: int, component: int = 1, repeat: int = 1) -> str:
    """``seg.extract_field(1, field_num, repeat, component)``, stripped; "" where python-hl7
    finds nothing. The same walk down python-hl7's tree and its ``unescape``, without the
    accessor record and 1-based calls it makes on the way (a message reads some 35 fields:
    they cost a tenth of its CPU); ``test_hl7_parser`` holds it to ``extract_field``."""
    try:
        if field_num >= len(seg):
            return ""
        value = seg[field_num][repeat - 1]
        if not isinstance(value, hl7.Repetition):
            if component != 1:
                return ""
            if field_num in (1, 2) and seg[0][0] == "MSH":
                return str(value).strip()  # the delimiters, as they are
        elif component > len(value):
            return ""
        else:
            value = value[component - 1]
            if isinstance(value, hl7.Component):
                value = value[0] if value else ""
        return str(unescape(seg, value)).strip()
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
        msh = message.segment("MSH")
        declared = _f(msh, 18)
        text = _ack_text(message, msh, outcome.code)
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


def _ack_text(message: hl7.Message, msh: Any, code: str) -> str:
    """``str(message.create_ack(code))``, the same text, without building it as a tree of
    containers first (that cost 75 µs a message, a twentieth of the listener's CPU): the same
    fields of the message's MSH, read by python-hl7 in the same order (a field it cannot read
    fails here as it fails there), python-hl7's own control ID, its clock (UTC), its
    delimiters. ``test_hl7_parser`` holds it to ``create_ack``."""
    seps = message.separators
    field_sep, enc = str(msh(1)), str(msh(2))
    application, facility = str(msh(5)), str(msh(6))
    sender, sender_facility = str(msh(3)), str(msh(4))
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    trigger = str(msh(9)(1)(2))
    control_id = generate_message_control_id()
    processing, version = str(msh(11)), str(msh(12))
    control = str(msh(10))
    kind = seps[3].join(("ACK", trigger, "ACK"))
    head = seps[1].join(
        (
            application,
            facility,
            sender,
            sender_facility,
            now,
            "",
            kind,
            control_id,
            processing,
            version,
        )
    )
    msa = seps[1].join(("MSA", str(code), control))
    return f"MSH{field_sep}{enc}{field_sep}{head}{seps[0]}{msa}{seps[0]}"


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


def receive_many(raws: list[bytes], *, transport: str) -> list[bytes]:
    """Several messages in, their ACKs out, in order: the MLLP listener's group commit. Every
    message waiting on its connections is applied in one transaction, committed once, and
    only then answered; each message stays atomic (see ``handle_many``)."""
    outcomes = handle_many(raws, transport=transport)
    return [ack_for(raw, outcome) for raw, outcome in zip(raws, outcomes, strict=True)]


def handle_many(raws: list[bytes], *, transport: str) -> list[Outcome]:
    """Store and apply a batch in one transaction; the outcomes are those ``handle`` gives
    one by one, in order. If the batch as a whole fails (a database error, not a bad
    message), each message is taken again on its own so that one cannot hold up the rest;
    one that still fails is answered AE and kept, when it can be."""
    try:
        with transaction.atomic():
            return _Batch(transport).run(raws)
    except IntegrityError:
        # A message of the batch was stored meanwhile by another writer (the same message on
        # two connections): one by one, it is answered as a repeat.
        log.info("HL7 batch of %d met a message stored meanwhile; one by one", len(raws))
    except Exception:
        log.exception("HL7 batch of %d failed; taking the messages one by one", len(raws))
    outcomes = []
    for raw in raws:
        try:
            outcomes.append(handle(raw, transport=transport))
        except Exception as exc:
            log.exception("HL7 message failed")
            outcomes.append(_failed(raw, transport, exc))
    return outcomes


def _failed(raw: bytes, transport: str, exc: Exception) -> Outcome:
    reason = _("The message could not be stored: %(error)s") % {"error": exc}
    try:
        return _keep(raw, transport, "", "", "", "", MessageStatus.ERROR, "AE", reason)
    except Exception:
        raise exc from None  # the database is gone: no ACK; the sender sends it again


@dataclass
class _Plain:
    """A message whose results are new (they correct nothing): stored in bulk. ``opens``: one
    of its results opens a finding, opened once the results are stored."""

    index: int
    raw: bytes
    message: hl7.Message
    codec: str
    key: tuple[str, str, str]
    entries: list[ResultEntry]
    opens: bool = False


def _accessions(message: hl7.Message) -> set[str]:
    """The specimen (accession) numbers of a message's OBR segments, as ``results_of`` reads
    them."""
    found = {_f(seg, 3) or _f(seg, 2) for seg in message if str(seg[0]) == "OBR"}
    found.discard("")
    return found


class _Batch:
    """One transaction's worth of messages. New results (nearly all: a new specimen) are
    collected and written in bulk, and the findings some of them open are opened right after,
    in the messages' order; a message that corrects an earlier result, repeats one in this
    batch or is bad goes through ``_handle`` on its own, in a savepoint, after the ones before
    it are written: the outcome and the data are those of one-by-one handling, in the same
    order."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.pending: list[_Plain] = []
        self.applied: dict[tuple[str, str], HL7Message] = {}
        self.outcomes: list[Outcome | None] = []
        self.wrote = False  # whether this transaction has written anything yet

    def run(self, raws: list[bytes]) -> list[Outcome]:
        from qloop.clinical.actions import prepare_result

        self.outcomes = [None] * len(raws)
        ready: list[tuple[int, bytes, hl7.Message, str, tuple[str, str, str]]] = []
        for i, raw in enumerate(raws):
            try:
                message, codec = _parse(raw)
                key = _key(message)
            except Refused as exc:
                self.outcomes[i] = _keep(
                    raw, self.transport, "", "", "", "", MessageStatus.REJECTED, "AR", str(exc)
                )
                self.wrote = True
                continue
            ready.append((i, raw, message, codec, key))
        # Two look-ups that need no answer of each other: one wait on PostgreSQL.
        with sent_together():
            applied = self._send_already_applied([key for *_rest, key in ready])
            accessions = self._send_accessions_stored(ready)
        done, stored = applied(), accessions()
        seen: set[str] = set()  # the specimens of the messages before, in this batch
        for i, raw, message, codec, key in ready:
            sender, control_id, kind = key
            entries: list[ResultEntry] | None = None
            opens = False
            if control_id and kind == "ORU^R01" and (sender, control_id) not in done:
                register = _register_for(_f(message.segment("MSH"), 3))
                built = self._plain_entries(message, register, prepare_result)
                if built is not None:
                    entries, opens = built
            if entries is not None:
                own = [(e.register_id, e.accession, e.test_code) for e in entries if e.accession]
                if (
                    len(set(own)) < len(own)
                    or any(mark in stored for mark in own)
                    or any(accession in seen for _r, accession, _t in own)
                ):
                    entries = None  # a correction (or maybe one): one by one
            seen |= _accessions(message)
            if (sender, control_id) in self.applied or any(
                p.key[:2] == (sender, control_id) for p in self.pending
            ):
                entries = None  # the same message twice in one batch: the second is a repeat
            if entries is not None:
                self.pending.append(_Plain(i, raw, message, codec, key, entries, opens))
                continue
            if (sender, control_id) in done:
                outcome = Outcome(
                    "AA", control_id=control_id, message=done[(sender, control_id)], duplicate=True
                )
            else:
                self._flush()
                outcome = self._one(raw, message, codec, key)
            outcome.parsed, outcome.codec = message, codec
            self.outcomes[i] = outcome
        self._flush()
        outcomes = [o for o in self.outcomes if o is not None]
        if len(outcomes) != len(raws):
            raise RuntimeError("an HL7 message of the batch was left without an outcome")
        return outcomes

    def _send_already_applied(
        self, keys: list[tuple[str, str, str]]
    ) -> Callable[[], dict[tuple[str, str], Any]]:
        """The messages of these keys applied before, by (sender, MSH-10): on PostgreSQL the
        look-up is sent now and read by the function returned (``qloop.together``)."""
        controls = {control for _s, control, _k in keys if control}
        if not controls:
            return dict
        wanted = {(sender, control) for sender, control, _k in keys}
        if connection.vendor != "postgresql":
            return lambda: self._already_applied(wanted, controls)
        # One index look-up per (sender, MSH-10). With ``control_id IN (…)`` alone PostgreSQL
        # read the whole unique index at every batch, and even with the sender too it filtered
        # all the sender's rows while the table had no statistics yet.
        pairs = sorted(wanted)
        sql = (
            "SELECT m.id FROM unnest(%s::text[], %s::text[]) AS k(sender, control_id) "  # noqa: S608
            f"JOIN {HL7Message._meta.db_table} m ON m.sender = k.sender "
            "AND m.control_id = k.control_id WHERE m.status = %s"
        )
        cursor = connection.cursor()
        try:
            cursor.execute(
                sql, [[p[0] for p in pairs], [p[1] for p in pairs], MessageStatus.APPLIED]
            )
        except BaseException:
            cursor.close()
            raise

        def found() -> dict[tuple[str, str], Any]:
            with cursor:
                ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return {}
            rows = HL7Message.objects.filter(pk__in=ids).defer("raw")
            return {(m.sender, m.control_id): m for m in rows if (m.sender, m.control_id) in wanted}

        return found

    @staticmethod
    def _already_applied(
        wanted: set[tuple[str, str]], controls: set[str]
    ) -> dict[tuple[str, str], Any]:
        """SQLite's look-up of ``_send_already_applied``."""
        found = HL7Message.objects.filter(
            status=MessageStatus.APPLIED,
            sender__in={sender for sender, _c in wanted},
            control_id__in=controls,
        ).defer("raw")
        return {(m.sender, m.control_id): m for m in found if (m.sender, m.control_id) in wanted}

    @staticmethod
    def _send_accessions_stored(ready: list[Any]) -> Callable[[], set[tuple[int, str, str]]]:
        """Specimens of this batch already in a register (their results are corrections): the
        look-up is sent now, the function returned reads it (``qloop.together``)."""
        wanted: set[str] = set()
        for _i, _raw, message, _codec, _key in ready:
            wanted |= _accessions(message)
        if not wanted:
            return set
        # Written out: the ORM's building of this one query cost more CPU than storing a
        # plain result (a third of a millisecond per batch; a batch is often one message).
        meta = ResultEntry._meta
        columns = [
            str(getattr(meta.get_field(name), "column", name))
            for name in ("register", "accession", "test_code")
        ]
        sql = (
            f"SELECT {', '.join(columns)} FROM {meta.db_table} "  # noqa: S608
            f"WHERE {columns[1]} IN ({', '.join(['%s'] * len(wanted))})"
        )
        cursor = connection.cursor()
        try:
            cursor.execute(sql, sorted(wanted))
        except BaseException:
            cursor.close()
            raise

        def stored() -> set[tuple[int, str, str]]:
            with cursor:
                return {(int(r), str(a), str(t)) for r, a, t in cursor.fetchall()}

        return stored

    @staticmethod
    def _plain_entries(
        message: hl7.Message, register: ClinicalRegister | None, prepare: Any
    ) -> tuple[list[ResultEntry], bool] | None:
        """The message's results, built and checked, and whether one of them opens a finding;
        None when one cannot be stored (an error to answer): that message is handled on its
        own."""
        if register is None:
            return None
        try:
            with override(settings.LANGUAGE_CODE):
                built = [
                    prepare(_known(data), register=register, source=EntrySource.HL7)
                    for data in results_of(message)
                ]
        except ValidationError:
            return None
        return [entry for entry, _found in built], any(found for _entry, found in built)

    def _one(
        self, raw: bytes, message: hl7.Message, codec: str, key: tuple[str, str, str]
    ) -> Outcome:
        outcome = _handle(raw, message, codec, key, transport=self.transport, replay_of=None)
        self.wrote = True
        if outcome.code == "AA" and outcome.message is not None:
            self.applied[key[:2]] = outcome.message  # type: ignore[index]
        return outcome

    def _flush(self) -> None:
        """Write the messages collected so far, then open the findings of their results, as
        ``register_result`` opens them, message after message. If this fails (the same
        message stored meanwhile by another writer; a finding that cannot be opened), each
        goes one by one: after a savepoint when the batch wrote something before or a finding
        is to be opened, else the whole batch does (``handle_many``), which saves the
        savepoint's two statements in the usual batch."""
        from qloop.clinical.actions import (
            open_findings,
            register_plain_results,
            send_result_numbers,
        )
        from qloop.inserts import send_many

        pending, self.pending = self.pending, []
        if not pending:
            return
        opens = any(p.opens for p in pending)
        savepoint, self.wrote = self.wrote or opens, True
        entries = [e for p in pending for e in p.entries]
        try:
            with transaction.atomic(savepoint=savepoint):
                # The messages' insert and the entries' numbers need no answer of each other:
                # on PostgreSQL they are sent together (one wait, not two).
                with sent_together():
                    messages_stored = send_many(
                        [
                            HL7Message(
                                sender=p.key[0],
                                control_id=p.key[1],
                                message_type=p.key[2],
                                transport=self.transport,
                                raw=p.raw,
                                charset=p.codec,
                                status=MessageStatus.APPLIED,
                                ack_code="AA",
                                entries=len(p.entries),
                            )
                            for p in pending
                        ]
                    )
                    numbered = send_result_numbers(entries)
                messages = messages_stored()
                numbered()
                for p, msg in zip(pending, messages, strict=True):
                    for entry in p.entries:
                        entry.message = msg
                register_plain_results(entries, numbered=True)
                if opens:
                    with override(settings.LANGUAGE_CODE):
                        for p in pending:
                            for entry in p.entries if p.opens else ():
                                open_findings(entry, actor=None)
        except Exception as exc:
            if not savepoint:
                raise
            if not isinstance(exc, IntegrityError):
                log.warning("HL7 findings not opened in bulk (%s); one by one", exc)
            for p in pending:
                outcome = self._one(p.raw, p.message, p.codec, p.key)
                outcome.parsed, outcome.codec = p.message, p.codec
                self.outcomes[p.index] = outcome
            return
        for p, msg in zip(pending, messages, strict=True):
            self.applied[p.key[:2]] = msg
            outcome = Outcome("AA", control_id=p.key[1], message=msg, entries=p.entries)
            outcome.parsed, outcome.codec = p.message, p.codec
            self.outcomes[p.index] = outcome


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
