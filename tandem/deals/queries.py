"""Reads for deals: the board of a pipeline, the deal list with its totals, one deal's page.

Money is summed in SQL as whole cents (ROUND(amount_base * 100) cast to an integer), so
the totals are exact Decimals on SQLite (which keeps decimals as floating point) as on
PostgreSQL, and the weighted amount (amount x stage probability) is rounded once, at the
end, to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round

from tandem.accounts.models import User
from tandem.core.pagination import Page, paginate
from tandem.deals.api_filters import SORTS, DealFilter
from tandem.deals.models import (
    Deal,
    DealContact,
    DealStageChange,
    DealStatus,
    Pipeline,
    PipelineStage,
)
from tandem.followups.models import Task
from tandem.followups.queries import company_tasks, person_tasks
from tandem.people.queries import TimelineEntry, person_timeline

CARD_LIMIT = 20  # cards shown per board column; the rest are "N more" (a link to the list)
CENT = Decimal("0.01")
TIMELINE_CONTACTS = 20  # contacts whose activities and touchpoints a deal's timeline shows
TIMELINE_LIMIT = 100


def _cents() -> Cast:
    """A deal's amount in the base currency as whole cents (an integer in both databases)."""
    return Cast(Round(F("amount_base") * 100), BigIntegerField())


def _money(cents: Any) -> Decimal:
    return (Decimal(int(cents or 0)) / 100).quantize(CENT)


def _weighted(cents_times_percent: Any) -> Decimal:
    """Sum of cents x probability (0-100) as money, rounded half up to the cent."""
    return (Decimal(int(cents_times_percent or 0)) / 10000).quantize(CENT, ROUND_HALF_UP)


# --- pipelines ------------------------------------------------------------------------


def active_pipelines() -> list[Pipeline]:
    """The pipelines a board can show, in their order (the switcher)."""
    return list(Pipeline.objects.filter(is_active=True).order_by("position", "id"))


def pipeline_stages(
    pipeline: Pipeline | int, *, with_inactive: bool = False
) -> list[PipelineStage]:
    qs = PipelineStage.objects.filter(pipeline=pipeline)
    if not with_inactive:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("position", "id"))


def stages_by_pipeline() -> dict[int, list[PipelineStage]]:
    """Active stages of every pipeline in one query (the deal form's stage choices)."""
    out: dict[int, list[PipelineStage]] = {}
    rows = PipelineStage.objects.filter(is_active=True, pipeline__is_active=True)
    for stage in rows.select_related("pipeline").order_by("pipeline__position", "position", "id"):
        out.setdefault(stage.pipeline_id, []).append(stage)
    return out


# --- the board ------------------------------------------------------------------------


@dataclass
class BoardColumn:
    stage: PipelineStage
    count: int
    amount: Decimal
    weighted: Decimal
    cards: list[Deal]

    @property
    def more(self) -> int:
        """Open deals in the column not shown as cards."""
        return self.count - len(self.cards)


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[BoardColumn]
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")
    stages: list[PipelineStage] = field(default_factory=list)


def pipeline_board(pipeline: Pipeline, *, limit: int = CARD_LIMIT) -> Board:
    """The open deals of a pipeline by stage: each column's count, amount and weighted
    amount from one GROUP BY over the board index (pipeline, status, stage), then only the
    cards shown, `limit` per column, soonest expected close first.

    Queries: the stages, the sums, the shown ids of each non-empty column (a sort of
    ids alone), and the shown cards in one query, whatever the number of deals.
    """
    stages = pipeline_stages(pipeline, with_inactive=True)
    sums = {
        row["stage_id"]: row
        for row in Deal.objects.filter(pipeline=pipeline, status=DealStatus.OPEN)
        .order_by()
        .values("stage_id")
        .annotate(n=Count("id"), cents=Sum(_cents()))
    }
    open_deals = Deal.objects.filter(pipeline=pipeline, status=DealStatus.OPEN)
    shown: dict[int, list[int]] = {}
    for stage in stages:
        if sums.get(stage.pk):
            # Ids only (a narrow sort, no joins), then every shown card in one query.
            shown[stage.pk] = list(
                open_deals.filter(stage=stage)
                .order_by(F("expected_close_on").asc(nulls_last=True), "id")
                .values_list("id", flat=True)[:limit]
            )
    wanted = [pk for ids in shown.values() for pk in ids]
    found = Deal.objects.select_related("company", "owner").in_bulk(wanted) if wanted else {}
    columns: list[BoardColumn] = []
    board = Board(pipeline=pipeline, columns=columns)
    total_cents = total_weighted = 0
    for stage in stages:
        row = sums.get(stage.pk)
        if not stage.is_active and row is None:
            continue  # a retired stage shows only while deals still sit in it
        count = row["n"] if row else 0
        cents = int(row["cents"] or 0) if row else 0
        column = BoardColumn(
            stage=stage,
            count=count,
            amount=_money(cents),
            weighted=_weighted(cents * stage.probability),
            cards=[found[pk] for pk in shown.get(stage.pk, []) if pk in found],
        )
        columns.append(column)
        board.count += count
        total_cents += cents
        total_weighted += cents * stage.probability
    board.amount, board.weighted = _money(total_cents), _weighted(total_weighted)
    board.stages = [c.stage for c in columns if c.stage.is_active]
    return board


# --- the list and its totals ----------------------------------------------------------


def deals_for_list(*, viewer: User | None, filters: DealFilter) -> QuerySet[Deal]:
    """Deals the viewer may see, filtered. Everyone inside the company sees every deal
    (principle 7: both teams look at the same numbers)."""
    qs = filters.apply(Deal.objects.all(), viewer=viewer)
    return qs.select_related("pipeline", "stage", "company", "owner")


def deals_page(
    *,
    viewer: User | None,
    filters: DealFilter,
    limit: int = 50,
    cursor: str | None = None,
    offset: int = 0,
) -> Page:
    """One page of the deal list, by keyset (as the people list, ADR 0004), newest first
    unless the filter says oldest (the API's filter: one filter for both lists)."""
    qs = deals_for_list(viewer=viewer, filters=filters)
    spec = SORTS[filters.sort or "newest"]
    return paginate(qs, spec=spec, limit=limit, cursor=cursor, offset=offset)


@dataclass(frozen=True)
class DealTotals:
    count: int
    amount: Decimal  # all the filtered deals, in the base currency
    open_amount: Decimal
    weighted: Decimal  # open deals: amount x stage probability
    won_amount: Decimal


def deal_totals(*, viewer: User | None, filters: DealFilter) -> DealTotals:
    """Count and sums over the whole filtered set (not the page), in one query."""
    qs = filters.apply(Deal.objects.all(), viewer=viewer).order_by()
    is_open = Q(status=DealStatus.OPEN)
    big = BigIntegerField()
    row = qs.aggregate(
        n=Count("id"),
        cents=Coalesce(Sum(_cents()), Value(0), output_field=big),
        open_cents=Coalesce(
            Sum(Case(When(is_open, then=_cents()), default=Value(0), output_field=big)),
            Value(0),
            output_field=big,
        ),
        won_cents=Coalesce(
            Sum(
                Case(When(status=DealStatus.WON, then=_cents()), default=Value(0), output_field=big)
            ),
            Value(0),
            output_field=big,
        ),
        weighted=Coalesce(
            Sum(
                Case(
                    When(
                        is_open,
                        then=ExpressionWrapper(
                            _cents() * F("stage__probability"), output_field=big
                        ),
                    ),
                    default=Value(0),
                    output_field=big,
                )
            ),
            Value(0),
            output_field=big,
        ),
    )
    return DealTotals(
        count=row["n"],
        amount=_money(row["cents"]),
        open_amount=_money(row["open_cents"]),
        weighted=_weighted(row["weighted"]),
        won_amount=_money(row["won_cents"]),
    )


def weighted_amount(deal: Deal) -> Decimal:
    """One deal's weighted amount: its amount x its stage's probability while open."""
    if deal.status != DealStatus.OPEN:
        return Decimal("0.00")
    cents = int((deal.amount_base * 100).quantize(Decimal("1"), ROUND_HALF_UP))
    return _weighted(cents * deal.stage.probability)


# --- one deal -------------------------------------------------------------------------


def deal_detail(pk: int) -> Deal:
    """One deal with what its page shows (Deal.DoesNotExist: a 404)."""
    return Deal.objects.select_related(
        "pipeline", "stage", "company", "owner", "close_reason", "created_by"
    ).get(pk=pk)


def deal_contacts(deal: Deal) -> list[DealContact]:
    """The deal's people with their roles, the primary one first."""
    return list(
        DealContact.objects.filter(deal=deal)
        .select_related("person", "person__company")
        .order_by("-is_primary", "id")
    )


def deal_history(deal: Deal) -> list[DealStageChange]:
    """Every move of the deal, oldest first."""
    return list(
        DealStageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


def _change_title(change: DealStageChange) -> str:
    to_stage = change.to_stage.name if change.to_stage else "?"
    if change.to_status == DealStatus.WON:
        return f"Won (in {to_stage})"
    if change.to_status == DealStatus.LOST:
        return f"Lost (in {to_stage})"
    if not change.from_status:
        return f"Opened in {to_stage}"
    if change.from_status != DealStatus.OPEN:
        return f"Reopened in {to_stage}"
    from_stage = change.from_stage.name if change.from_stage else "?"
    return f"{from_stage} → {to_stage}"


def change_entry(change: DealStageChange) -> TimelineEntry:
    who = change.changed_by
    return TimelineEntry(
        kind="deal",
        at=change.changed_at,
        actor_label=(who.get_full_name() or who.username) if who else "",
        title=_change_title(change),
        body=change.note,
        source_id=change.pk,
    )


def deal_timeline(
    deal: Deal,
    contacts: list[DealContact],
    history: list[DealStageChange],
    *,
    limit: int = TIMELINE_LIMIT,
) -> list[TimelineEntry]:
    """The deal's moves and its contacts' activities, stage changes and touchpoints
    (people's timeline, with what other apps add to it), newest first.

    A deal has a handful of contacts; the first TIMELINE_CONTACTS are read, each with
    people's own timeline query, so the deal page shows what the person page shows.
    """
    entries = [change_entry(c) for c in history]
    for contact in contacts[:TIMELINE_CONTACTS]:
        entries += person_timeline(contact.person, limit=limit)
    entries.sort(key=lambda e: (e.at, e.source_id), reverse=True)
    return entries[:limit]


@dataclass
class DealTasks:
    open: list[Task]
    done: list[Task]


def deal_tasks(deal: Deal, contacts: list[DealContact]) -> DealTasks:
    """Tasks about the deal's company (and its people) and about its other contacts,
    through followups' cards: open ones soonest first, then the latest done."""
    cards = []
    if deal.company is not None:
        cards.append(company_tasks(deal.company))
    for contact in contacts[:TIMELINE_CONTACTS]:
        if deal.company_id is None or contact.person.company_id != deal.company_id:
            cards.append(person_tasks(contact.person))
    seen: set[int] = set()
    open_: list[Task] = []
    done: list[Task] = []
    for card in cards:
        for task in card.open:
            if task.pk not in seen:
                seen.add(task.pk)
                open_.append(task)
        for task in card.done:
            if task.pk not in seen:
                seen.add(task.pk)
                done.append(task)
    far = (1, 0.0)
    open_.sort(key=lambda t: ((0, t.due_at.timestamp()) if t.due_at else far, t.pk))
    done.sort(key=lambda t: (t.completed_at or t.updated_at, t.pk), reverse=True)
    return DealTasks(open=open_, done=done[:5])
