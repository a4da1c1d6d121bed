"""The Deals card on a person's and a company's page, through people's extension points
(ADR 0005): people sits below deals and never imports it; deals fills the slots from
`DealsConfig.ready()`.

A person's card lists the deals they are a contact on (with their role), a company's
the deals of that company; open ones first, then the latest closed. Each links to the
deal's page (`deals:detail`, /deals/<id>/).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Case, DecimalField, IntegerField, QuerySet, Sum, Value, When
from django.urls import NoReverseMatch, reverse

from tandem.deals.models import ContactRole, Deal, DealContact, DealStatus
from tandem.people import extensions
from tandem.people.models import Company, Person

CARD_LIMIT = 20


@dataclass(frozen=True)
class DealRow:
    id: int
    name: str
    url: str
    pipeline: str
    stage: str
    probability: int
    status: str
    status_label: str
    amount: Decimal
    currency: str
    amount_base: Decimal
    expected_close_on: Any
    closed_at: Any
    role: str = ""


def deal_url(pk: int) -> str:
    try:
        return reverse("deals:detail", args=[pk])
    except NoReverseMatch:  # the deal pages are deals-ui's; the path is agreed
        return f"/deals/{pk}/"


def _ordered(qs: QuerySet) -> QuerySet:
    open_first = Case(When(status=DealStatus.OPEN, then=Value(0)), default=Value(1))
    return (
        qs.select_related("pipeline", "stage")
        .annotate(open_first=open_first)
        .order_by("open_first", "-closed_at", "-created_at", "-id")
    )


def _row(deal: Deal, role: str = "") -> DealRow:
    return DealRow(
        id=deal.pk,
        name=deal.name,
        url=deal_url(deal.pk),
        pipeline=deal.pipeline.name,
        stage=deal.stage.name,
        probability=deal.stage.probability,
        status=deal.status,
        status_label=deal.get_status_display(),
        amount=deal.amount,
        currency=deal.currency,
        amount_base=deal.amount_base,
        expected_close_on=deal.expected_close_on,
        closed_at=deal.closed_at,
        role=role,
    )


def _summary(qs: QuerySet) -> dict[str, Any]:
    """Open and won amounts in the base currency, over all the deals (not only those shown)."""
    sums = qs.aggregate(
        open=Sum(Case(When(status=DealStatus.OPEN, then="amount_base"), output_field=_money())),
        won=Sum(Case(When(status=DealStatus.WON, then="amount_base"), output_field=_money())),
        count=Sum(Value(1), output_field=IntegerField()),
    )
    cent = Decimal("0.01")
    return {
        "count": sums["count"] or 0,
        "open": Decimal(sums["open"] or 0).quantize(cent, rounding=ROUND_HALF_UP),
        "won": Decimal(sums["won"] or 0).quantize(cent, rounding=ROUND_HALF_UP),
    }


def _money() -> DecimalField:
    return DecimalField(max_digits=18, decimal_places=2)


def person_card(person: Person) -> dict[str, Any]:
    qs = Deal.objects.filter(contacts__person=person)
    roles = {
        deal_id: ContactRole(role).label
        for deal_id, role in DealContact.objects.filter(person=person).values_list(
            "deal_id", "role"
        )
    }
    rows = [_row(d, roles.get(d.pk, "")) for d in _ordered(qs)[:CARD_LIMIT]]
    return {"deals": rows, "summary": _summary(qs), "subject": person, "with_role": True}


def company_card(company: Company) -> dict[str, Any]:
    qs = Deal.objects.filter(company=company)
    rows = [_row(d) for d in _ordered(qs)[:CARD_LIMIT]]
    return {"deals": rows, "summary": _summary(qs), "subject": company, "with_role": False}


def register() -> None:
    extensions.register_person_section(
        extensions.PersonSection(
            key="deals", template="deals/_deals_section.html", load=person_card
        )
    )
    extensions.register_company_section(
        extensions.CompanySection(
            key="deals", template="deals/_deals_section.html", load=company_card
        )
    )
