"""Customer satisfaction surveys (R2.5 c, R2.6, R2.7): questionnaires, campaigns, answers."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    """An unguessable answer-link token (about 190 bits)."""
    return secrets.token_urlsafe(24)


def _in_language(main: Any, en: Any, zh_hant: Any) -> Any:
    lang = get_language() or "zh-hans"
    if lang == "en" and en:
        return en
    if lang == "zh-hant" and zh_hant:
        return zh_hant
    return main


class QuestionType(models.TextChoices):
    RATING = "rating", _("Rating 1–5")
    RECOMMENDATION = "recommendation", _("Recommendation 0–10")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Free text")


SCALES: dict[str, range] = {
    QuestionType.RATING: range(1, 6),
    QuestionType.RECOMMENDATION: range(0, 11),
}
CHOICE_TYPES = {QuestionType.SINGLE, QuestionType.MULTIPLE}


class Source(models.TextChoices):
    LINK = "link", _("Personal link")
    PUBLIC = "public", _("Public link / QR code")
    PAPER = "paper", _("Paper form")


class Questionnaire(models.Model):
    """A questionnaire such as the 《顾客满意度调查表》: sections of ordered questions."""

    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    title_zh_hant = models.CharField(_("Traditional Chinese title"), max_length=200, blank=True)
    intro = models.TextField(_("introduction"), blank=True)
    intro_en = models.TextField(_("English introduction"), blank=True)
    intro_zh_hant = models.TextField(_("Traditional Chinese introduction"), blank=True)
    template_code = models.CharField(_("made from template"), max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    is_archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return str(_in_language(self.title, self.title_en, self.title_zh_hant))

    @property
    def display_intro(self) -> str:
        return str(_in_language(self.intro, self.intro_en, self.intro_zh_hant))


class Section(models.Model):
    """A titled group of questions in a questionnaire."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="sections"
    )
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    title_zh_hant = models.CharField(_("Traditional Chinese title"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return str(_in_language(self.title, self.title_en, self.title_zh_hant))


class Question(models.Model):
    """One question of a questionnaire, of one type, required or optional."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(_("code"), max_length=40)
    text = models.CharField(_("question"), max_length=500)
    text_en = models.CharField(_("English question"), max_length=500, blank=True)
    text_zh_hant = models.CharField(_("Traditional Chinese question"), max_length=500, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=QuestionType.choices)
    required = models.BooleanField(_("required"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    choices_en = models.JSONField(_("English choices"), default=list, blank=True)
    choices_zh_hant = models.JSONField(_("Traditional Chinese choices"), default=list, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["section__order", "section_id", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "code"], name="survey_question_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"

    @property
    def display_text(self) -> str:
        return str(_in_language(self.text, self.text_en, self.text_zh_hant))

    @property
    def display_choices(self) -> list[str]:
        main = list(self.choices)
        for alt in (self.choices_en, self.choices_zh_hant):
            if alt and len(alt) != len(main):
                return main
        return list(_in_language(main, self.choices_en, self.choices_zh_hant))

    @property
    def scale(self) -> range | None:
        return SCALES.get(self.type)


class CampaignStatus(models.TextChoices):
    """Where a campaign stands: one word for it on every page."""

    SCHEDULED = "scheduled", _("scheduled")
    OPEN = "open", pgettext_lazy("survey campaign", "open")
    CLOSED = "closed", pgettext_lazy("survey campaign", "closed")


class Campaign(models.Model):
    """One run of a questionnaire: who is asked, when, and through which links."""

    questionnaire = models.ForeignKey(
        Questionnaire,
        verbose_name=_("questionnaire"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    title = models.CharField(_("title"), max_length=200)
    opens_at = models.DateTimeField(_("opens"), default=timezone.now, db_index=True)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True, db_index=True)
    public_token = models.CharField(max_length=64, unique=True, default=new_token)
    public_enabled = models.BooleanField(_("public link open"), default=True)
    low_rating = models.PositiveSmallIntegerField(
        _("low rating (1–5)"),
        default=2,
        help_text=_("A rating at or below this raises a feedback case."),
    )
    low_recommendation = models.PositiveSmallIntegerField(
        _("low recommendation (0–10)"),
        default=6,
        help_text=_("A recommendation at or below this raises a feedback case."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("survey campaign")
        verbose_name_plural = _("survey campaigns")
        ordering = ["-opens_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def is_open(self, at: Any = None) -> bool:
        now = at or timezone.now()
        return self.opens_at <= now and (self.closes_at is None or now < self.closes_at)

    def has_not_opened(self, at: Any = None) -> bool:
        return (at or timezone.now()) < self.opens_at

    def status(self, at: Any = None) -> CampaignStatus:
        now = at or timezone.now()
        if now < self.opens_at:
            return CampaignStatus.SCHEDULED
        if self.closes_at is not None and self.closes_at <= now:
            return CampaignStatus.CLOSED
        return CampaignStatus.OPEN

    @property
    def current_status(self) -> CampaignStatus:
        return self.status()


class Invitation(models.Model):
    """A personal answer link sent to one customer contact; answered at most once."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey(
        "cases.Contact", verbose_name=_("contact"), on_delete=models.PROTECT, related_name="+"
    )
    # Empty: the contact has no e-mail; the personal link goes by QQ, WeChat or on paper.
    email = models.EmailField(_("e-mail"), blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    invited_at = models.DateTimeField(_("invited"), default=timezone.now)
    reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact"], name="survey_invitation_once_per_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.email}"


class Response(models.Model):
    """One respondent's filled-in questionnaire (by link, public link or paper)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="responses")
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.PROTECT, related_name="response"
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    contact = models.ForeignKey(
        "cases.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("typed in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("follow-up case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    low_score = models.BooleanField(_("low score"), default=False)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["-submitted_at", "-pk"]
        indexes = [models.Index(fields=["campaign", "source"], name="survey_response_source")]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.pk}"


class Answer(models.Model):
    """The answer to one question: a scale value or choice index in ``value`` (one row per
    chosen option for multiple choice), or free text. Results are GROUP BY on ``value``."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    # Repeated from the response so that results read one indexed table.
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.SmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [
            models.Index(fields=["campaign", "question", "value"], name="survey_answer_value"),
        ]

    def __str__(self) -> str:
        return f"{self.question.code}={self.value if self.value is not None else self.text}"


class OverdueWarning(models.Model):
    """When Supply and Sales was last warned that no survey ran for 11 months (R2.5 c)."""

    sent_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey overdue warning")
        verbose_name_plural = _("survey overdue warnings")

    def __str__(self) -> str:
        return str(self.sent_at)
