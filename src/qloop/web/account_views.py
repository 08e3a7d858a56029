"""The person's own settings: where messages reach them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from qloop.notify import preferences
from qloop.notify.models import Channel
from qloop.notify.texts import kind_label
from qloop.org.models import User


@login_required
@require_http_methods(["GET", "POST"])
def message_settings(request: HttpRequest) -> HttpResponse:
    """Per kind of message: in the app, by e-mail, or both; quiet hours (X6)."""
    user: User = request.user  # type: ignore[assignment]
    chosen, pref = preferences.current(user)
    errors: dict[str, list[str]] = {}
    values = {
        "quiet_from": pref.quiet_from.strftime("%H:%M") if pref and pref.quiet_from else "",
        "quiet_to": pref.quiet_to.strftime("%H:%M") if pref and pref.quiet_to else "",
        "email": user.email,
    }
    if request.method == "POST":
        posted = {kind: request.POST.getlist(kind) for kind in preferences.personal_kinds()}
        values = {k: request.POST.get(k, "") for k in values}
        try:
            preferences.save(user, chosen=posted, **values)
        except ValidationError as exc:
            errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            chosen = {k: tuple(v) for k, v in posted.items()}
            messages.error(request, _("Nothing was saved; see the marked fields."))
        else:
            messages.success(request, _("Your message settings are saved."))
            return redirect("message-settings")
    rows = [(kind, kind_label(kind), chosen[kind]) for kind in preferences.personal_kinds()]
    return render(
        request,
        "account/messages.html",
        {
            "rows": rows,
            "channels": [(Channel.APP, Channel.APP.label), (Channel.EMAIL, Channel.EMAIL.label)],
            "values": values,
            "errors": errors,
        },
    )
