"""Departments, people, roles, numbering (X1) and working calendars (X3): configuration, not code."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qloop import inserts
from qloop.org import refdata
from qloop.org.calendars import (
    MONDAY_TO_FRIDAY,
    STANDARD_PERIODS,
    InvalidPeriods,
    WorkCalendar,
    forget_calendars,
    get_calendar,
    parse_periods,
)


class Profile(models.TextChoices):
    """The kinds of organisation one installation can serve, switched on in Organisation."""

    MANUFACTURER = "manufacturer", _("Manufacturer")
    PHARMACY = "pharmacy", _("Pharmacy")
    CLINICAL = "clinical", _("Laboratory and radiology")


class TranslatedName(models.Model):
    """A name entered by administrators, with optional English and Traditional spellings."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    name_zh_hant = models.CharField(_("Traditional Chinese name"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        lang = get_language() or "zh-hans"
        if lang == "en" and self.name_en:
            return self.name_en
        if lang == "zh-hant" and self.name_zh_hant:
            return self.name_zh_hant
        return self.name


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Bulk updates and deletes are refused: a trail is only ever added to. Bulk inserts are
    chained like single ones (``qloop.org.trail``)."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError(f"{self.model.__name__} rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{self.model.__name__} rows are append-only")

    def bulk_create(self, objs: Any, *args: Any, fresh: bool = False, **kwargs: Any) -> list[Any]:
        """``fresh``: the rows refer only to rows made in this transaction (``trail.link``)."""
        from qloop.org import trail

        rows = list(objs)
        if not rows:
            return rows
        # No savepoint of its own, as Django's bulk_create: a failure rolls back the caller's
        # block (the HL7 listener's batch saves two statements per commit).
        with transaction.atomic(using=self.db, savepoint=False):
            trail.link(self.model, rows, using=self.db, fresh=fresh)
            if (
                not args
                and not kwargs
                and self.db == router.db_for_write(self.model)
                and inserts.can_insert_many(rows)
            ):
                # The same statement without Django's compiler (qloop.inserts).
                return inserts.insert_many(rows)
            return super().bulk_create(rows, *args, **kwargs)


class TrailHead(models.Model):
    """The last entry of one tamper-evident trail: how many entries it holds and the last
    hash. Appending locks this row, so the entries of a trail form one chain (issue 9.17)."""

    chain = models.CharField(max_length=100, unique=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("trail head")
        verbose_name_plural = _("trail heads")

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}"


class Chained(models.Model):
    """An append-only row that carries the hash of the row before it in its trail (21 CFR
    Part 11 / ALCOA+): an edit, deletion or insertion made behind QLoop's back breaks the
    chain, and ``qloop verify-trail`` finds it."""

    seq = models.BigIntegerField(editable=False, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        from qloop.org import trail

        if self.pk is not None:
            raise TypeError(f"{type(self).__name__} rows are append-only")
        using = kwargs.get("using") or router_for_write(type(self))
        # The link and the row together, in the caller's transaction without a savepoint of
        # its own (two statements fewer per event; a failure still undoes the caller's block).
        with transaction.atomic(using=using, savepoint=False):
            trail.link(type(self), [self], using=using)
            # An event: create() asks for just this.
            if not inserts.inserted_for_save(self, args, {**kwargs, "using": using}):
                super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{type(self).__name__} rows are append-only")


def router_for_write(model: type[models.Model]) -> str:
    from django.db import router

    return router.db_for_write(model) or "default"


class TrailEntry(Chained):
    """One entry of an append-only trail: who did what, the changes (field, old, new), a
    comment and any data. Concrete trails add what the entry is about and when (X2)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verb = models.CharField(max_length=40)
    changes = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class Organisation(models.Model):
    """The one organisation this installation serves, and which profiles it runs."""

    name = models.CharField(_("name"), max_length=200, default="QLoop")
    profiles = models.JSONField(_("profiles"), default=list)

    # Kept in memory by every process (qloop.org.refdata): every write replaces the token.
    objects = refdata.WatchedQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisation")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _PROFILES_SEEN.clear()
        transaction.on_commit(_PROFILES_SEEN.clear)

    @classmethod
    def current(cls) -> Organisation:
        org = cls.objects.order_by("pk").first()
        if org is None:
            org = cls.objects.create(profiles=[Profile.MANUFACTURER])
        return org

    @classmethod
    def current_profiles(cls) -> tuple[str, ...]:
        """The profiles switched on, remembered for a few seconds in this process: menus, the
        API and every registration ask, and a switch made elsewhere shows within seconds."""
        now = time.monotonic()
        cached = _PROFILES_SEEN.get("profiles")
        if cached is not None and now - cached[0] < PROFILES_FRESH_SECONDS:
            return cached[1]
        profiles = tuple(cls.current().profiles)
        _PROFILES_SEEN["profiles"] = (now, profiles)
        return profiles


PROFILES_FRESH_SECONDS = 5.0
_PROFILES_SEEN: dict[str, tuple[float, tuple[str, ...]]] = {}


def standard_periods() -> list[list[str]]:
    return [list(period) for period in STANDARD_PERIODS]


def monday_to_friday() -> list[int]:
    return list(MONDAY_TO_FRIDAY)


class WorkingCalendar(TranslatedName):
    """The working hours, working weekdays and holidays of one site or department (X3)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    periods = models.JSONField(
        _("working hours"),
        default=standard_periods,
        blank=True,  # clean() explains that at least one period is needed
        help_text=_("Working periods of a working day, in order, e.g. 08:30-12:00, 13:30-17:30."),
    )
    workdays = models.JSONField(
        _("working weekdays"),
        default=monday_to_friday,
        help_text=_("The weekdays normally worked; 0 is Monday, 6 is Sunday."),
    )
    statutory = models.BooleanField(
        _("Chinese statutory holidays"),
        default=True,
        help_text=_(
            "Rest on the statutory holidays and work on the swapped working days, as published "
            "by the State Council (the chinesecalendar package)."
        ),
    )
    is_default = models.BooleanField(
        _("default calendar"),
        default=False,
        help_text=_("Used by every department that has no calendar of its own."),
    )

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")
        ordering = ["-is_default", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_working_calendar",
            ),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            others = WorkingCalendar.objects.filter(is_default=True).exclude(pk=self.pk)
            if not self.is_default and not others.exists():
                # Never leave the installation without a default calendar.
                self.is_default = True
            if self.is_default:
                others.update(is_default=False)
            super().save(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        try:
            if not parse_periods(self.periods):
                errors["periods"] = ValidationError(
                    _("Give at least one working period, such as 08:30-17:30."), code="empty"
                )
        except InvalidPeriods as problem:
            errors["periods"] = ValidationError(
                problem.message, code=problem.code, params=problem.params
            )
        if not isinstance(self.workdays, list) or not all(
            type(day) is int and 0 <= day <= 6 for day in self.workdays
        ):
            errors["workdays"] = ValidationError(
                _("Working weekdays are numbers from 0 (Monday) to 6 (Sunday)."), code="weekday"
            )
        if (
            not self.is_default
            and self.pk is not None
            and WorkingCalendar.objects.filter(pk=self.pk, is_default=True).exists()
        ):
            errors["is_default"] = ValidationError(
                _("There must be a default calendar: make another calendar the default instead."),
                code="default",
            )
        if errors:
            raise ValidationError(errors)

    def work_calendar(self) -> WorkCalendar:
        """This calendar's working time, from the cache (see ``qloop.org.calendars``)."""
        return get_calendar(self.pk)


class CalendarOverride(models.Model):
    """A date a calendar works or rests against its rules: a shutdown, an extra working day."""

    calendar = models.ForeignKey(
        WorkingCalendar,
        verbose_name=_("working calendar"),
        on_delete=models.CASCADE,
        related_name="overrides",
    )
    date = models.DateField(_("date"))
    working = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_("Ticked: worked (e.g. an extra working Saturday). Empty: a day off."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_override_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.note}".strip()


@receiver([post_save, post_delete], sender=WorkingCalendar)
@receiver([post_save, post_delete], sender=CalendarOverride)
def _calendar_changed(using: str = "default", **kwargs: Any) -> None:
    """Deadlines computed from now on see the change, also once the transaction commits."""
    forget_calendars()
    transaction.on_commit(forget_calendars, using=using)


class Department(TranslatedName):
    """A department, or an outside recipient such as the regulator (X1)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("superior department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    intake_kinds = models.JSONField(
        _("single intake for"),
        default=list,
        blank=True,
        help_text=_(
            'New cases of these kinds land in this department\'s queue (R1.1), e.g. ["complaint"].'
        ),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    calendar = models.ForeignKey(
        WorkingCalendar,
        verbose_name=_("working calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="departments",
        help_text=_("Empty: the default calendar."),
    )

    # Kept in memory by every process (qloop.org.refdata): every write replaces the token.
    objects = refdata.WatchedQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def working_calendar(self) -> WorkCalendar:
        """The working time this department's deadlines run on (its calendar or the default)."""
        return get_calendar(self.calendar_id)

    @classmethod
    def intake_for(cls, kind: str) -> Department | None:
        """The department that owns all incoming cases of this kind (归口部门, R1.1). Kept by
        every process until a department changes (``refdata``): the navigation and My work
        ask for it on every page. The instance is shared: do not change it."""

        def read() -> Department | None:
            for dept in cls.objects.filter(is_active=True).exclude(intake_kinds=[]):
                if kind in dept.intake_kinds:
                    return dept
            return None

        return refdata.cached(("intake-department", kind), read)

    @classmethod
    def active(cls) -> list[Department]:
        """The active departments in their order, kept until a department changes
        (``refdata``): the case page offers them for tasks and steps, and building the
        queryset alone cost more than the rest of its context (issue 14). The instances are
        shared: do not change them."""
        return refdata.cached(
            "active-departments", lambda: list(cls.objects.filter(is_active=True))
        )


class Role(TranslatedName):
    """A role a person holds in a department; what it may do is set here, not in code."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    sees_all_cases = models.BooleanField(
        _("sees all cases"),
        default=False,
        help_text=_(
            "Otherwise only cases of the person's departments, or that they registered or handle."
        ),
    )
    manages_cases = models.BooleanField(
        _("manages cases"),
        default=False,
        help_text=_("May edit, assign and archive any case it can see."),
    )
    sees_personal_data = models.BooleanField(
        _("sees personal data"),
        default=False,
        help_text=_("Sees contacts' phone numbers and e-mail addresses in full."),
    )
    administers = models.BooleanField(_("administers the system"), default=False)

    # Kept in memory by every process with the memberships (qloop.org.refdata).
    objects = refdata.WatchedQuerySet.as_manager()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["code"]


class User(AbstractUser):
    """A person who logs in."""

    display_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    qq = models.CharField(_("QQ number"), max_length=20, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    departments: models.ManyToManyField[Department, Membership] = models.ManyToManyField(
        Department,
        through="Membership",
        through_fields=("user", "department"),
        related_name="members",
        blank=True,
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def printed_name(self) -> str:
        return self.printed_name_of(
            self.username, self.display_name, self.first_name, self.last_name
        )

    @staticmethod
    def printed_name_of(username: str, display_name: str, first_name: str, last_name: str) -> str:
        """``printed_name`` from the columns alone, for lists read as rows (get_full_name's
        rule: first and last name joined by a space, stripped)."""
        return display_name or f"{first_name} {last_name}".strip() or username

    def _role_flags(self) -> dict[str, Any]:
        cached: dict[str, Any] | None = getattr(self, "_qloop_roles", None)
        if cached is None:
            rows = list(Membership.objects.filter(user=self).select_related("role", "department"))
            cached = {
                "roles": {m.role.code for m in rows},
                "departments": {m.department_id for m in rows},
                "department_codes": {m.department.code for m in rows},
                "sees_all": self.is_superuser or any(m.role.sees_all_cases for m in rows),
                "manages": self.is_superuser or any(m.role.manages_cases for m in rows),
                "personal": self.is_superuser or any(m.role.sees_personal_data for m in rows),
                "admin": self.is_superuser or any(m.role.administers for m in rows),
            }
            self._qloop_roles = cached
        return cached

    def has_role(self, *codes: str) -> bool:
        return bool(self._role_flags()["roles"] & set(codes))

    @property
    def role_codes(self) -> set[str]:
        return set(self._role_flags()["roles"])

    @property
    def department_ids(self) -> set[int]:
        return set(self._role_flags()["departments"])

    @property
    def sees_all_cases(self) -> bool:
        return bool(self._role_flags()["sees_all"])

    @property
    def manages_cases(self) -> bool:
        return bool(self._role_flags()["manages"])

    @property
    def sees_personal_data(self) -> bool:
        return bool(self._role_flags()["personal"])

    @property
    def administers(self) -> bool:
        return bool(self._role_flags()["admin"])

    def forget_roles(self) -> None:
        self.__dict__.pop("_qloop_roles", None)

    def access_key(self) -> tuple[Any, ...]:
        """Everything about this person that the rules of who sees what are made of: two
        people with the same key see the same cases (``qloop.cases.access.may_see``)."""
        flags = self._role_flags()
        return (
            self.pk,
            self.is_active,
            self.is_superuser,
            *(tuple(sorted(flags[k])) for k in ("roles", "departments", "department_codes")),
            *(flags[k] for k in ("sees_all", "manages", "personal", "admin")),
        )


class Membership(models.Model):
    """A person holds a role in a department; a person may be in several departments."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="memberships")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")

    # Which departments hold which roles is kept in memory by every process (qloop.org.refdata,
    # the case page's responsible departments): every write replaces the token.
    objects = refdata.WatchedQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department", "role"], name="membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.department} · {self.role}"


class Sequence(models.Model):
    """The last number handed out for one key such as ``QC-2026``; no gaps, no duplicates."""

    key = models.CharField(max_length=40, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.key}: {self.last_value}"

    @classmethod
    def next_value(cls, key: str) -> int:
        """Take the next number for ``key`` inside the caller's transaction.

        The row is locked until the caller's transaction ends, so a rolled-back registration
        gives its number back and concurrent registrations queue on the lock.
        """
        return cls.next_values(key, 1)[0]

    @classmethod
    def next_values(cls, key: str, count: int) -> range:
        """``count`` numbers at once, under the same lock as ``next_value``: a batch of
        results from a hospital system takes one row update, not one per result."""
        return cls.send_next_values(key, count)()

    @classmethod
    def send_next_values(cls, key: str, count: int) -> Callable[[], range]:
        """``next_values`` in two halves: the row's update is sent now, the function returned
        reads the numbers (inside ``qloop.together.sent_together``, call it after the block).
        Where the row is still to be made, that is done when the function is called."""
        if count < 1:
            return lambda: range(0)
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            raise RuntimeError("Sequence.next_value must run inside a transaction")
        if not _update_returning(connection):
            return lambda: cls._next_values_locked(key, count)
        # One statement takes the row's lock and the numbers (registration is the page a
        # clerk uses most; this was three statements, issue 14).
        cursor = connection.cursor()
        try:
            cursor.execute(
                'UPDATE "org_sequence" SET "last_value" = "last_value" + %s '
                'WHERE "key" = %s RETURNING "last_value"',
                [count, key],
            )
        except BaseException:
            cursor.close()
            raise

        def numbers() -> range:
            with cursor:
                row = cursor.fetchone()
            if row is not None:
                return range(int(row[0]) - count + 1, int(row[0]) + 1)
            return cls._next_values_locked(key, count)

        return numbers

    @classmethod
    def _next_values_locked(cls, key: str, count: int) -> range:
        """The numbers by a locking read and a save (the row made first if missing)."""
        # Create the row if it is missing without failing when another transaction races us.
        if not cls.objects.filter(key=key).exists():
            try:
                with transaction.atomic():
                    cls.objects.create(key=key)
            except IntegrityError:
                pass
        seq = cls.objects.select_for_update().get(key=key)
        first = seq.last_value + 1
        seq.last_value += count
        seq.save(update_fields=["last_value"])
        return range(first, seq.last_value + 1)


def _update_returning(connection: Any) -> bool:
    """Whether the database answers ``UPDATE … RETURNING`` (PostgreSQL; SQLite 3.35+)."""
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version_info >= (3, 35)
    return False


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A personal API token; only its hash is kept, the token itself is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        raw = "ql_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=raw[:10], key_hash=_hash_token(raw))
        return token, raw

    @classmethod
    def authenticate(cls, raw: str) -> User | None:
        token = (
            cls.objects.active().select_related("user").filter(key_hash=_hash_token(raw)).first()
        )
        if token is None:
            return None
        now = timezone.now()
        # Writing on every request would serialise API calls on SQLite; a minute is precise enough.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user


class StatutoryNotice(models.Model):
    """The State Council's holiday arrangements for one year, as an administrator entered them
    for a year the chinesecalendar package does not know yet (X3). Never changed: a correction
    is a newer notice for the same year, and the newest applies."""

    year = models.PositiveSmallIntegerField(_("year"), db_index=True)
    source = models.CharField(
        _("source"),
        max_length=300,
        help_text=_(
            "The notice: its title and number, e.g. 国办发明电〔2026〕7号, or its address."
        ),
    )
    # [[name, "YYYY-MM-DD", "YYYY-MM-DD"], …]: each holiday's first and last day off.
    holidays = models.JSONField(_("holidays"), default=list)
    # ["YYYY-MM-DD", …]: weekend days worked in exchange (调休上班).
    workdays = models.JSONField(_("swapped working days"), default=list)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)

    class Meta:
        verbose_name = _("statutory holiday notice")
        verbose_name_plural = _("statutory holiday notices")
        ordering = ["-year", "-entered_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.year}: {self.source}"


class ReferenceVersion(models.Model):
    """One row whose token changes, in the same transaction, with every change to the reference
    data that processes keep in memory (categories, extra fields, clock definitions and their
    ladders, calendars, the organisation's profiles): ``qloop.org.refdata``. A new random token,
    not a counter, so a rolled-back change's token is never seen again."""

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("reference data version")
        verbose_name_plural = _("reference data versions")

    def __str__(self) -> str:
        return self.token
