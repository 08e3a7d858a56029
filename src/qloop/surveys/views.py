"""Survey pages: thin views that check permission, call an action, and render.

The answer pages (personal link, public link) are the only pages that work without login.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qloop.cases.models import Contact
from qloop.org.attempts import client_address
from qloop.org.models import User
from qloop.surveys import access, actions
from qloop.surveys.forms import (
    CampaignForm,
    ContactSearchForm,
    InviteForm,
    QuestionForm,
    QuestionnaireForm,
    SectionForm,
)
from qloop.surveys.models import (
    Campaign,
    Invitation,
    Question,
    Questionnaire,
    Response,
    Section,
    Source,
)
from qloop.surveys.results import campaign_results

LANGUAGES = ("zh-hans", "zh-hant", "en")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _base_url() -> str:
    """Links and QR codes given to customers point at the configured site (SITE_URL), never
    at whatever host name the request came in with (issue 9.16): a forged Host header must not
    put someone else's address into an e-mail or onto a printed card."""
    return settings.SITE_URL


# --- overview and builder ------------------------------------------------------------------


@login_required
@require_GET
def survey_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_see_results(user):
        raise PermissionDenied
    manager = access.can_manage_surveys(user)
    campaigns = Campaign.objects.select_related("questionnaire").order_by("-opens_at", "-pk")[:100]
    questionnaires = (
        Questionnaire.objects.filter(is_archived=False).order_by("-created_at")[:100]
        if manager
        else []
    )
    return render(
        request,
        "surveys/home.html",
        {
            "campaigns": campaigns,
            "questionnaires": questionnaires,
            "manager": manager,
            "now": timezone.now(),
            "form": QuestionnaireForm(),
        },
    )


@login_required
@require_POST
def questionnaire_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    access.check_manager(user)
    if request.POST.get("template"):
        try:
            questionnaire = actions.create_from_template(request.POST["template"], actor=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("survey-home")
        messages.success(request, _("Questionnaire created from the template."))
        return redirect("questionnaire-builder", questionnaire.pk)
    form = QuestionnaireForm(request.POST)
    if form.is_valid():
        questionnaire = actions.create_questionnaire(
            form.cleaned_data["title"], intro=form.cleaned_data["intro"], actor=user
        )
        return redirect("questionnaire-builder", questionnaire.pk)
    messages.error(request, form.refusal(_("Enter a title.")))
    return redirect("survey-home")


def _builder_context(questionnaire: Questionnaire, **extra: Any) -> dict[str, Any]:
    sections = list(questionnaire.sections.prefetch_related("questions"))
    has_answers = questionnaire.questions.filter(answers__isnull=False).exists()
    return {
        "questionnaire": questionnaire,
        "sections": sections,
        "has_answers": has_answers,
        "section_form": SectionForm(),
        "question_form": QuestionForm(),
        "campaigns": questionnaire.campaigns.order_by("-opens_at")[:20],
        **extra,
    }


def _render_builder(
    request: HttpRequest, questionnaire: Questionnaire, **extra: Any
) -> HttpResponse:
    # htmx asks for the questions only; a full page otherwise.
    template = "surveys/_builder.html" if request.htmx else "surveys/builder.html"  # type: ignore[attr-defined]
    return render(request, template, _builder_context(questionnaire, **extra))


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_builder(request: HttpRequest, questionnaire_id: int) -> HttpResponse:
    user = _user(request)
    questionnaire = access.get_questionnaire_for_user(user, questionnaire_id)
    if request.method == "POST":
        form = QuestionnaireForm(request.POST)
        if form.is_valid():
            actions.update_questionnaire(questionnaire, **form.cleaned_data, actor=user)
            messages.success(request, _("Saved."))
            return redirect("questionnaire-builder", questionnaire.pk)
    else:
        form = QuestionnaireForm(
            initial={
                "title": questionnaire.title,
                "title_zh_hant": questionnaire.title_zh_hant,
                "title_en": questionnaire.title_en,
                "intro": questionnaire.intro,
            }
        )
    return render(request, "surveys/builder.html", _builder_context(questionnaire, form=form))


@login_required
@require_POST
def section_add(request: HttpRequest, questionnaire_id: int) -> HttpResponse:
    user = _user(request)
    questionnaire = access.get_questionnaire_for_user(user, questionnaire_id)
    form = SectionForm(request.POST)
    if form.is_valid():
        actions.add_section(questionnaire, form.cleaned_data["title"], actor=user)
        return _render_builder(request, questionnaire)
    return _render_builder(request, questionnaire, section_form=form)


def _question_data(form: QuestionForm) -> actions.QuestionData:
    data = form.cleaned_data
    return actions.QuestionData(
        text=data["text"],
        type=data["type"],
        required=data["required"],
        code=data["code"],
        choices=form.option_list(),
        text_en=data["text_en"],
        text_zh_hant=data["text_zh_hant"],
    )


def _put_errors(form: Any, exc: ValidationError) -> None:
    for key, msgs in exc.message_dict.items():
        for msg in msgs:
            form.add_error(key if key in form.fields else None, msg)


@login_required
@require_POST
def question_add(request: HttpRequest, section_id: int) -> HttpResponse:
    user = _user(request)
    access.check_manager(user)
    section = Section.objects.select_related("questionnaire").filter(pk=section_id).first()
    if section is None:
        raise Http404
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            actions.add_question(section, _question_data(form), actor=user)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            return _render_builder(request, section.questionnaire)
    return _render_builder(
        request, section.questionnaire, question_form=form, failed_section=section.pk
    )


def _question_for(user: User, question_id: int) -> Question:
    access.check_manager(user)
    question = (
        Question.objects.select_related("questionnaire", "section").filter(pk=question_id).first()
    )
    if question is None:
        raise Http404
    return question


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, question_id: int) -> HttpResponse:
    user = _user(request)
    question = _question_for(user, question_id)
    if request.method == "POST":
        form = QuestionForm(request.POST)
        if form.is_valid():
            try:
                actions.update_question(question, _question_data(form), actor=user)
            except ValidationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("questionnaire-builder", question.questionnaire_id)
    else:
        form = QuestionForm(
            initial={
                "text": question.text,
                "type": question.type,
                "required": question.required,
                "choices": "\n".join(question.choices),
                "code": question.code,
                "text_en": question.text_en,
                "text_zh_hant": question.text_zh_hant,
            }
        )
    return render(request, "surveys/question_edit.html", {"form": form, "question": question})


@login_required
@require_POST
def question_delete(request: HttpRequest, question_id: int) -> HttpResponse:
    user = _user(request)
    question = _question_for(user, question_id)
    questionnaire = question.questionnaire
    try:
        actions.delete_question(question, actor=user)
    except ValidationError as exc:
        return _render_builder(request, questionnaire, builder_error=" ".join(exc.messages))
    return _render_builder(request, questionnaire)


@login_required
@require_POST
def question_move(request: HttpRequest, question_id: int) -> HttpResponse:
    user = _user(request)
    question = _question_for(user, question_id)
    offset = -1 if request.POST.get("direction") == "up" else 1
    actions.move_question(question, offset, actor=user)
    return _render_builder(request, question.questionnaire)


# --- campaigns -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest, questionnaire_id: int) -> HttpResponse:
    user = _user(request)
    questionnaire = access.get_questionnaire_for_user(user, questionnaire_id)
    if request.method == "POST":
        form = CampaignForm(request.POST)
        if form.is_valid():
            try:
                campaign = actions.create_campaign(questionnaire, **form.cleaned_data, actor=user)
            except ValidationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("The survey campaign is set up."))
                return redirect("campaign-detail", campaign.pk)
    else:
        now = timezone.localtime()
        form = CampaignForm(
            initial={
                "title": f"{questionnaire.display_title} {now:%Y}",
                "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
                "closes_at": (now + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
            }
        )
    return render(
        request, "surveys/campaign_form.html", {"form": form, "questionnaire": questionnaire}
    )


@login_required
@require_GET
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = _user(request)
    campaign = access.get_campaign_for_user(user, campaign_id, manage=True)
    base_url = _base_url()
    invitations = [
        (i, actions.invitation_link(base_url, i))
        for i in campaign.invitations.select_related("contact").order_by("pk")[:500]
    ]
    counts = {
        "invited": campaign.invitations.count(),
        "answered": campaign.invitations.filter(answered_at__isnull=False).count(),
        "responses": campaign.responses.count(),
    }
    return render(
        request,
        "surveys/campaign_detail.html",
        {
            "campaign": campaign,
            "invitations": invitations,
            "counts": counts,
            "public_link": actions.public_link(_base_url(), campaign),
            "is_open": campaign.is_open(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_invite(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = _user(request)
    campaign = access.get_campaign_for_user(user, campaign_id, manage=True)
    search = ContactSearchForm(request.GET or None)
    invite_form = InviteForm(request.POST or None)
    error = ""
    if request.method == "POST" and invite_form.is_valid():
        ids = [int(v) for v in request.POST.getlist("contacts") if v.isdigit()]
        try:
            created = actions.invite_contacts(
                campaign,
                ids,
                base_url=_base_url(),
                language=invite_form.cleaned_data["language"],
                actor=user,
            )
        except actions.CampaignClosed:
            error = _("This survey is closed.")
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request, _("%(n)d invitations are on their way.") % {"n": len(created)}
            )
            return redirect("campaign-detail", campaign.pk)
    contacts = Contact.objects.order_by("organisation", "name")
    if search.is_valid():
        q = search.cleaned_data["q"].strip()
        if q:
            contacts = contacts.filter(
                Q(name__icontains=q) | Q(email__icontains=q) | Q(phone__icontains=q)
            )
        org = search.cleaned_data["organisation"].strip()
        if org:
            contacts = contacts.filter(organisation__icontains=org)
    invited = set(campaign.invitations.values_list("contact_id", flat=True))
    return render(
        request,
        "surveys/invite.html",
        {
            "campaign": campaign,
            "search": search,
            "invite_form": invite_form,
            "contacts": contacts[:200],
            "invited": invited,
            "error": error,
        },
    )


@login_required
@require_POST
def campaign_remind(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = _user(request)
    campaign = access.get_campaign_for_user(user, campaign_id, manage=True)
    try:
        n = actions.remind_unanswered(campaign, base_url=_base_url(), actor=user)
    except actions.CampaignClosed:
        messages.error(request, _("This survey is closed."))
    else:
        messages.success(request, _("%(n)d reminders are on their way.") % {"n": n})
    return redirect("campaign-detail", campaign.pk)


@login_required
@require_POST
def campaign_close(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = _user(request)
    campaign = access.get_campaign_for_user(user, campaign_id, manage=True)
    actions.close_campaign(campaign, actor=user)
    messages.success(request, _("The survey is closed."))
    return redirect("campaign-detail", campaign.pk)


def _qr(request: HttpRequest, campaign: Campaign) -> segno.QRCode:
    return segno.make(actions.public_link(_base_url(), campaign), error="m")


@login_required
@require_GET
def campaign_qr(request: HttpRequest, campaign_id: int, fmt: str) -> HttpResponse:
    user = _user(request)
    campaign = access.get_campaign_for_user(user, campaign_id, manage=True)
    buf = io.BytesIO()
    if fmt == "svg":
        _qr(request, campaign).save(buf, kind="svg", scale=8, border=4)
        content_type = "image/svg+xml"
    elif fmt == "png":
        _qr(request, campaign).save(buf, kind="png", scale=10, border=4)
        content_type = "image/png"
    else:
        raise Http404
    response = HttpResponse(buf.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="survey-{campaign.pk}.{fmt}"'
    return response


def _invitation_for_user(request: HttpRequest, invitation_id: int) -> Invitation:
    user = _user(request)
    invitation = get_object_or_404(
        Invitation.objects.select_related("campaign__questionnaire", "contact"), pk=invitation_id
    )
    access.get_campaign_for_user(user, invitation.campaign_id, manage=True)
    return invitation


@login_required
@require_GET
def invitation_qr(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """The personal link's QR code as PNG, to paste into QQ or WeChat (issue 12.16)."""
    invitation = _invitation_for_user(request, invitation_id)
    buf = io.BytesIO()
    link = actions.invitation_link(_base_url(), invitation)
    segno.make(link, error="m").save(buf, kind="png", scale=10, border=4)
    response = HttpResponse(buf.getvalue(), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="survey-invitation-{invitation.pk}.png"'
    return response


@login_required
@require_GET
def invitation_card(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """A printable card with one contact's personal link and its QR code."""
    invitation = _invitation_for_user(request, invitation_id)
    link = actions.invitation_link(_base_url(), invitation)
    return render(
        request,
        "surveys/card.html",
        {
            "campaign": invitation.campaign,
            "invitation": invitation,
            "qr_svg": segno.make(link, error="m").svg_inline(
                border=4, omitsize=True, light="#fff", svgclass="qr-code", title=_("QR code")
            ),
            "public_link": link,
        },
    )


@login_required
@require_GET
def campaign_card(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = _user(request)
    campaign = access.get_campaign_for_user(user, campaign_id, manage=True)
    return render(
        request,
        "surveys/card.html",
        {
            "campaign": campaign,
            # A viewBox (no fixed size), so the code scales to the card whole; the standard
            # quiet zone of 4 modules on a white ground, so phones find and read it.
            "qr_svg": _qr(request, campaign).svg_inline(
                border=4, omitsize=True, light="#fff", svgclass="qr-code", title=_("QR code")
            ),
            "public_link": actions.public_link(_base_url(), campaign),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_paper(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Staff type in a paper form (R2.6: forms handed out and collected after service)."""
    user = _user(request)
    campaign = access.get_campaign_for_user(user, campaign_id, manage=True)
    pending = campaign.invitations.filter(answered_at__isnull=True).select_related("contact")
    errors: dict[str, list[str]] = {}
    raw: Mapping[str, Sequence[str]] = {}
    if request.method == "POST":
        raw = _raw_answers(request)
        invitation = None
        chosen = request.POST.get("invitation", "")
        if chosen.isdigit():
            invitation = pending.filter(pk=int(chosen)).first()
            if invitation is None:
                errors["invitation"] = [_("This contact has already answered.")]
        if not errors:
            try:
                response = actions.submit_response(
                    campaign,
                    raw,
                    source=Source.PAPER,
                    invitation=invitation,
                    respondent=None if invitation else _respondent(request),
                    language=translation.get_language() or "",
                    actor=user,
                )
            except actions.AlreadyAnswered:
                errors["invitation"] = [_("This contact has already answered.")]
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                text = _("The paper answer is recorded.")
                if response.case is not None:
                    text += " " + _("A feedback case %(number)s was raised for the low score.") % {
                        "number": response.case.number
                    }
                messages.success(request, text)
                return redirect("campaign-paper", campaign.pk)
    return render(
        request,
        "surveys/paper.html",
        {
            "campaign": campaign,
            "sections": _sections(campaign, raw, errors),
            "errors": errors,
            **_error_context(errors, campaign),
            "raw": raw,
            "pending": pending[:500],
            "post": request.POST,
        },
        status=422 if errors else 200,
    )


@login_required
@require_GET
def campaign_results_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = _user(request)
    campaign = access.get_campaign_for_user(user, campaign_id)
    results = campaign_results(campaign.pk)
    previous = {q.code: q for q in results.previous.questions} if results.previous else {}
    rows = []
    for q in results.questions:
        prev = previous.get(q.code)
        delta = None
        if prev is not None:
            for index in ("csat", "nps", "mean"):
                now_value, then = getattr(q, index), getattr(prev, index)
                if now_value is not None and then is not None:
                    delta = round(now_value - then, 1)
                    break
        rows.append((q, prev, delta))
    follow_ups = (
        Response.objects.filter(campaign=campaign, low_score=True)
        .select_related("case", "contact")
        .order_by("-submitted_at")[:100]
    )
    return render(
        request,
        "surveys/results.html",
        {
            "campaign": campaign,
            "results": results,
            "rows": rows,
            "response_rate": None
            if results.response_rate is None
            else round(100 * results.response_rate, 1),
            "follow_ups": follow_ups,
            "manager": access.can_manage_surveys(user),
        },
    )


# --- answering (no login) ------------------------------------------------------------------


def _raw_answers(request: HttpRequest) -> dict[str, list[str]]:
    return {
        key[2:]: [v[:5000] for v in values]
        for key, values in request.POST.lists()
        if key.startswith("q_")
    }


def _respondent(request: HttpRequest) -> actions.RespondentData:
    post = request.POST
    return actions.RespondentData(
        name=post.get("respondent_name", "")[:100],
        phone=post.get("respondent_phone", "")[:30],
        email=post.get("respondent_email", "")[:254],
        organisation=post.get("respondent_organisation", "")[:200],
    )


def _error_context(errors: Mapping[str, Sequence[str]], campaign: Campaign) -> dict[str, Any]:
    """Split errors into those shown at the top and those shown at their question."""
    codes = set(
        Question.objects.filter(questionnaire_id=campaign.questionnaire_id).values_list(
            "code", flat=True
        )
    )
    return {
        "general_errors": [m for key, msgs in errors.items() if key not in codes for m in msgs],
        "question_errors": any(key in codes for key in errors),
    }


def _sections(
    campaign: Campaign,
    raw: Mapping[str, Sequence[str]] | None = None,
    errors: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """The questions grouped by section, each with its options marked as the person chose them
    (a form sent back with errors keeps what was typed)."""
    raw = raw or {}
    errors = errors or {}
    grouped: dict[int, dict[str, Any]] = {}
    for question in actions.questions_of(campaign):
        given = [str(v) for v in raw.get(question.code, [])]
        if question.scale is not None:
            options = [(str(v), str(v), str(v) in given) for v in question.scale]
        else:
            options = [
                (str(i), label, str(i) in given) for i, label in enumerate(question.display_choices)
            ]
        section = grouped.setdefault(
            question.section_id, {"section": question.section, "questions": []}
        )
        section["questions"].append(
            {
                "q": question,
                "name": f"q_{question.code}",
                "options": options,
                "text": given[0] if given and question.type == "text" else "",
                "errors": list(errors.get(question.code, [])),
            }
        )
    return list(grouped.values())


def _answer_language(request: HttpRequest, default: str = "") -> str:
    chosen = request.GET.get("lang") or request.POST.get("lang") or default
    return chosen if chosen in LANGUAGES else (request.LANGUAGE_CODE or settings.LANGUAGE_CODE)  # type: ignore[attr-defined]


def _answers_key(request: HttpRequest) -> str:
    """Public answers are counted per real client address: behind the TLS proxy the one the
    proxy saw, otherwise the connection's; a client's own X-Forwarded-For never counts (the
    same address as the login limits, issue 9.16)."""
    return f"survey-answers:{client_address(request) or 'unknown'}"


def _public_allowed(request: HttpRequest) -> bool:
    limit = int(settings.QLOOP_SURVEY_ANSWERS_PER_HOUR)
    return int(cache.get(_answers_key(request), 0)) < limit


def _count_public_answer(request: HttpRequest) -> None:
    key = _answers_key(request)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=60 * 60)


def _answer(
    request: HttpRequest, campaign: Campaign, *, invitation: Invitation | None
) -> HttpResponse:
    language = _answer_language(request, invitation.language if invitation else "")
    with translation.override(language):
        context: dict[str, Any] = {
            "campaign": campaign,
            "invitation": invitation,
            "language": language,
            "languages": [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")],
            "errors": {},
            "raw": {},
            "post": request.POST,
        }
        status = 200
        if invitation is not None and invitation.answered_at is not None:
            return render(request, "surveys/answer_done.html", {**context, "already": True})
        if not campaign.is_open() or (invitation is None and not campaign.public_enabled):
            context["not_yet"] = campaign.has_not_opened()
            return render(request, "surveys/answer_closed.html", context, status=410)
        if request.method == "POST":
            if invitation is None and not _public_allowed(request):
                context["errors"] = {
                    "__all__": [
                        _("Too many answers from your network. Please try again in an hour.")
                    ]
                }
                context["raw"] = _raw_answers(request)
                status = 429
            else:
                raw = _raw_answers(request)
                try:
                    actions.submit_response(
                        campaign,
                        raw,
                        source=Source.LINK if invitation else Source.PUBLIC,
                        invitation=invitation,
                        respondent=None if invitation else _respondent(request),
                        language=language,
                    )
                except actions.AlreadyAnswered:
                    return render(request, "surveys/answer_done.html", {**context, "already": True})
                except actions.CampaignClosed:
                    return render(request, "surveys/answer_closed.html", context, status=410)
                except ValidationError as exc:
                    context["errors"] = exc.message_dict
                    context["raw"] = raw
                    status = 422
                else:
                    if invitation is None:
                        _count_public_answer(request)
                    return render(request, "surveys/answer_done.html", context)
        context["sections"] = _sections(campaign, context["raw"], context["errors"])
        context.update(_error_context(context["errors"], campaign))
        response = render(request, "surveys/answer.html", context, status=status)
        response.headers["Content-Language"] = language
        return response


@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """A customer's personal link: answered once."""
    invitation = (
        Invitation.objects.select_related("campaign__questionnaire", "contact")
        .filter(token=token)
        .first()
    )
    if invitation is None:
        raise Http404
    return _answer(request, invitation.campaign, invitation=invitation)


@require_http_methods(["GET", "POST"])
def survey_public(request: HttpRequest, token: str) -> HttpResponse:
    """The public link behind the QR code: anyone may answer, a few times an hour per address."""
    campaign = Campaign.objects.select_related("questionnaire").filter(public_token=token).first()
    if campaign is None:
        raise Http404
    return _answer(request, campaign, invitation=None)
