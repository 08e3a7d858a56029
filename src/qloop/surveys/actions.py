"""Every write to surveys goes through these functions: build questionnaires, run campaigns,
record answers (by personal link, public link or paper) and follow up low scores (R2.5 c–R2.7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.cases.models import Contact
from qloop.surveys.access import check_manager
from qloop.surveys.defaults import TEMPLATES
from qloop.surveys.models import (
    CHOICE_TYPES,
    SCALES,
    Answer,
    Campaign,
    Invitation,
    Question,
    Questionnaire,
    QuestionType,
    Response,
    Section,
    Source,
)

if TYPE_CHECKING:
    from qloop.cases.models import Case
    from qloop.org.models import User

MAX_TEXT = 5000
LANGUAGES = ("zh-hans", "zh-hant", "en")


class AlreadyAnswered(Exception):
    """This personal link has been used; a second answer changes nothing."""


class CampaignClosed(Exception):
    """The campaign is not open for answers (not yet open, or closed)."""


# --- questionnaires ------------------------------------------------------------------------


@dataclass
class QuestionData:
    """What the builder sends for one question."""

    text: str
    type: str
    required: bool = True
    code: str = ""
    choices: list[str] = field(default_factory=list)
    text_en: str = ""
    text_zh_hant: str = ""


def _has_answers(questionnaire: Questionnaire) -> bool:
    return Answer.objects.filter(question__questionnaire=questionnaire).exists()


def create_questionnaire(title: str, *, intro: str = "", actor: User) -> Questionnaire:
    check_manager(actor)
    inputs.check_texts({"title": title, "intro": intro})
    if not title.strip():
        raise ValidationError({"title": [_("Enter a title.")]})
    return Questionnaire.objects.create(
        title=title.strip()[:200], intro=intro.strip(), created_by=actor
    )


def update_questionnaire(
    questionnaire: Questionnaire,
    *,
    title: str,
    intro: str = "",
    title_en: str = "",
    title_zh_hant: str = "",
    actor: User,
) -> Questionnaire:
    check_manager(actor)
    inputs.check_texts(
        {"title": title, "intro": intro, "title_en": title_en, "title_zh_hant": title_zh_hant}
    )
    if not title.strip():
        raise ValidationError({"title": [_("Enter a title.")]})
    questionnaire.title = title.strip()[:200]
    questionnaire.intro = intro.strip()
    questionnaire.title_en = title_en.strip()[:200]
    questionnaire.title_zh_hant = title_zh_hant.strip()[:200]
    questionnaire.save()
    return questionnaire


def add_section(questionnaire: Questionnaire, title: str, *, actor: User) -> Section:
    check_manager(actor)
    inputs.check_texts({"title": title})
    if not title.strip():
        raise ValidationError({"title": [_("Enter a title.")]})
    last = questionnaire.sections.aggregate(m=Max("order"))["m"]
    return Section.objects.create(
        questionnaire=questionnaire, title=title.strip()[:200], order=(last or 0) + 1
    )


def _clean_question(
    questionnaire: Questionnaire, data: QuestionData, *, instance: Question | None = None
) -> dict[str, Any]:
    inputs.check_texts(vars(data))
    errors: dict[str, list[str]] = {}
    text = data.text.strip()
    if not text:
        errors["text"] = [_("Enter the question.")]
    if data.type not in QuestionType.values:
        errors["type"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(QuestionType.values)}
        ]
    choices = [c.strip() for c in data.choices if c.strip()]
    if data.type in CHOICE_TYPES:
        if len(choices) < 2:
            errors["choices"] = [_("Give at least two options, one per line.")]
        elif len(set(choices)) != len(choices):
            errors["choices"] = [_("Each option may appear only once.")]
        elif len(choices) > 30:
            errors["choices"] = [_("At most %(n)d options.") % {"n": 30}]
    else:
        choices = []
    code = data.code.strip() or (instance.code if instance else "")
    if not code:
        code = f"q{questionnaire.questions.count() + 1}"
        while questionnaire.questions.filter(code=code).exists():
            code += "_"
    taken = questionnaire.questions.filter(code=code)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        errors["code"] = [_("Another question already has this code.")]
    # Answers are stored as scale values or option positions: their meaning must not move.
    if (
        instance is not None
        and (
            data.type != instance.type
            or (instance.type in CHOICE_TYPES and len(choices) != len(instance.choices))
        )
        and instance.answers.exists()
    ):
        errors["type"] = [
            _(
                "This question has answers: its type and number of options cannot change. "
                "Correct the wording, or add a new question."
            )
        ]
    if errors:
        raise ValidationError(errors)
    return {
        "code": code[:40],
        "text": text[:500],
        "type": data.type,
        "required": data.required,
        "choices": choices,
        "text_en": data.text_en.strip()[:500],
        "text_zh_hant": data.text_zh_hant.strip()[:500],
    }


def add_question(section: Section, data: QuestionData, *, actor: User) -> Question:
    check_manager(actor)
    questionnaire = section.questionnaire
    values = _clean_question(questionnaire, data)
    last = section.questions.aggregate(m=Max("order"))["m"]
    return Question.objects.create(
        questionnaire=questionnaire, section=section, order=(last or 0) + 1, **values
    )


def update_question(question: Question, data: QuestionData, *, actor: User) -> Question:
    check_manager(actor)
    values = _clean_question(question.questionnaire, data, instance=question)
    for key, value in values.items():
        setattr(question, key, value)
    question.save()
    return question


def delete_question(question: Question, *, actor: User) -> None:
    check_manager(actor)
    if question.answers.exists():
        raise ValidationError(
            _("This question has answers and cannot be removed; its results would be lost.")
        )
    question.delete()


def move_question(question: Question, offset: int, *, actor: User) -> None:
    """Swap a question with its neighbour in the section (offset −1 up, +1 down)."""
    check_manager(actor)
    with transaction.atomic():
        siblings = list(question.section.questions.select_for_update().order_by("order", "pk"))
        index = next(i for i, q in enumerate(siblings) if q.pk == question.pk)
        target = index + offset
        if 0 <= target < len(siblings):
            siblings[index], siblings[target] = siblings[target], siblings[index]
        for position, q in enumerate(siblings, start=1):
            if q.order != position:
                Question.objects.filter(pk=q.pk).update(order=position)


def _free_titles(title: str, title_hant: str, title_en: str) -> tuple[str, str, str]:
    """The template's titles, numbered "（2）", "（3）" … when a questionnaire already has them:
    two copies with one title cannot be told apart in the list or on a campaign (issue 12.18)."""
    taken = set(Questionnaire.objects.values_list("title", flat=True))
    if title not in taken:
        return title, title_hant, title_en
    n = 2
    while f"{title}（{n}）" in taken:
        n += 1
    return f"{title}（{n}）", f"{title_hant}（{n}）", f"{title_en} ({n})"


def create_from_template(code: str = "csat", *, actor: User | None) -> Questionnaire:
    """A fresh copy of a built-in questionnaire (the default 《顾客满意度调查表》)."""
    if actor is not None:
        check_manager(actor)
    spec = TEMPLATES.get(code)
    if spec is None:
        raise ValidationError({"template": [_("There is no such template.")]})
    with transaction.atomic():
        title, title_hant, title_en = _free_titles(*spec["title"])
        intro, intro_hant, intro_en = spec["intro"]
        questionnaire = Questionnaire.objects.create(
            title=title,
            title_zh_hant=title_hant,
            title_en=title_en,
            intro=intro,
            intro_zh_hant=intro_hant,
            intro_en=intro_en,
            template_code=code,
            created_by=actor,
        )
        for s_order, ((s_title, s_hant, s_en), items) in enumerate(spec["sections"], start=1):
            section = Section.objects.create(
                questionnaire=questionnaire,
                title=s_title,
                title_zh_hant=s_hant,
                title_en=s_en,
                order=s_order,
            )
            for q_order, (q_code, text, hant, en, q_type, required, choices) in enumerate(
                items, start=1
            ):
                Question.objects.create(
                    questionnaire=questionnaire,
                    section=section,
                    code=q_code,
                    text=text,
                    text_zh_hant=hant,
                    text_en=en,
                    type=q_type,
                    required=required,
                    order=q_order,
                    choices=choices[0] if choices else [],
                    choices_zh_hant=choices[1] if choices else [],
                    choices_en=choices[2] if choices else [],
                )
    return questionnaire


# --- campaigns -----------------------------------------------------------------------------


def create_campaign(
    questionnaire: Questionnaire,
    *,
    title: str,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    low_rating: int = 2,
    low_recommendation: int = 6,
    public_enabled: bool = True,
    actor: User,
) -> Campaign:
    check_manager(actor)
    inputs.check_texts({"title": title})
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Enter a title.")]
    for name, moment in (("opens_at", opens_at), ("closes_at", closes_at)):
        if moment is not None and not inputs.EARLIEST_DATE <= moment.date() <= inputs.LATEST_DATE:
            errors[name] = [inputs.date_range_message()]
    if not questionnaire.questions.exists():
        errors["questionnaire"] = [_("The questionnaire has no questions yet.")]
    opens_at = opens_at or timezone.now()
    if closes_at is not None and closes_at <= opens_at:
        errors["closes_at"] = [_("The closing date must be after the opening date.")]
    if not 1 <= low_rating <= 5:
        errors["low_rating"] = [
            _("Choose a value from %(low)d to %(high)d.") % {"low": 1, "high": 5}
        ]
    if not 0 <= low_recommendation <= 10:
        errors["low_recommendation"] = [
            _("Choose a value from %(low)d to %(high)d.") % {"low": 0, "high": 10}
        ]
    if errors:
        raise ValidationError(errors)
    return Campaign.objects.create(
        questionnaire=questionnaire,
        title=title.strip()[:200],
        opens_at=opens_at,
        closes_at=closes_at,
        low_rating=low_rating,
        low_recommendation=low_recommendation,
        public_enabled=public_enabled,
        created_by=actor,
    )


def close_campaign(campaign: Campaign, *, actor: User) -> Campaign:
    check_manager(actor)
    now = timezone.now()
    if campaign.closes_at is None or campaign.closes_at > now:
        campaign.closes_at = max(now, campaign.opens_at + dt.timedelta(seconds=1))
        campaign.save(update_fields=["closes_at"])
    return campaign


def invitation_link(base_url: str, invitation: Invitation) -> str:
    return base_url.rstrip("/") + reverse("survey-answer", args=[invitation.token])


def public_link(base_url: str, campaign: Campaign) -> str:
    return base_url.rstrip("/") + reverse("survey-public", args=[campaign.public_token])


def _queue(invitation: Invitation, *, kind: str, base_url: str) -> None:
    from qloop.notify.outbox import queue_email

    campaign = invitation.campaign
    link = invitation_link(base_url, invitation)
    language = invitation.language if invitation.language in LANGUAGES else "zh-hans"
    with translation.override(language):
        title = campaign.questionnaire.display_title
        if kind == "survey_reminder":
            subject = _("Reminder: %(title)s") % {"title": campaign.title}
            lead = _("We have not yet received your answer to our survey “%(title)s”.")
        else:
            subject = _("Please answer our survey: %(title)s") % {"title": campaign.title}
            lead = _(
                "We would like to know what you think of our products and service: “%(title)s”."
            )
        closing = ""
        if campaign.closes_at is not None:
            closing = _("The survey closes on %(date)s.") % {
                "date": timezone.localtime(campaign.closes_at).strftime("%Y-%m-%d")
            }
        body = "\n\n".join(
            p
            for p in [
                _("Dear %(name)s,") % {"name": invitation.contact.name},
                lead % {"title": title},
                _("Your personal link (it takes about three minutes): %(link)s") % {"link": link},
                closing,
                _("Thank you."),
            ]
            if p
        )
    queue_email(
        invitation.email,
        subject=subject,
        body=body,
        kind=kind,
        link=link,
        language=language,
        data={"campaign": campaign.pk, "invitation": invitation.pk},
    )


def invite_contacts(
    campaign: Campaign,
    contact_ids: Iterable[int],
    *,
    base_url: str,
    language: str = "zh-hans",
    actor: User,
) -> list[Invitation]:
    """Give each chosen contact a personal link; queue the invitation e-mail in the outbox,
    in the same transaction, for those with an e-mail address. The others' links (and QR
    codes) are copied into QQ or WeChat or printed by staff (issue 12.16, X6). Contacts
    already invited are skipped."""
    check_manager(actor)
    if campaign.closes_at is not None and campaign.closes_at <= timezone.now():
        raise CampaignClosed
    if language not in LANGUAGES:
        language = "zh-hans"
    ids = set(contact_ids)
    contacts = list(Contact.objects.filter(pk__in=ids).order_by("pk"))
    if not contacts:
        raise ValidationError({"contacts": [_("Choose at least one contact.")]})
    created = []
    with transaction.atomic():
        invited = set(
            Invitation.objects.filter(campaign=campaign, contact__in=contacts).values_list(
                "contact_id", flat=True
            )
        )
        for contact in contacts:
            if contact.pk in invited:
                continue
            invitation = Invitation.objects.create(
                campaign=campaign, contact=contact, email=contact.email, language=language
            )
            if invitation.email:
                _queue(invitation, kind="survey_invitation", base_url=base_url)
            created.append(invitation)
    return created


def remind_unanswered(campaign: Campaign, *, base_url: str, actor: User) -> int:
    """Queue a reminder to everyone invited by e-mail who has not answered yet (a link given
    by QQ or WeChat is reminded the same way, by staff)."""
    check_manager(actor)
    if not campaign.is_open():
        raise CampaignClosed
    now = timezone.now()
    with transaction.atomic():
        pending = list(
            Invitation.objects.select_for_update()
            .filter(campaign=campaign, answered_at__isnull=True)
            .exclude(email="")
            .select_related("contact", "campaign__questionnaire")
        )
        for invitation in pending:
            _queue(invitation, kind="survey_reminder", base_url=base_url)
        Invitation.objects.filter(pk__in=[i.pk for i in pending]).update(reminded_at=now)
        for invitation in pending:
            Invitation.objects.filter(pk=invitation.pk).update(reminders=invitation.reminders + 1)
    return len(pending)


# --- answers -------------------------------------------------------------------------------


@dataclass
class RespondentData:
    """Who answered, when the public or paper form says so (optional)."""

    name: str = ""
    phone: str = ""
    email: str = ""
    organisation: str = ""

    def given(self) -> bool:
        return bool(self.name.strip() or self.phone.strip() or self.email.strip())


def questions_of(campaign: Campaign) -> list[Question]:
    return list(
        Question.objects.filter(questionnaire_id=campaign.questionnaire_id).select_related(
            "section"
        )
    )


def clean_answers(
    questions: Sequence[Question], raw: Mapping[str, Sequence[str]]
) -> list[tuple[Question, list[int], str]]:
    """Check a filled-in form: each question's values (scale value or option positions) and
    text. Errors are keyed by question code; nothing is written."""
    errors: dict[str, list[str]] = {}
    cleaned: list[tuple[Question, list[int], str]] = []
    for question in questions:
        given = [v.strip() for v in raw.get(question.code, []) if v and v.strip()]
        if not given:
            if question.required:
                errors[question.code] = [_("Please answer this question.")]
            continue
        if question.type == QuestionType.TEXT:
            text = "\n".join(given)
            if len(text) > MAX_TEXT:
                errors[question.code] = [_("At most %(n)s characters.") % {"n": MAX_TEXT}]
                continue
            found = inputs.control_character(text)
            if found:
                errors[question.code] = [inputs.control_character_message(found)]
                continue
            cleaned.append((question, [], text))
            continue
        allowed: range = SCALES.get(question.type) or range(len(question.choices))
        try:
            values = sorted({int(v) for v in given})
        except ValueError:
            values = []
        if not values or any(v not in allowed for v in values):
            if question.type in SCALES:
                errors[question.code] = [
                    _("Choose a value from %(low)d to %(high)d.")
                    % {"low": allowed.start, "high": allowed.stop - 1}
                ]
            else:
                errors[question.code] = [_("Choose one of the options.")]
            continue
        if question.type != QuestionType.MULTIPLE and len(values) > 1:
            errors[question.code] = [_("Choose only one.")]
            continue
        cleaned.append((question, values, ""))
    if errors:
        raise ValidationError(errors)
    return cleaned


def _respondent_contact(data: RespondentData | None) -> Contact | None:
    if data is None or not data.given():
        return None
    inputs.check_texts({f"respondent.{k}": v for k, v in vars(data).items()})
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["respondent.name"] = [_("Enter your name, or leave your details empty.")]
    if not (data.phone.strip() or data.email.strip()):
        errors["respondent.phone"] = [_("Enter a phone number or an e-mail address.")]
    if data.email.strip():
        from django.core.validators import validate_email

        try:
            validate_email(data.email.strip())
        except ValidationError:
            errors["respondent.email"] = [_("Enter a valid email address.")]
    if errors:
        raise ValidationError(errors)
    lookup = Contact.objects.filter(name=data.name.strip())
    found = (lookup.filter(phone=data.phone.strip()).first() if data.phone.strip() else None) or (
        lookup.filter(email=data.email.strip()).first() if data.email.strip() else None
    )
    return found or Contact.objects.create(
        name=data.name.strip()[:100],
        phone=data.phone.strip()[:30],
        email=data.email.strip(),
        organisation=data.organisation.strip()[:200],
    )


def low_items(
    campaign: Campaign, cleaned: Sequence[tuple[Question, list[int], str]]
) -> list[tuple[Question, int]]:
    """The answers at or below the campaign's thresholds (R2.6 follow-up)."""
    limits: dict[str, int] = {
        QuestionType.RATING: campaign.low_rating,
        QuestionType.RECOMMENDATION: campaign.low_recommendation,
    }
    return [
        (question, values[0])
        for question, values, _text in cleaned
        if question.type in limits and values and values[0] <= limits[question.type]
    ]


def _raise_case(
    response: Response,
    low: Sequence[tuple[Question, int]],
    comments: Sequence[str],
    contact: Contact,
    actor: User | None,
) -> Case:
    from qloop.cases.actions import ContactData, Registration, register_case

    campaign = response.campaign
    with translation.override("zh-hans"):
        lines = [
            _("Low score in the survey “%(title)s” (response %(id)s):")
            % {"title": campaign.title, "id": response.pk}
        ]
        for question, value in low:
            high = 10 if question.type == QuestionType.RECOMMENDATION else 5
            lines.append(f"- {question.text}: {value}/{high}")
        for comment in comments:
            lines.append(_("Comment: %(text)s") % {"text": comment})
        title = _("Survey: low score from %(name)s") % {"name": contact.name}
    reg = Registration(
        kind="feedback",
        channel="survey",
        contact=ContactData(
            name=contact.name,
            gender=contact.gender,
            phone=contact.phone,
            email=contact.email,
            qq=contact.qq,
            organisation=contact.organisation,
        ),
        known_contact=contact,
        symptom="\n".join(lines),
        title=title,
        received_at=response.submitted_at,
    )
    return register_case(reg, actor=actor)


def submit_response(
    campaign: Campaign,
    raw: Mapping[str, Sequence[str]],
    *,
    source: str,
    invitation: Invitation | None = None,
    respondent: RespondentData | None = None,
    language: str = "",
    actor: User | None = None,
    submitted_at: dt.datetime | None = None,
) -> Response:
    """Record one filled-in questionnaire. A personal link answers once; a low score raises a
    feedback case in the same transaction (R2.6)."""
    if source not in Source.values:
        raise ValidationError({"source": [_("Unknown source.")]})
    if source == Source.PAPER:
        if actor is None:
            raise ValidationError({"source": [_("Paper answers are typed in by staff.")]})
        check_manager(actor)
    elif not campaign.is_open():
        raise CampaignClosed
    if source == Source.PUBLIC and not campaign.public_enabled:
        raise CampaignClosed
    if invitation is not None and invitation.campaign_id != campaign.pk:
        raise ValidationError({"invitation": [_("This link belongs to another survey.")]})
    if source == Source.LINK and invitation is None:
        raise ValidationError({"invitation": [_("A personal answer needs its link.")]})
    cleaned = clean_answers(questions_of(campaign), raw)
    if not cleaned:
        raise ValidationError({"__all__": [_("Answer at least one question.")]})
    with transaction.atomic():
        if invitation is not None:
            # One answer per link, also when two submits race: the row lock decides.
            locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
            if locked.answered_at is not None:
                raise AlreadyAnswered
            contact: Contact | None = locked.contact
        else:
            contact = _respondent_contact(respondent)
        now = submitted_at or timezone.now()
        response = Response.objects.create(
            campaign=campaign,
            invitation=invitation,
            source=source,
            contact=contact,
            language=language[:10],
            submitted_at=now,
            entered_by=actor if source == Source.PAPER else None,
        )
        rows = []
        for question, values, text in cleaned:
            if text:
                rows.append(
                    Answer(response=response, campaign=campaign, question=question, text=text)
                )
            for value in values:
                rows.append(
                    Answer(response=response, campaign=campaign, question=question, value=value)
                )
        Answer.objects.bulk_create(rows)
        if invitation is not None:
            Invitation.objects.filter(pk=invitation.pk).update(answered_at=now)
            invitation.answered_at = now
        low = low_items(campaign, cleaned)
        if low:
            response.low_score = True
            comments = [text for _q, _v, text in cleaned if text]
            if contact is not None:
                response.case = _raise_case(response, low, comments, contact, actor)
            response.save(update_fields=["low_score", "case"])
    return response
