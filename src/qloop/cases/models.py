"""The register (X2): cases, their contacts, product details, photos, comments and events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qloop import inserts
from qloop.cases import lookups, search  # noqa: F401 - registers literal_in
from qloop.cases.choices import Channel, FeedbackType, FieldType, Gender, Severity
from qloop.cases.kinds import KINDS, KindSpec, kind_choices
from qloop.org import refdata
from qloop.org.models import Department, Profile, TrailEntry, TranslatedName

if TYPE_CHECKING:
    from qloop.org.models import User
    from qloop.process.models import DeadlineStatus


class Contact(models.Model):
    """A person who told us something: a customer, a user, a patient (R1.2)."""

    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    qq = models.CharField(_("QQ number"), max_length=20, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


class Category(TranslatedName):
    """A node of the taxonomy (R2.10 and the pharmacy and clinical equivalents)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    profile = models.CharField(
        _("profile"), max_length=20, choices=Profile.choices, default=Profile.MANUFACTURER
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    # Kept in memory by every process (qloop.org.refdata): every write replaces the token.
    objects = refdata.WatchedQuerySet.as_manager()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"


class ExtraField(models.Model):
    """A field an organisation adds to a kind of case without code (R1.2 "etc.")."""

    kind = models.CharField(_("kind of case"), max_length=30, choices=kind_choices)
    code = models.SlugField(
        _("code"),
        max_length=40,
        help_text=_("Used in the API and in exports; letters, digits and underscores."),
    )
    label = models.CharField(_("label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100, blank=True)
    label_zh_hant = models.CharField(_("Traditional Chinese label"), max_length=100, blank=True)
    field_type = models.CharField(
        _("type"), max_length=20, choices=FieldType.choices, default=FieldType.TEXT
    )
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_('For a choice field: a list such as ["A", "B"].'),
    )
    # The same choices as shown in English and Traditional Chinese, in the same order; the
    # stored value is always the choice in ``choices``.
    choices_en = models.JSONField(
        _("English choices"),
        default=list,
        blank=True,
        help_text=_("Empty, or as many as the choices, in the same order."),
    )
    choices_zh_hant = models.JSONField(
        _("Traditional Chinese choices"),
        default=list,
        blank=True,
        help_text=_("Empty, or as many as the choices, in the same order."),
    )
    required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    # Kept in memory by every process (qloop.org.refdata): every write replaces the token.
    objects = refdata.WatchedQuerySet.as_manager()

    class Meta:
        verbose_name = _("extra field")
        verbose_name_plural = _("extra fields")
        ordering = ["kind", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="extrafield_unique_code"),
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        lang = get_language() or "zh-hans"
        if lang == "en" and self.label_en:
            return self.label_en
        if lang == "zh-hant" and self.label_zh_hant:
            return self.label_zh_hant
        return self.label

    @property
    def display_choices(self) -> list[tuple[str, str]]:
        """(stored value, label in the reader's language) for each choice."""
        lang = get_language() or "zh-hans"
        shown = {"en": self.choices_en, "zh-hant": self.choices_zh_hant}.get(lang) or []
        if len(shown) != len(self.choices):
            shown = self.choices
        return [(str(v), str(label)) for v, label in zip(self.choices, shown, strict=True)]

    def choice_label(self, value: Any) -> str:
        return dict(self.display_choices).get(str(value), str(value))

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {
            name: _("Give as many choices as in “choices”, in the same order, or none.")
            for name in ("choices_en", "choices_zh_hant")
            if getattr(self, name) and len(getattr(self, name)) != len(self.choices or [])
        }
        if errors:
            raise ValidationError(errors)


def general_visibility(user: User) -> Q:
    """The general rule: roles that see all cases see them; everyone else sees the cases of
    their departments, those they handle or registered, those their department has a task in
    (R1.8), and those whose corrective plan they own (R1.5)."""
    if user.sees_all_cases:
        return Q()
    from qloop.process.models import Task

    tasked = Task.objects.filter(case=models.OuterRef("pk"), department_id__in=user.department_ids)
    return (
        Q(department_id__in=user.department_ids)
        | Q(handler=user)
        | Q(registered_by=user)
        | models.Exists(tasked)
        | Q(corrective_action__owner=user)
    )


def visible_to(user: User) -> Q:
    """The cases this person may see, as one filter: the general rule for kinds that do not
    narrow it, and each narrowing kind's own rule for its cases."""
    from qloop.cases.kinds import enabled_kinds

    on = {spec.kind: spec for spec in enabled_kinds()}
    own_rules = {k: spec for k, spec in on.items() if spec.visibility is not None}
    general = general_visibility(user)
    rule = general
    if own_rules:
        rule = Q(~Q(kind__in=sorted(own_rules)), general)
        for kind, spec in own_rules.items():
            assert spec.visibility is not None
            rule |= Q(kind=kind) & spec.visibility(user)
    if len(on) < len(KINDS):
        # A profile switched off takes its cases out of sight with its kinds. Said as "not one
        # of the kinds switched off": ``kind IN (the rest)`` names most cases, and after
        # ANALYZE SQLite reads the whole register by the kind index instead of the few open
        # cases by their partial indexes (the My work badge took 0.3 s at 100,000 cases).
        rule = ~Q(kind__in=sorted(set(KINDS) - set(on))) & rule
    return rule


class CaseQuerySet(models.QuerySet["Case"]):
    def for_user(self, user: User) -> CaseQuerySet:
        """The cases this person may see: all for roles that see all, else their own share."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(visible_to(user))

    def live(self) -> CaseQuerySet:
        return self.filter(archived_at__isnull=True)

    def open(self) -> CaseQuerySet:
        from qloop.process.definitions import CLOSED_STATES

        # Written as literals (``qloop.cases.lookups``): the open cases' partial indexes say
        # ``NOT state IN ('closed')``, and SQLite matches them only to the same literal term.
        return self.live().exclude(state__literal_in=sorted(CLOSED_STATES))

    def overdue(self) -> CaseQuerySet:
        """Open cases with a breached deadline, as the sweep recorded it (X3): the same cases
        whose timeline says the deadline was missed, never a second reading of the wall clock."""
        from qloop.process.models import ClockState

        return self.open().filter(deadline_state=ClockState.BREACHED)

    def search(self, query: str) -> CaseQuerySet:
        query = query.strip()
        if not query:
            return self
        needle = search.normalise(query)
        if self.db == "default" and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
            tsq = search.tsquery(query)
            qs: CaseQuerySet = self
            if tsq:
                qs = qs.extra(  # type: ignore[assignment]
                    where=[
                        "to_tsvector('simple', cases_case.search_tokens) @@ to_tsquery('simple', %s)"
                    ],
                    params=[tsq],
                )
            return qs.filter(search_text__contains=needle)
        return self.filter(search_text__contains=needle)


class Case(models.Model):
    """One register entry of any kind (X2), with its number, state and deadlines."""

    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=30, choices=kind_choices)
    profile = models.CharField(_("profile"), max_length=20, choices=Profile.choices)
    title = models.CharField(_("title"), max_length=200)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    severity = models.CharField(
        _("severity"), max_length=20, choices=Severity.choices, default=Severity.MINOR
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("owning department"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_cases",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="registered_cases",
    )
    state = models.CharField(_("state"), max_length=30, default="new")
    process_version = models.PositiveIntegerField(default=1)
    extra = models.JSONField(_("extra fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    next_due_at = models.DateTimeField(_("next deadline"), null=True, blank=True)
    # The state of the deadlines the case waits on: breached if one of its open clocks is,
    # else running, else paused; empty without an open clock. Kept by qloop.process.clocks
    # with next_due_at, so that lists show and filter a breach without reading clocks.
    deadline_state = models.CharField(
        _("deadline state"), max_length=20, blank=True, default="", editable=False
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    archive_reason = models.TextField(_("reason for archiving"), blank=True)
    # A complaint raised from a piece of feedback points back at it (R2.8); the feedback lists
    # the complaints raised from it as ``raised_cases``.
    source_case = models.ForeignKey(
        "self",
        verbose_name=_("raised from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="raised_cases",
    )
    # Derived from the fields above on every save; see qloop.cases.search.
    search_text = models.TextField(default="", editable=False)
    search_tokens = models.TextField(default="", editable=False)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="case_received"),
            models.Index(fields=["state", "-received_at"], name="case_state"),
            models.Index(fields=["department", "-received_at"], name="case_department"),
            models.Index(fields=["handler", "next_due_at"], name="case_handler_due"),
            models.Index(fields=["category", "-received_at"], name="case_category"),
            models.Index(fields=["kind", "-received_at"], name="case_kind"),
            models.Index(
                fields=["next_due_at"],
                name="case_open_due",
                condition=Q(closed_at__isnull=True, archived_at__isnull=True),
            ),
            # Over the live or the few open cases only, with the conditions of live() and
            # open(): the list's capped count becomes an index-only scan, and "My work" (and
            # its count on every page) reads open cases instead of everything a person ever
            # handled. Measured at a million cases in bench/RESULTS.md.
            models.Index(
                fields=["-received_at", "-id"],
                name="case_live_received",
                condition=Q(archived_at__isnull=True),
            ),
            models.Index(
                fields=["handler", "next_due_at"],
                name="case_open_handler",
                condition=Q(archived_at__isnull=True) & ~Q(state__in=["closed"]),
            ),
            models.Index(
                fields=["updated_at"],
                name="case_open_updated",
                condition=Q(archived_at__isnull=True) & ~Q(state__in=["closed"]),
            ),
            # The overdue filter: the few live cases with a breached deadline.
            models.Index(
                fields=["next_due_at"],
                name="case_breached",
                condition=Q(deadline_state="breached", archived_at__isnull=True),
            ),
            # The complaints raised from a case: almost every case has no source, so a full
            # index on the column looks useless to SQLite after ANALYZE and the case page
            # scanned the register in number order (70–96 ms at 100,000 cases, issue 14).
            models.Index(
                fields=["source_case", "number"],
                name="case_raised",
                condition=Q(source_case__isnull=False),
            ),
            # Everything "My work" filters and sorts open cases by, so that its count (the badge
            # on every page) and its page of ids are index-only scans of the open cases.
            models.Index(
                fields=["state", "kind", "handler", "department", "next_due_at", "id"],
                name="case_open_work",
                condition=Q(archived_at__isnull=True) & ~Q(state__in=["closed"]),
            ),
            # The dashboards (issue 13): a department's open cases, and the live cases of a kind
            # per month, each counted from an index alone.
            models.Index(
                fields=["department", "state"],
                name="case_open_department",
                condition=Q(archived_at__isnull=True) & ~Q(state__in=["closed"]),
            ),
            models.Index(
                fields=["kind", "received_at"],
                name="case_live_kind_received",
                condition=Q(archived_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saved with the daily counts the dashboards read, in one transaction (issue 13)."""
        from django.db import transaction

        from qloop.cases import counts

        fields = kwargs.get("update_fields")
        if fields is not None and not counts.KEY_NAMES.intersection(fields):
            # A save that cannot move the case between counts (its state, its deadline …)
            # costs no reads.
            super().save(*args, **kwargs)
            return
        # Together or not at all, inside the caller's transaction without a savepoint of its
        # own (two statements fewer per save; a failure still undoes the caller's block).
        with transaction.atomic(savepoint=False):
            inserted = self._state.adding
            before = counts.before_case_save(self)
            if not inserts.inserted_for_save(self, args, kwargs):
                super().save(*args, **kwargs)
            counts.case_saved(self, before, inserted=inserted)

    @property
    def kind_spec(self) -> KindSpec:
        return KINDS[self.kind]

    @property
    def kind_label(self) -> str:
        spec = KINDS.get(self.kind)
        return str(spec.label) if spec is not None else self.kind

    @property
    def detail(self) -> models.Model | None:
        """This kind's own record (feedback detail, drug problem …), if it has one."""
        spec = KINDS.get(self.kind)
        if spec is None or not spec.detail_relation:
            return None
        return getattr(self, spec.detail_relation, None)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_closed(self) -> bool:
        from qloop.process.definitions import CLOSED_STATES

        return self.state in CLOSED_STATES

    @property
    def deadline_status(self) -> DeadlineStatus | None:
        """What the case's deadline shows in lists and exports: its clocks' state (X3)."""
        from qloop.process.models import deadline_status

        if self.is_closed or self.is_archived:
            return None
        return deadline_status(self.deadline_state, self.next_due_at)

    @property
    def is_overdue(self) -> bool:
        """A deadline of this open case is breached (as ``CaseQuerySet.overdue``)."""
        status = self.deadline_status
        return status is not None and status.is_late

    @property
    def state_label(self) -> str:
        from qloop.process.definitions import state_label

        return str(state_label(self.kind, self.state))

    def refresh_search(self) -> None:
        """Recompute the search columns from the fields a person would search by."""
        parts: list[str] = [self.number, self.title]
        contact = self.contact
        if contact is not None:
            parts += [contact.name, contact.phone, contact.email, contact.qq, contact.organisation]
        product = getattr(self, "product", None)
        if product is not None:
            parts += [
                product.specification,
                product.model,
                product.serial_number,
                product.symptom,
                product.current_status,
            ]
        spec = KINDS.get(self.kind)
        if spec is not None and spec.search_parts is not None:
            parts += spec.search_parts(self)
        parts += [str(v) for v in (self.extra or {}).values() if v not in (None, "")]
        self.search_text = search.normalise(" ".join(p for p in parts if p))
        self.search_tokens = " ".join(dict.fromkeys(search.tokens(self.search_text)))


class ProductProblem(models.Model):
    """The product and problem of a manufacturer's case (R1.2)."""

    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, primary_key=True, related_name="product"
    )
    specification = models.CharField(_("specification"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True, db_index=True)
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    symptom = models.TextField(_("symptom"))
    current_status = models.TextField(_("current status"), blank=True)

    class Meta:
        verbose_name = _("product problem")
        verbose_name_plural = _("product problems")

    def __str__(self) -> str:
        return f"{self.model} {self.serial_number}".strip()

    def save(self, *args: Any, case_key: Any = None, **kwargs: Any) -> None:
        """Saved with the per-model daily counts (repeat problems, issue 13). ``case_key``:
        the case's count key (``counts.key_of``) when the caller has just inserted the case."""
        from django.db import transaction

        from qloop.cases import counts

        with transaction.atomic(savepoint=False):  # as Case.save
            # What it was counted as is read from the row itself (not remembered from when
            # this instance was loaded: another save may have come in between).
            before: str | None = None
            if not self._state.adding:
                before = (
                    ProductProblem.objects.filter(pk=self.pk)
                    .values_list("model", flat=True)
                    .first()
                )
            if not inserts.inserted_for_save(self, args, kwargs):
                super().save(*args, **kwargs)
            counts.product_saved(self, before, case_key)


class FeedbackDetail(models.Model):
    """What a piece of customer feedback is and how it was handled (R2.3–R2.5, R2.8, R2.11)."""

    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, primary_key=True, related_name="feedback"
    )
    feedback_type = models.CharField(
        _("type of feedback"),
        max_length=20,
        choices=FeedbackType.choices,
        blank=True,
        db_index=True,
    )
    handling = models.TextField(_("handling"), blank=True)
    handled_at = models.DateTimeField(_("handling recorded"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalation_reason = models.TextField(_("why it was escalated"), blank=True)
    instructions = models.TextField(_("superior's instructions"), blank=True)
    instructed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instructed_at = models.DateTimeField(_("instructed"), null=True, blank=True)

    class Meta:
        verbose_name = _("feedback detail")
        verbose_name_plural = _("feedback details")

    def __str__(self) -> str:
        return self.get_feedback_type_display()


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never uses the uploader's file name: no path tricks, no clashes.
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{instance.token}{instance.extension}"


def thumbnail_path(instance: Attachment, filename: str) -> str:
    now = timezone.now()
    return f"thumbnails/{now:%Y/%m}/{instance.token}.jpg"


class Attachment(models.Model):
    """A photo or file attached to a case, stored through Django's storage API."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    token = models.CharField(max_length=32, unique=True, editable=False)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField(_("size"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Comment(models.Model):
    """A remark on a case by someone working on it."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:50]


class Event(TrailEntry):
    """One change to a case: who, when, what, from and to (append-only)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta(TrailEntry.Meta):
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["case", "at"], name="event_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.verb} {self.at:%Y-%m-%d %H:%M}"


class RecurringState(models.TextChoices):
    OPEN = "open", _("Raised to Quality")
    LINKED = "linked", _("Linked to a corrective action")
    DISMISSED = "dismissed", _("Dismissed")


class RecurringGroup(models.Model):
    """Cases about the same thing (product model, drug and batch, test) with similar problem
    text, raised to Quality as a possible systemic problem (issue 13, R1.5). Quality links it
    to one corrective action or dismisses it with a reason; it is never deleted, and a case
    that joins a dismissed group raises it again."""

    kind = models.CharField(_("kind"), max_length=20)
    # The grouping key folded for comparison, and as it was first written, for display.
    key = models.CharField(max_length=200)
    label = models.CharField(_("about"), max_length=200)
    state = models.CharField(
        _("state"), max_length=20, choices=RecurringState.choices, default=RecurringState.OPEN
    )
    cases = models.ManyToManyField(Case, related_name="recurring_groups", verbose_name=_("cases"))
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    corrective_action = models.ForeignKey(
        "capa.CorrectiveAction",
        verbose_name=_("corrective action"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recurring_groups",
    )
    reason = models.TextField(_("reason for dismissing"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recurring problem")
        verbose_name_plural = _("recurring problems")
        indexes = [
            models.Index(fields=["kind", "key"], name="recurring_kind_key"),
            models.Index(fields=["state", "raised_at"], name="recurring_state_raised"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.label}"

    @property
    def number(self) -> str:
        return f"RP-{self.pk}"


class RecurringGroupEvent(TrailEntry):
    """One change to a recurring problem: raised, joined, raised again, linked, dismissed."""

    group = models.ForeignKey(RecurringGroup, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)

    class Meta(TrailEntry.Meta):
        verbose_name = _("recurring problem event")
        verbose_name_plural = _("recurring problem events")
        indexes = [models.Index(fields=["group", "at"], name="recurringevent_group_at")]

    def __str__(self) -> str:
        return f"{self.group_id} {self.verb} {self.at:%Y-%m-%d %H:%M}"


class CaseDayCount(models.Model):
    """How many live cases were received on a (local) day, per kind and per category, product
    model, or in all: a summary kept in the same transaction as each case change
    (``qloop.cases.counts``), so the dashboards' groupings over months read a few hundred
    rows instead of the cases (issue 13). ``qloop manage rebuild_case_counts`` recounts it."""

    KIND = "kind"  # value "": every case of the kind
    CATEGORY = "category"  # value: the category's primary key
    MODEL = "model"  # value: the product model as typed (stripped)

    dimension = models.CharField(max_length=10)
    value = models.CharField(max_length=100, blank=True)
    day = models.DateField()
    kind = models.CharField(max_length=30)
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily case count")
        verbose_name_plural = _("daily case counts")
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "day", "kind", "value"], name="casedaycount_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.dimension}={self.value}: {self.n}"


class SimilarDoc(models.Model):
    """A case's text as the similar-case search reads it (issue 13): its Chinese characters
    only, with its kind, product model and time received, so the latest cases of one model are
    one index range. Kept by ``qloop.cases.similar_index`` as the case's text changes."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="similar_doc"
    )
    kind = models.CharField(max_length=30)
    model_key = models.CharField(max_length=100, blank=True)  # the model, stripped, upper case
    received_at = models.DateTimeField()
    text = models.TextField(blank=True)
    # False until the worker has added this text's bigrams to ``SimilarGram`` (registration
    # leaves that to the worker after its commit; a suggestion adds the pending ones itself).
    counted = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("similar-case text")
        verbose_name_plural = _("similar-case texts")
        indexes = [
            models.Index(fields=["kind", "model_key", "-received_at"], name="similardoc_model"),
            models.Index(fields=["kind", "-received_at"], name="similardoc_kind"),
            models.Index(
                fields=["kind", "model_key"],
                name="similardoc_pending",
                condition=models.Q(counted=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.model_key}"


class SimilarGram(models.Model):
    """In how many cases of a kind and product model a character bigram occurs (its document
    frequency), kept as cases are registered and changed; the row with an empty ``gram`` holds
    the number of cases. ``model_key`` "*" counts every case of the kind (issue 13)."""

    kind = models.CharField(max_length=30)
    model_key = models.CharField(max_length=100, blank=True)
    gram = models.CharField(max_length=2, blank=True)
    df = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("bigram statistic")
        verbose_name_plural = _("bigram statistics")
        constraints = [
            models.UniqueConstraint(fields=["kind", "model_key", "gram"], name="similargram_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.model_key} {self.gram}: {self.df}"
