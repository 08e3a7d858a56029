"""The customer directory (R2.4, R2.5): organisations, their contact persons, and every
contact Supply and Sales had with them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    DEALER = "dealer", _("Dealer")
    END_CUSTOMER = "end_customer", _("End customer")
    PROJECT = "project", _("Project contractor")
    DISTRIBUTOR = "distributor", _("Distributor")
    OTHER = "other", _("Other")


class ContactWay(models.TextChoices):
    """How we were in touch (R2.7: visits, phone, letters)."""

    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    IM = "im", _("QQ / instant message")


class CustomerOrganisationQuerySet(models.QuerySet["CustomerOrganisation"]):
    def live(self) -> CustomerOrganisationQuerySet:
        return self.filter(archived_at__isnull=True)

    def search(self, query: str) -> CustomerOrganisationQuerySet:
        query = query.strip()
        if not query:
            return self
        return self.filter(
            models.Q(name__icontains=query)
            | models.Q(address__icontains=query)
            | models.Q(people__contact__name__icontains=query)
        ).distinct()


class CustomerOrganisation(models.Model):
    """A dealer, end customer or other organisation we sell to or hear from."""

    name = models.CharField(_("name"), max_length=200, db_index=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.END_CUSTOMER
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    objects = CustomerOrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class CustomerContact(models.Model):
    """A contact person (a ``cases.Contact``) who works for a customer organisation."""

    customer = models.ForeignKey(
        CustomerOrganisation, on_delete=models.PROTECT, related_name="people"
    )
    contact = models.OneToOneField(
        "cases.Contact", on_delete=models.PROTECT, related_name="customer_link"
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["contact__name", "id"]

    def __str__(self) -> str:
        return f"{self.contact.name} · {self.customer.name}"


class ContactRecord(models.Model):
    """One visit, call, letter or message with a customer, and what was said (R2.5 b)."""

    customer = models.ForeignKey(
        CustomerOrganisation, on_delete=models.PROTECT, related_name="contact_records"
    )
    contact = models.ForeignKey(
        "cases.Contact",
        verbose_name=_("contact person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contact_records",
    )
    date = models.DateField(_("date"))
    way = models.CharField(_("way"), max_length=20, choices=ContactWay.choices)
    summary = models.TextField(_("summary"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contact_records",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("contact record")
        verbose_name_plural = _("contact records")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["customer", "-date"], name="contactrecord_customer_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_way_display()} {self.customer}"
