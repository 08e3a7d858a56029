"""Every write to the register goes through these functions (house style: Zulip's actions).

Each runs in one transaction, checks permission and state, changes the rows, and writes the
event that records the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop import inputs, inserts
from qloop.cases import access, counts, similar_index
from qloop.cases.choices import Channel, FeedbackType, Severity
from qloop.cases.extra import active_category, clean_extra
from qloop.cases.kinds import KINDS, KindSpec
from qloop.cases.models import (
    Attachment,
    Case,
    Comment,
    Contact,
    Event,
    FeedbackDetail,
    ProductProblem,
)
from qloop.cases.uploads import CheckedImage, check_photo, new_token
from qloop.org import refdata
from qloop.org.models import Department, Organisation
from qloop.org.models import Sequence as NumberSequence
from qloop.process import clocks
from qloop.process.definitions import process_for
from qloop.process.models import ClockName

if TYPE_CHECKING:
    from qloop.org.models import User


@dataclass
class ContactData:
    name: str
    gender: str = ""
    phone: str = ""
    email: str = ""
    qq: str = ""
    organisation: str = ""


@dataclass
class ProductData:
    specification: str = ""
    model: str = ""
    quantity: int | None = None
    serial_number: str = ""


@dataclass
class Registration:
    """What a person tells us when a case is registered (R1.2)."""

    kind: str
    channel: str
    contact: ContactData
    symptom: str
    received_at: dt.datetime | None = None
    product: ProductData = field(default_factory=ProductData)
    current_status: str = ""
    title: str = ""
    severity: str = Severity.MINOR
    category_code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # A contact the server already knows for this case (the feedback a complaint is raised
    # from, a survey's respondent); never taken from a request: a returning contact is matched
    # on the server by phone or e-mail among the contacts the registering person may see.
    known_contact: Contact | None = None
    # Feedback only (R2.4, R2.5): complaint, opinion, suggestion, … A survey's feedback is an
    # opinion unless it says otherwise; other feedback may be classified later.
    feedback_type: str = ""
    # The fields of the kind's own record (a drug problem, an ADR report …), checked by the
    # kind's ``clean_detail`` and written by its ``create_detail`` (qloop.cases.kinds).
    detail: dict[str, Any] = field(default_factory=dict)


def next_number(kind: str, year: int) -> str:
    spec = KINDS[kind]
    value = NumberSequence.next_value(f"{spec.prefix}-{year}")
    return f"{spec.prefix}-{year}-{value:06d}"


def _record(
    case: Case,
    actor: User | None,
    verb: str,
    *,
    changes: list[dict[str, Any]] | None = None,
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    return Event.objects.create(
        case=case, actor=actor, verb=verb, changes=changes or [], comment=comment, data=data or {}
    )


# The choices' values, each list made once: ``Channel.values`` builds it anew on every read.
_CHANNELS = frozenset(Channel.values)
_SEVERITIES = frozenset(Severity.values)
_FEEDBACK_TYPES = frozenset(FeedbackType.values)


def _validate_registration(reg: Registration, photos: Sequence[UploadedFile]) -> dict[str, Any]:
    """Check everything before anything is written; errors are keyed by field path."""
    # First, and alone: a control character could break the look-ups below (NUL on PostgreSQL).
    inputs.check_texts(
        {
            **{f"contact.{k}": v for k, v in vars(reg.contact).items()},
            **{f"product.{k}": v for k, v in vars(reg.product).items()},
            "symptom": reg.symptom,
            "current_status": reg.current_status,
            "title": reg.title,
            "category": reg.category_code,
            "feedback_type": reg.feedback_type,
            **{f"extra.{k}": [k, v] for k, v in reg.extra.items()},
        }
    )
    errors: dict[str, list[Any]] = {}
    spec = KINDS.get(reg.kind)
    if spec is None:
        errors["kind"] = [_("Unknown kind of case.")]
    elif spec.profile not in refdata.cached("profiles", lambda: Organisation.current().profiles):
        errors["kind"] = [_("This organisation does not register this kind of case.")]
    if reg.channel not in _CHANNELS:
        errors["channel"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(Channel.values)}
        ]
    if reg.severity not in _SEVERITIES:
        errors["severity"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(Severity.values)}
        ]
    c = reg.contact
    if spec is None or spec.has_contact:
        errors.update(_contact_errors(c.name, c.phone, c.email, c.qq))
    if spec is None or spec.product_problem:
        if not reg.symptom.strip():
            errors["symptom"] = [_("Describe the problem.")]
    elif reg.symptom.strip() or reg.current_status.strip() or any(vars(reg.product).values()):
        errors["product"] = [_("This kind of case has no product problem; use its own fields.")]
    if reg.received_at is not None:
        errors.update(_received_at_errors(reg.received_at))
    if reg.product.quantity is not None and reg.product.quantity < 0:
        errors["product.quantity"] = [_("Enter a quantity of zero or more.")]
    category = None
    if reg.category_code:
        category = active_category(reg.category_code)
        if category is None:
            errors["category"] = [_("There is no such category.")]
    feedback_type = _feedback_type(reg)
    # Not given is "not classified yet" (older clients, imports); the web form asks for it.
    if feedback_type and (reg.kind != "feedback" or feedback_type not in _FEEDBACK_TYPES):
        errors["feedback_type"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(FeedbackType.values)}
        ]
    if len(photos) > settings.QLOOP_MAX_PHOTOS:
        errors["photos"] = [_("At most %(n)d photos.") % {"n": settings.QLOOP_MAX_PHOTOS}]
    checked = []
    for photo in photos:
        try:
            checked.append(check_photo(photo))
        except ValidationError as exc:
            errors.setdefault("photos", []).extend(exc.messages)
    extra: dict[str, Any] = {}
    detail: dict[str, Any] = {}
    if spec is not None:
        try:
            extra = clean_extra(reg.kind, reg.extra)
        except ValidationError as exc:
            for code, messages in exc.message_dict.items():
                errors[f"extra.{code}"] = messages
        try:
            detail = _clean_detail(spec, reg.detail)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                errors["detail"] = exc.messages
            for key, messages in getattr(exc, "message_dict", {}).items():
                errors[f"detail.{key}" if key != NON_FIELD_ERRORS else "detail"] = messages
    # A title from the detail only once the detail is known to be good.
    titled = bool(reg.title.strip()) or spec is None or spec.product_problem
    detail_ok = not any(key.startswith("detail") for key in errors)
    if not titled and detail_ok and not (spec and spec.title_from and spec.title_from(detail)):
        errors["title"] = [_("Give the case a title.")]
    if errors:
        raise ValidationError(errors)
    return {
        "category": category,
        "photos": checked,
        "extra": extra,
        "feedback_type": feedback_type,
        "detail": detail,
    }


def _clean_detail(spec: KindSpec, given: dict[str, Any]) -> dict[str, Any]:
    if spec.clean_detail is not None:
        return spec.clean_detail(dict(given or {}))
    if given:
        raise ValidationError(_("This kind of case takes no further details."))
    return {}


def _feedback_type(reg: Registration) -> str:
    if reg.kind == "feedback" and not reg.feedback_type and reg.channel == Channel.SURVEY:
        return FeedbackType.OPINION
    return reg.feedback_type


def _find_or_create_contact(
    data: ContactData, known: Contact | None, actor: User | None
) -> tuple[Contact, list[dict[str, Any]]]:
    """The returning contact, or a new one, and what the registration changes on it.

    A returning contact is the one with the same name and the same phone or e-mail among the
    contacts ``actor`` may see (issue 9.1): anyone else's gets a contact of its own, so no one
    reads or rewrites a stranger's details by typing their phone number. The changes are
    applied here and recorded on every case of the contact by ``_record_contact_change``.
    """
    values = {k: (v or "").strip() for k, v in vars(data).items()}
    contact = known
    if contact is None and (values["phone"] or values["email"]):
        # Locked as it is found: the row read is the row changed (no second read of it).
        contact = access.returning_contact(actor, values["name"], values["phone"], values["email"])
    elif contact is not None:
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact is None:
        return Contact.objects.create(**values), []
    diff = _contact_diff(contact, {k: v for k, v in values.items() if v})
    if diff:
        contact.save(update_fields=[c["field"][8:] for c in diff])
    return contact, diff


def _contact_diff(contact: Contact, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Set ``values`` on ``contact`` (unsaved); each change with its old and new value."""
    diff = []
    for key, new in values.items():
        old = getattr(contact, key)
        if old == new:
            continue
        setattr(contact, key, new)
        diff.append(
            {
                "field": f"contact.{key}",
                "label": str(Contact._meta.get_field(key).verbose_name),  # type: ignore[union-attr]
                "old": _display(old),
                "new": _display(new),
            }
        )
    return diff


def _record_contact_change(
    contact: Contact,
    diff: list[dict[str, Any]],
    *,
    actor: User | None,
    via: Case,
    skip: Case | None = None,
    reason: str = "",
    at: dt.datetime | None = None,
) -> None:
    """A change to a contact shared by several cases is recorded on each of them (old and new
    values, and the case it was made through), and their search text follows (issue 9.1)."""
    if not diff:
        return
    at = at or timezone.now()  # one moment for the one change, on every case
    cases = Case.objects.filter(contact=contact).select_related("contact", "product")
    if skip is not None:
        cases = cases.exclude(pk=skip.pk)
    for other in cases:
        # One at a time, through create(): every event goes the way of the trail.
        Event.objects.create(
            case=other,
            actor=actor,
            verb="contact_changed",
            at=at,
            changes=diff,
            comment=reason,
            data={"contact": contact.pk, "via": via.number},
        )
        other.refresh_search()
        Case.objects.filter(pk=other.pk).update(
            search_text=other.search_text, search_tokens=other.search_tokens
        )
        similar_index.index_case(other.pk)


def register_case(
    reg: Registration,
    *,
    actor: User | None,
    photos: Sequence[UploadedFile] = (),
    registered_at: dt.datetime | None = None,
    source_case: Case | None = None,
    number: str = "",
    start_clocks: bool = True,
) -> Case:
    """Register a case (R1.1, R1.2): it lands in the intake department's queue, numbered.

    ``registered_at`` records a registration made earlier (demo data, imports of history);
    ``source_case`` the feedback case a complaint was raised from (R2.8). An import of
    history (``qloop.cases.history``) keeps the ``number`` it was given (checked there) and
    starts no clocks: its deadlines passed long ago.
    """
    if reg.received_at is not None and timezone.is_naive(reg.received_at):
        # A time without an offset (an API client's "2026-11-20T09:30") is local wall time.
        reg = replace(reg, received_at=timezone.make_aware(reg.received_at))
    rule = getattr(KINDS.get(reg.kind), "may_register", None)
    if rule is not None and actor is not None and not rule(actor):
        raise PermissionDenied
    checked = _validate_registration(reg, photos)
    spec = KINDS[reg.kind]
    department = (
        spec.department_for(checked["detail"]) if spec.department_for else None
    ) or Department.intake_for(reg.kind)
    if department is None:
        raise ValidationError(
            {"kind": [_("No department is set up to receive this kind of case.")]}
        )
    received_at = reg.received_at or timezone.now()
    with _photo_files(checked["photos"], actor) as attachments, transaction.atomic():
        contact, contact_diff = (
            _find_or_create_contact(reg.contact, reg.known_contact, actor)
            if spec.has_contact
            else (None, [])
        )
        number = number or next_number(reg.kind, timezone.localtime(received_at).year)
        symptom = reg.symptom.strip()
        if spec.product_problem:
            title = reg.title.strip() or " ".join(
                p for p in [reg.product.model.strip(), symptom.splitlines()[0][:60]] if p
            )
        else:
            title = reg.title.strip() or (
                spec.title_from(checked["detail"]) if spec.title_from else ""
            )
        case = Case(
            number=number,
            kind=reg.kind,
            profile=KINDS[reg.kind].profile,
            title=title[:200],
            received_at=received_at,
            channel=reg.channel,
            contact=contact,
            category=checked["category"],
            severity=reg.severity,
            department=department,
            registered_by=actor,
            state=process_for(reg.kind).initial,
            process_version=process_for(reg.kind).version,
            extra=checked["extra"],
            source_case=source_case,
            created_at=registered_at or timezone.now(),
            updated_at=registered_at or timezone.now(),
        )
        product = None
        if spec.product_problem:
            # Held by the unsaved case (its search text reads it); saved after the case.
            case.product = product = ProductProblem(
                specification=reg.product.specification.strip(),
                model=reg.product.model.strip(),
                quantity=reg.product.quantity,
                serial_number=reg.product.serial_number.strip(),
                symptom=symptom,
                current_status=reg.current_status.strip(),
            )
        # A new case has no clocks but these: they are planned before the case is written, so
        # its row goes in once with its deadline (no update, no read back of the clocks).
        process = process_for(reg.kind)
        started = [
            clocks.plan_clock(case, name, started_at=received_at)
            for name in (process.clocks_on_registration if start_clocks else ())
        ]
        case.next_due_at, case.deadline_state = clocks.next_due(
            [(c.state, c.due_at) for c in started if c.state in clocks.OPEN]
        )
        # Its search columns too, unless the kind searches its own record, written below.
        search_now = spec.search_parts is None
        if search_now:
            case.refresh_search()
        with counts.together():  # the case's and its product's counts in one statement
            case.save(force_insert=True)
            if product is not None:
                product.save(force_insert=True, case_key=counts.key_of(case))
        if reg.kind == "feedback":
            FeedbackDetail.objects.create(case=case, feedback_type=checked["feedback_type"])
        elif spec.create_detail is not None:
            spec.create_detail(case, checked["detail"], actor)
        for attachment in attachments:
            attachment.case = case
            attachment.save()
        for clock in started:
            inserts.save_new(clock)
        if not search_now:
            case.refresh_search()
            Case.objects.filter(pk=case.pk).update(
                search_text=case.search_text, search_tokens=case.search_tokens
            )
        # The similar-case search's text now; its bigram statistics by the worker after commit.
        similar_index.index_new_case(case, reg.product.model if spec.product_problem else "")
        Event.objects.create(
            case=case,
            actor=actor,
            verb="registered",
            at=registered_at or timezone.now(),
            data={
                "department": department.code,
                "channel": reg.channel,
                "photos": len(checked["photos"]),
                **({"source": source_case.number} if source_case else {}),
            },
        )
        if contact is not None:
            _record_contact_change(contact, contact_diff, actor=actor, via=case, at=registered_at)
        # An import of history leaves the recurring look to the daily job (one look, not one
        # per row).
        recurring = spec.group_by is not None and start_clocks
        if recurring or reg.kind in similar_index.SIMILAR_KINDS:
            transaction.on_commit(partial(_after_commit, case.pk, recurring))
    return case


def _after_commit(case_id: int, look_for_recurring: bool) -> None:
    """Once the case is stored, one task for the worker: the similar-case statistics and,
    for the kinds that have them, whether it repeats a problem (issue 13)."""
    from qloop.cases.jobs import after_registration

    after_registration(case_id, look_for_recurring)


@contextmanager
def _photo_files(photos: Sequence[CheckedImage], actor: User | None) -> Iterator[list[Attachment]]:
    """Write each photo and its thumbnail to storage before the transaction (writing ten photos
    must not hold the numbering lock), as unsaved attachments for the caller to save; if the
    caller's block fails (its transaction rolled back), the files are removed again."""
    written: list[Attachment] = []
    try:
        for photo in photos:
            att = Attachment(
                token=new_token(),
                original_name=photo.name,
                content_type=photo.content_type,
                extension=photo.extension,
                size=photo.size,
                width=photo.width,
                height=photo.height,
                uploaded_by=actor,
            )
            written.append(att)
            att.file.save("photo", photo.upload, save=False)
            att.thumbnail.save("thumb", photo.thumbnail, save=False)
        yield written
    except BaseException:
        for att in written:
            att.file.delete(save=False)
            att.thumbnail.delete(save=False)
        raise


def add_photos(case: Case, photos: Sequence[UploadedFile], *, actor: User) -> list[Attachment]:
    access.check_can_edit(actor, case)
    existing = case.attachments.filter(archived_at__isnull=True).count()
    if existing + len(photos) > settings.QLOOP_MAX_PHOTOS:
        raise ValidationError(
            {"photos": [_("At most %(n)d photos.") % {"n": settings.QLOOP_MAX_PHOTOS}]}
        )
    errors: list[str] = []
    checked = []
    for photo in photos:
        try:
            checked.append(check_photo(photo))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"photos": errors})
    with _photo_files(checked, actor) as stored, transaction.atomic():
        for attachment in stored:
            attachment.case = case
            attachment.save()
        _touch(case)
        _record(case, actor, "photos_added", data={"files": [a.original_name for a in stored]})
    return stored


def add_comment(case: Case, body: str, *, actor: User) -> Comment:
    # Only on a case the person may see, whoever calls (issue 9.4).
    access.check_can_see(actor, case)
    inputs.check_texts({"body": body})
    body = body.strip()
    if not body:
        raise ValidationError({"body": [_("Write a comment first.")]})
    if case.is_archived:
        raise PermissionDenied
    with transaction.atomic():
        comment = Comment.objects.create(case=case, author=actor, body=body)
        _touch(case)
        _record(case, actor, "commented", comment=body)
    return comment


# The fields a person may change after registration, with where they live.
EDITABLE_CASE_FIELDS = ("title", "channel", "received_at", "severity", "category")
EDITABLE_PRODUCT_FIELDS = (
    "specification",
    "model",
    "quantity",
    "serial_number",
    "symptom",
    "current_status",
)
EDITABLE_CONTACT_FIELDS = ("name", "gender", "phone", "email", "qq", "organisation")


def _display(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if hasattr(value, "pk"):
        return str(value)
    return value


def update_case(case: Case, changes: dict[str, Any], *, actor: User, reason: str = "") -> Case:
    """Change registration fields; one event lists every field with its old and new value.

    ``changes`` keys: case fields, ``product.<field>``, ``contact.<field>``, ``extra`` (a dict).
    """
    access.check_can_edit(actor, case)
    inputs.check_texts({**changes, "reason": reason})
    if isinstance(changes.get("received_at"), dt.datetime):
        # Before the change is shown on the timeline: a year 1 cannot be turned into local time.
        out_of_range = _received_at_errors(changes["received_at"])
        if out_of_range:
            raise ValidationError(out_of_range)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        product = ProductProblem.objects.filter(case=case).first()
        contact = case.contact
        diff: list[dict[str, Any]] = []

        def apply(obj: Any, name: str, new: Any, label_key: str) -> None:
            old = getattr(obj, name)
            if old == new:
                return
            setattr(obj, name, new)
            verbose = obj._meta.get_field(name).verbose_name
            diff.append(
                {
                    "field": label_key,
                    "label": str(verbose),
                    "old": _display(old),
                    "new": _display(new),
                }
            )

        for key, value in changes.items():
            if key in EDITABLE_CASE_FIELDS:
                apply(case, key, value, key)
            elif key.startswith("product.") and key[8:] in EDITABLE_PRODUCT_FIELDS and product:
                apply(product, key[8:], value, key)
            elif key.startswith("contact.") and key[8:] in EDITABLE_CONTACT_FIELDS and contact:
                apply(contact, key[8:], value, key)
            elif key == "extra":
                cleaned = clean_extra(case.kind, value)
                for code in sorted(set(cleaned) | set(case.extra)):
                    if cleaned.get(code) != case.extra.get(code):
                        diff.append(
                            {
                                "field": f"extra.{code}",
                                "label": code,
                                "old": case.extra.get(code, ""),
                                "new": cleaned.get(code, ""),
                            }
                        )
                case.extra = cleaned
            else:
                raise ValidationError({key: [_("This field cannot be changed.")]})
        _check_edit(
            case, product, contact if any(k.startswith("contact.") for k in changes) else None
        )
        if not diff:
            return case
        if product is not None:
            product.save()
        if contact is not None:
            contact.save()
            # The contact is shared by a returning customer's cases: the change is on each
            # of their timelines, and they all stay findable (issue 9.1).
            _record_contact_change(
                contact,
                [c for c in diff if c["field"].startswith("contact.")],
                actor=actor,
                via=case,
                skip=case,
                reason=reason.strip(),
            )
        case.refresh_search()
        case.updated_at = timezone.now()
        case.save()
        similar_index.index_case(case.pk)
        if any(c["field"] == "received_at" for c in diff):
            _move_answer_clock(case)
        _record(case, actor, "changed", changes=diff, comment=reason.strip())
    return case


def _move_answer_clock(case: Case) -> None:
    """A corrected time received moves a still-running answer deadline with it (R2.3); a
    deadline already met or breached stays as it was recorded."""
    clocks.restart_clock(case, ClockName.CUSTOMER_ANSWER, started_at=case.received_at)


def _contact_errors(name: str, phone: str, email: str, qq: str) -> dict[str, list[Any]]:
    """The rules for a contact (R1.2), the same at registration and on every edit."""
    errors: dict[str, list[Any]] = {}
    if not name.strip():
        errors["contact.name"] = [_("Enter the contact's name.")]
    if not (phone.strip() or email.strip() or qq.strip()):
        errors["contact.phone"] = [
            _("Enter at least a phone number, an e-mail address or a QQ number.")
        ]
    if email.strip():
        try:
            validate_email(email.strip())
        except ValidationError:
            errors["contact.email"] = [_("Enter a valid email address.")]
    if qq.strip() and not (qq.strip().isdigit() and 5 <= len(qq.strip()) <= 12):
        errors["contact.qq"] = [_("A QQ number is 5 to 12 digits.")]
    return errors


def _received_at_errors(received_at: dt.datetime) -> dict[str, list[Any]]:
    """From 2000-01-01 to now (a few minutes' grace for a clock that runs fast): a year 1
    would be numbered QC-1-000001, and a year 9999 cannot be turned into local time."""
    earliest = dt.datetime.combine(
        inputs.EARLIEST_DATE, dt.time.min, tzinfo=timezone.get_current_timezone()
    )
    if received_at < earliest:
        return {
            "received_at": [
                _("The time received must be on or after %(date)s.")
                % {"date": inputs.EARLIEST_DATE.isoformat()}
            ]
        }
    if received_at > timezone.now() + dt.timedelta(minutes=5):
        return {"received_at": [_("The time received cannot be in the future.")]}
    return {}


def _check_edit(case: Case, product: ProductProblem | None, contact: Contact | None) -> None:
    """Hold an edit to the rules of registration (R1.2), with the same messages."""
    errors: dict[str, list[Any]] = {}
    for name, choices in (("channel", Channel.values), ("severity", Severity.values)):
        if getattr(case, name) not in choices:
            errors[name] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}]
    errors.update(_received_at_errors(case.received_at))
    if product is not None and product.quantity is not None and product.quantity < 0:
        errors["product.quantity"] = [_("Enter a quantity of zero or more.")]
    if product is not None and not product.symptom.strip():
        errors["product.symptom"] = [_("Describe the problem.")]
    if contact is not None:
        errors.update(_contact_errors(contact.name, contact.phone, contact.email, contact.qq))
    if errors:
        raise ValidationError(errors)


def archive_case(case: Case, reason: str, *, actor: User) -> Case:
    """Archive instead of delete: the case leaves the queues and stays in the register."""
    inputs.check_texts({"reason": reason})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Give a reason for archiving.")]})
    access.check_can_see(actor, case)
    if not access.can_archive(actor, case):
        raise PermissionDenied
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.is_archived:
            return case
        now = timezone.now()
        case.archived_at, case.archived_by, case.archive_reason = now, actor, reason
        case.updated_at = now
        case.save(update_fields=["archived_at", "archived_by", "archive_reason", "updated_at"])
        spec = KINDS.get(case.kind)
        if spec is not None and spec.on_archive is not None:
            spec.on_archive(case)
        # An archived case is off every queue: its deadlines stop, so no sweep alerts on it.
        for name in case.clocks.values_list("name", flat=True).distinct():
            clocks.stop_clock(case, name, now=now)
        _record(case, actor, "archived", comment=reason)
    return case


def _touch(case: Case) -> None:
    case.updated_at = timezone.now()
    Case.objects.filter(pk=case.pk).update(updated_at=case.updated_at)
