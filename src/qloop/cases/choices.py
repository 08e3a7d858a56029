from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """How the information reached us (X6)."""

    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    IM = "im", _("QQ / instant message")
    VISIT = "visit", _("Visit")
    LETTER = "letter", _("Letter")
    WEB = "web", _("Web form")
    API = "api", _("API")
    SURVEY = "survey", _("Survey")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Not given")
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("Choice from a list")


class FeedbackType(models.TextChoices):
    """What a piece of customer feedback is (R2.4, R2.5): the register's "type" column."""

    COMPLAINT = "complaint", _("Complaint")
    OPINION = "opinion", _("Opinion")
    SUGGESTION = "suggestion", _("Suggestion")
    MARKET_DEMAND = "market_demand", _("Market-demand information")
    CONVERSATION = "conversation", _("Note of a direct conversation")
    COMPETITOR = "competitor", _("Competitor information")
