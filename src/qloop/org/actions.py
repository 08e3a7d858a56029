"""Writes to the organisation's records that people make from pages, the API and the admin."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop.org.models import ApiToken, User


def revoke_token(token_id: object, *, actor: User, as_administrator: bool = False) -> ApiToken:
    """Revoke an API token: one's own (the tokens page), or anyone's for an administrator in
    the administration pages (``as_administrator``). An id that is not a
    number, or not a token the actor may revoke, is refused with one message (code
    ``invalid`` or ``not_found``), so that no one learns which tokens exist."""
    try:
        pk = int(str(token_id).strip())
        if not 0 < pk < 2**63:  # beyond the column: no such token, not a database error
            raise ValueError
    except ValueError:
        raise ValidationError(
            {"revoke": [ValidationError(_("There is no such token."), code="invalid")]}
        ) from None
    with transaction.atomic():
        tokens = ApiToken.objects.select_for_update()
        if not (as_administrator and (actor.is_superuser or actor.administers)):
            tokens = tokens.filter(user=actor)
        token = tokens.filter(pk=pk).first()
        if token is None:
            raise ValidationError(
                {"revoke": [ValidationError(_("There is no such token."), code="not_found")]}
            )
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token
