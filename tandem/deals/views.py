"""The deal pages: the board of a pipeline, the deal list with its totals, opening a deal,
and one deal's page with its timeline, contacts, tasks, moves, closing and reopening.

Everyone signed in sees deals ("deals.view"); salespeople, managers and admins open
them ("deals.create"); editing, moving, closing and deleting one need "deals.edit",
"deals.close" and "deals.delete" on that deal (its owner among salespeople, any deal for
managers and admins, none for marketers). Each view checks on the server; the pages
only hide the buttons a viewer may not use. The writes are deals/services.py's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tandem.accounts.models import Role, User
from tandem.accounts.permissions import can, page_requires, require
from tandem.core.audit import audit_for
from tandem.core.http import safe_next
from tandem.core.models import AuditEvent
from tandem.deals import services
from tandem.deals.api_filters import DealFilter
from tandem.deals.forms import (
    CloseForm,
    ContactForm,
    DealForm,
    MoveForm,
    RemoveContactForm,
    ReopenForm,
    pipeline_choice,
)
from tandem.deals.models import (
    CloseReason,
    ContactRole,
    Deal,
    DealStatus,
    Pipeline,
    PipelineStage,
)
from tandem.deals.queries import (
    Board,
    active_pipelines,
    deal_contacts,
    deal_detail,
    deal_history,
    deal_tasks,
    deal_timeline,
    deal_totals,
    deals_page,
    pipeline_board,
    pipeline_stages,
    weighted_amount,
)
from tandem.followups.forms import TaskForm
from tandem.people import services as people
from tandem.people.forms import ActivityForm, add_service_errors, focus_first_error
from tandem.people.models import Company, Person
from tandem.people.views.common import (
    audit_rows,
    current_actor,
    current_user,
    hx_target,
    is_htmx,
    list_context,
    messages_of,
    owner_options,
    timeline_rows,
)

PAGE_SIZE = 50
SORT_LABELS = [("newest", "Newest first"), ("oldest", "Oldest first")]


class ListFilter(DealFilter):
    """The API's deal filter (one filter for both lists), and whether any of it is set,
    for the list page's "no deals match these filters"."""

    @property
    def is_filtered(self) -> bool:
        return any(v not in (None, "") for k, v in self.model_dump().items() if k != "sort")


def money(amount: Decimal | None, currency: str = "") -> str:
    """12,345.00 EUR: two places, a thousands comma, the currency after."""
    currency = currency or settings.TANDEM_BASE_CURRENCY
    return f"{amount or Decimal('0'):,.2f} {currency}"


def _deal(pk: int) -> Deal:
    try:
        return deal_detail(pk)
    except Deal.DoesNotExist:
        raise Http404("There is no such deal.") from None


def _pipelines() -> tuple[list[Pipeline], Pipeline | None]:
    """The active pipelines and the one shown by default (a fresh install gets its default
    pipeline here, as on the deal services' first use)."""
    default: Pipeline | None = services.default_pipeline()
    pipelines = active_pipelines()
    if default not in pipelines:
        default = pipelines[0] if pipelines else None
    return pipelines, default


def _error_text(err: ValidationError) -> str:
    return " ".join(f"{msg}" for msg in messages_of(err).values())


# --- the board ------------------------------------------------------------------------


def _board_context(
    request: HttpRequest, board: Board, *, moved: int | None = None, notice: str = ""
) -> dict[str, Any]:
    """The board's columns as the template shows them: money formatted, and per card
    whether the viewer may move it and where to."""
    user = current_user(request)
    stages = board.stages
    # The cards' links from one reverse (a board shows up to 20 cards a column: reversing
    # two URLs for each is a good part of rendering it).
    root = reverse("deals:detail", args=[0]).removesuffix("0/")
    columns = []
    for column in board.columns:
        cards = []
        for deal in column.cards:
            cards.append(
                {
                    "deal": deal,
                    "url": f"{root}{deal.pk}/",
                    "move_url": f"{root}{deal.pk}/move/",
                    "amount": money(deal.amount, deal.currency),
                    "amount_base": money(deal.amount_base)
                    if deal.currency != settings.TANDEM_BASE_CURRENCY
                    else "",
                    "owner": (deal.owner.get_full_name() or deal.owner.username)
                    if deal.owner
                    else "",
                    "can_move": can(user, "deals.edit", deal),
                    "targets": [s for s in stages if s.pk != deal.stage_id],
                }
            )
        more_url = (
            reverse("deals:list")
            + f"?pipeline={board.pipeline.pk}&stage={column.stage.pk}&status=open"
        )
        columns.append(
            {
                "stage": column.stage,
                "count": column.count,
                "amount": money(column.amount),
                "weighted": money(column.weighted),
                "cards": cards,
                "more": column.more,
                "more_url": more_url,
            }
        )
    return {
        "board": board,
        "columns": columns,
        "total_amount": money(board.amount),
        "total_weighted": money(board.weighted),
        "moved": moved,
        "notice": notice,
        "here": reverse("deals:board") + f"?pipeline={board.pipeline.pk}",
    }


@page_requires("deals.view")
def board(request: HttpRequest) -> HttpResponse:
    """The open deals of a pipeline (the default one) in stage columns, with totals."""
    user = current_user(request)
    require(user, "deals.view")
    pipelines, default = _pipelines()
    context: dict[str, Any] = {
        "pipelines": pipelines,
        "can_create": can(user, "deals.create"),
        "error": "",
    }
    status = 200
    if default is None:
        context["pipeline"] = None
        return render(request, "deals/board.html", context)
    try:
        pipeline = pipeline_choice(request.GET.get("pipeline"), pipelines, default)
    except ValidationError as err:
        context["error"], pipeline, status = _error_text(err), default, 400
    context["pipeline"] = pipeline
    context |= _board_context(request, pipeline_board(pipeline))
    return render(request, "deals/board.html", context, status=status)


@page_requires("deals.edit")
@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to another stage: the board's drag and drop and its "Move to" forms,
    and the deal page's. HTMX gets the board back (totals and all), else a redirect."""
    deal = _deal(pk)
    require(current_user(request), "deals.edit", deal)
    form = MoveForm(request.POST, deal=deal)
    error = ""
    if form.is_valid():
        try:
            deal = services.move_deal(
                actor=current_actor(request),
                deal=deal,
                stage_id=form.cleaned_data["stage"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as err:
            error = _error_text(err)
    else:
        error = " ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items())
    deal = _deal(deal.pk)
    notice = "" if error else f"Moved “{deal.name}” to {deal.stage.name}."
    if is_htmx(request) and request.POST.get("from") == "board":
        context = _board_context(
            request, pipeline_board(deal.pipeline), moved=deal.pk, notice=error or notice
        )
        return render(
            request, "deals/_board.html", {**context, "error": error}, status=422 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(safe_next(request, reverse("deals:detail", args=[deal.pk])))


# --- the list -------------------------------------------------------------------------


def _list_rows(deals: list[Deal]) -> list[dict[str, Any]]:
    return [
        {
            "deal": d,
            "amount": money(d.amount, d.currency),
            "amount_base": money(d.amount_base),
            "weighted": money(weighted_amount(d)) if d.status == DealStatus.OPEN else "—",
            "owner": (d.owner.get_full_name() or d.owner.username) if d.owner else "",
        }
        for d in deals
    ]


@page_requires("deals.view")
def deal_list(request: HttpRequest) -> HttpResponse:
    """Deals filtered by pipeline, stage, status, owner, company, close date, amount and
    words, with the count, amount and weighted amount of all that match."""
    user = current_user(request)
    require(user, "deals.view")
    context, filters = list_context(
        request,
        ListFilter,
        lambda **read: deals_page(viewer=user, limit=PAGE_SIZE, **read),
    )
    if context["page"] is not None:
        totals = deal_totals(viewer=user, filters=filters)
        context["rows"] = _list_rows(context["page"].items)
        context["totals"] = {
            "count": f"{totals.count:,}",
            "amount": money(totals.amount),
            "open_amount": money(totals.open_amount),
            "weighted": money(totals.weighted),
            "won_amount": money(totals.won_amount),
        }
    params = context["params"]
    company = None
    if params.get("company", "").isdigit() and len(params["company"]) < 19:
        company = Company.objects.filter(pk=int(params["company"])).only("name").first()
    contact = None
    if params.get("person", "").isdigit() and len(params["person"]) < 19:
        contact = Person.objects.filter(pk=int(params["person"])).first()
    context |= {
        "filter_company": company,
        "filter_person": contact,
        "can_create": can(user, "deals.create"),
    }
    if hx_target(request) == "results":
        return render(request, "deals/_list.html", {**context, "oob": True})
    pipelines = active_pipelines()
    context |= {
        "pipelines": pipelines,
        "stages": [
            (s.pk, f"{p.name}: {s.name}" if len(pipelines) > 1 else s.name)
            for p in pipelines
            for s in pipeline_stages(p)
        ],
        "statuses": DealStatus.choices,
        "owners": [("me", "Mine"), *owner_options(user)],
        "sorts": SORT_LABELS,
        "base_currency": settings.TANDEM_BASE_CURRENCY,
    }
    status = 400 if context["errors"] else 200
    return render(request, "deals/deal_list.html", context, status=status)


# --- opening and editing --------------------------------------------------------------


def _resolve_company(request: HttpRequest, text: str, current: Company | None) -> Company | None:
    """The form's company box: empty is none, the current name keeps it, else find or add."""
    text = (text or "").strip()
    if not text:
        return None
    if current is not None and text == current.name:
        return current
    return people.find_or_create_company(actor=current_actor(request), name_or_id=text)


def _create_initial(request: HttpRequest, user: User) -> tuple[dict[str, Any], Person | None]:
    """A blank deal: the default pipeline, the base currency, the viewer as owner; from a
    person's page (`?person=`) their company and them as the first contact, from a
    company's (`?company=`) that company."""
    _, default = _pipelines()
    initial: dict[str, Any] = {
        "pipeline": default.pk if default else None,
        "currency": settings.TANDEM_BASE_CURRENCY,
        "owner": user.pk if user.role in (Role.SALESPERSON, Role.MANAGER) else None,
        "role": ContactRole.DECISION_MAKER,
    }
    person = None
    raw = request.GET.get("person", "")
    if raw.isdigit() and len(raw) < 19:
        person = (
            Person.objects.filter(pk=int(raw), deleted_at__isnull=True)
            .select_related("company")
            .first()
        )
    raw_company = request.GET.get("company", "")
    if person is None and raw_company.isdigit() and len(raw_company) < 19:
        firm = Company.objects.filter(pk=int(raw_company), deleted_at__isnull=True).first()
        if firm is not None:
            initial["company"] = initial["name"] = firm.name
    if person is not None:
        initial["person"] = person.pk
        initial["company"] = person.company.name if person.company else ""
        initial["name"] = f"{person.company.name if person.company else person}"
    return initial, person


@page_requires("deals.create")
@require_http_methods(["GET", "POST"])
def deal_create(request: HttpRequest) -> HttpResponse:
    """Open a deal; from an accepted lead's page, with them as its first contact."""
    user = current_user(request)
    require(user, "deals.create")
    initial, person = _create_initial(request, user)
    if request.method == "POST":
        form = DealForm(request.POST, initial=initial)
        if form.is_valid():
            person = form.cleaned_data.get("person")
            try:
                with transaction.atomic():
                    company = _resolve_company(request, form.cleaned_data["company"], None)
                    deal = services.create_deal(
                        actor=current_actor(request), data=form.deal_data(company)
                    )
            except ValidationError as err:
                add_service_errors(form, err, {"contacts": "person"})
            else:
                messages.success(request, f"Opened the deal “{deal.name}”.")
                return redirect("deals:detail", pk=deal.pk)
    else:
        form = DealForm(initial=initial)
    focus_first_error(form)
    context = {"form": form, "creating": True, "person": person}
    return render(request, "deals/deal_form.html", context, status=400 if form.errors else 200)


def _edit_initial(deal: Deal) -> dict[str, Any]:
    return {
        "name": deal.name,
        "pipeline": deal.pipeline_id,
        "company": deal.company.name if deal.company else "",
        "owner": deal.owner_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "exchange_rate": deal.exchange_rate,
        "expected_close_on": deal.expected_close_on,
        "description": deal.description,
    }


@page_requires("deals.edit")
@require_http_methods(["GET", "POST"])
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal(pk)
    require(current_user(request), "deals.edit", deal)
    initial = _edit_initial(deal)
    if request.method == "POST":
        form = DealForm(request.POST, initial=initial, deal=deal)
        if form.is_valid():
            try:
                with transaction.atomic():
                    company = deal.company
                    if "company" in form.changed_data:
                        company = _resolve_company(
                            request, form.cleaned_data["company"], deal.company
                        )
                    data = form.changed_deal_data(company)
                    if data:
                        services.update_deal(actor=current_actor(request), deal=deal, data=data)
            except ValidationError as err:
                add_service_errors(form, err)
            else:
                messages.success(request, f"Saved the deal “{form.cleaned_data['name']}”.")
                return redirect("deals:detail", pk=deal.pk)
    else:
        form = DealForm(initial=initial, deal=deal)
    focus_first_error(form)
    context = {"form": form, "creating": False, "deal": deal}
    return render(request, "deals/deal_form.html", context, status=400 if form.errors else 200)


@page_requires("deals.delete")
@require_http_methods(["GET", "POST"])
def deal_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirm page; POST: delete the deal for good, back to the board."""
    deal = _deal(pk)
    require(current_user(request), "deals.delete", deal)
    if request.method == "POST":
        services.delete_deal(actor=current_actor(request), deal=deal)
        messages.success(request, f"Deleted the deal “{deal.name}”.")
        return redirect(reverse("deals:board") + f"?pipeline={deal.pipeline_id}")
    return render(request, "deals/confirm_delete.html", {"deal": deal})


# --- one deal -------------------------------------------------------------------------


def _contact_choices(deal: Deal, taken: set[int]) -> list[tuple[int, str]]:
    """The company's people not on the deal yet (the first 200 by name)."""
    if deal.company_id is None:
        return []
    people_ = (
        Person.objects.filter(company_id=deal.company_id, deleted_at__isnull=True)
        .exclude(pk__in=taken)
        .order_by("last_name_key", "first_name_key", "id")[:200]
    )
    return [(p.pk, str(p)) for p in people_]


def _named(events: list[AuditEvent]) -> list[AuditEvent]:
    """The deal's audit events with pipeline, stage and reason ids shown as their names
    (looked up in one query each for the whole list; people's audit rows do the owner and
    the company)."""
    models: dict[str, Any] = {
        "pipeline": Pipeline,
        "stage": PipelineStage,
        "close_reason": CloseReason,
    }
    ids: dict[str, set[int]] = {name: set() for name in models}
    for event in events:
        for name, pair in (event.changes or {}).items():
            if name in ids and isinstance(pair, list):
                ids[name] |= {v for v in pair if isinstance(v, int)}
    names = {
        name: {pk: str(getattr(o, "name", o)) for pk, o in model.objects.in_bulk(ids[name]).items()}
        for name, model in models.items()
        if ids[name]
    }
    for event in events:
        changes = event.changes or {}
        for name, found in names.items():
            pair = changes.get(name)
            if isinstance(pair, list):
                changes[name] = [found.get(v, v) if isinstance(v, int) else v for v in pair]
    return events


def _deal_page(
    request: HttpRequest, deal: Deal, *, status: int = 200, **forms: Any
) -> HttpResponse:
    """The whole deal page; a form passed in (with its errors) replaces the blank one."""
    user = current_user(request)
    contacts = deal_contacts(deal)
    history = deal_history(deal)
    taken = {c.person_id for c in contacts}
    by_id = {c.person_id: c.person for c in contacts}
    is_open = deal.status == DealStatus.OPEN
    can_edit = can(user, "deals.edit", deal)
    tasks = deal_tasks(deal, contacts)
    here = reverse("deals:detail", args=[deal.pk])
    context: dict[str, Any] = {
        "deal": deal,
        "is_open": is_open,
        "is_won": deal.status == DealStatus.WON,
        "amount": money(deal.amount, deal.currency),
        "amount_base": money(deal.amount_base),
        "is_foreign": deal.currency != settings.TANDEM_BASE_CURRENCY,
        "base_currency": settings.TANDEM_BASE_CURRENCY,
        "weighted": money(weighted_amount(deal)),
        "owner": (deal.owner.get_full_name() or deal.owner.username) if deal.owner else "",
        "contacts": [
            {"contact": c, "person": c.person, "role": c.get_role_display()} for c in contacts
        ],
        "history": history,
        "timeline": timeline_rows(deal_timeline(deal, contacts, history), by_id),
        "tasks": tasks,
        "here": here,
        "can_edit": can_edit,
        "can_move": can_edit and is_open,
        "can_close": is_open and can(user, "deals.close", deal),
        "can_reopen": not is_open and can(user, "deals.close", deal),
        "can_delete": can(user, "deals.delete", deal),
        "can_log": bool(contacts) and can(user, "people.log_activity"),
        "can_add_task": bool(contacts or deal.company_id) and can(user, "tasks.create"),
        "move_form": forms.get("move_form") or MoveForm(deal=deal),
        "close_form": forms.get("close_form") or CloseForm(),
        "reopen_form": forms.get("reopen_form") or ReopenForm(deal=deal),
        "contact_form": forms.get("contact_form")
        or ContactForm(choices=_contact_choices(deal, taken)),
        "activity_form": forms.get("activity_form") or ActivityForm(),
        "activity_contact": forms.get("activity_contact"),
        "audit": audit_rows(_named(audit_for(deal)), Deal, []),
    }
    if context["can_add_task"]:
        initial = {} if contacts else {"company": deal.company_id}
        context["task_form"] = TaskForm(initial=initial)
    return render(request, "deals/deal_detail.html", context, status=status)


@page_requires("deals.view")
def deal_page(request: HttpRequest, pk: int) -> HttpResponse:
    require(current_user(request), "deals.view")
    return _deal_page(request, _deal(pk))


@page_requires("deals.close")
@require_POST
def deal_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close the deal won or lost (the page's close dialog)."""
    deal = _deal(pk)
    require(current_user(request), "deals.close", deal)
    form = CloseForm(request.POST)
    if form.is_valid():
        args = form.close_args()
        try:
            deal = services.close_deal(actor=current_actor(request), deal=deal, **args)
        except ValidationError as err:
            field = "won_reason" if args["status"] == DealStatus.WON else "lost_reason"
            add_service_errors(form, err, {"reason_id": field, "reason": field})
        else:
            word = "won" if deal.status == DealStatus.WON else "lost"
            messages.success(request, f"Closed “{deal.name}” as {word}.")
            return redirect("deals:detail", pk=deal.pk)
    return _deal_page(request, _deal(pk), status=400, close_form=form)


@page_requires("deals.close")
@require_POST
def deal_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal(pk)
    require(current_user(request), "deals.close", deal)
    form = ReopenForm(request.POST, deal=deal)
    if form.is_valid():
        try:
            deal = services.reopen_deal(
                actor=current_actor(request), deal=deal, stage_id=form.cleaned_data["stage"]
            )
        except ValidationError as err:
            add_service_errors(form, err, {"stage_id": "stage"})
        else:
            messages.success(request, f"Reopened “{deal.name}” in {deal.stage.name}.")
            return redirect("deals:detail", pk=deal.pk)
    return _deal_page(request, _deal(pk), status=400, reopen_form=form)


@page_requires("deals.edit")
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal(pk)
    require(current_user(request), "deals.edit", deal)
    taken = set(deal.contacts.values_list("person_id", flat=True))
    form = ContactForm(request.POST, choices=_contact_choices(deal, taken))
    if form.is_valid():
        try:
            services.add_contact(
                actor=current_actor(request),
                deal=deal,
                person_id=form.cleaned_data["person_id"],
                role=form.cleaned_data["role"],
                is_primary=form.cleaned_data["is_primary"],
            )
        except ValidationError as err:
            add_service_errors(form, err, {"person_id": "person"})
        else:
            messages.success(request, "Added the contact.")
            return redirect(reverse("deals:detail", args=[deal.pk]) + "#contacts")
    return _deal_page(request, deal, status=400, contact_form=form)


@page_requires("deals.edit")
@require_POST
def contact_remove(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal(pk)
    require(current_user(request), "deals.edit", deal)
    form = RemoveContactForm(request.POST)
    if not form.is_valid():
        messages.error(request, "person: Say which contact to remove.")
    else:
        try:
            services.remove_contact(
                actor=current_actor(request), deal=deal, person_id=form.cleaned_data["person"]
            )
        except ValidationError as err:
            messages.error(request, _error_text(err))
        else:
            messages.success(request, "Removed the contact from the deal.")
    return redirect(reverse("deals:detail", args=[deal.pk]) + "#contacts")


@page_requires("deals.view")
@require_POST
def log_activity(request: HttpRequest, pk: int) -> HttpResponse:
    """A call, meeting, email or note with one of the deal's contacts, on their timeline
    (people's service: it shows on the deal's timeline through them)."""
    deal = _deal(pk)
    user = current_user(request)
    require(user, "deals.view")
    form = ActivityForm(request.POST)
    contact_id = request.POST.get("contact", "")
    person = None
    if contact_id.isdigit() and len(contact_id) < 19:
        person = (
            Person.objects.filter(
                pk=int(contact_id), deal_contacts__deal=deal, deleted_at__isnull=True
            )
            .distinct()
            .first()
        )
    if person is None:
        form.is_valid()
        form.add_error(None, "contact: Pick one of the deal's contacts.")
    elif form.is_valid():
        require(user, "people.log_activity", person)
        try:
            people.log_activity(
                actor=current_actor(request),
                person=person,
                kind=form.cleaned_data["kind"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                outcome=form.cleaned_data["outcome"],
                occurred_at=form.cleaned_data["occurred_at"],
            )
        except ValidationError as err:
            add_service_errors(form, err)
        else:
            messages.success(request, f"Logged on {person}'s timeline.")
            return redirect(reverse("deals:detail", args=[deal.pk]) + "#timeline")
    return _deal_page(
        request,
        deal,
        status=400,
        activity_form=form,
        activity_contact=person.pk if person else None,
    )
