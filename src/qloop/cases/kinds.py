"""The kinds of register entry; each belongs to a profile and has its own number prefix."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from qloop.org.models import Profile


class CaseKind(models.TextChoices):
    COMPLAINT = "complaint", _("Market quality complaint")
    FEEDBACK = "feedback", _("Customer feedback")


@dataclass(frozen=True)
class KindSpec:
    kind: CaseKind
    prefix: str
    profile: Profile
    register_name: str | Promise


KINDS: dict[str, KindSpec] = {
    CaseKind.COMPLAINT: KindSpec(
        CaseKind.COMPLAINT, "QC", Profile.MANUFACTURER, _("Market quality complaint register")
    ),
    CaseKind.FEEDBACK: KindSpec(
        CaseKind.FEEDBACK, "FB", Profile.MANUFACTURER, _("Customer feedback register")
    ),
}
