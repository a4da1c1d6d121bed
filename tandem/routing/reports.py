"""Send-back reasons for marketing (issue 20, point 8; J3): what sales says about the leads.

Counts are of people sent back in the period (by the time of the send-back), by
reason × one dimension:

- `campaign`: the hand-off's campaign, the latest touchpoint with a campaign at or
  before the routing (`handoffs.handoff_campaign_id`): what brought the lead to MQL;
- `source`: the person's source;
- `segment`: the industry and size of the person's company.

Each count links to the people list filtered to exactly those people, through the
`sent_back_reason` filter routing gives people's list (ADR 0005). Its value is a
reason key, or the report's drill-down: a form-encoded set of reason, dimension and
period (`reason=no_budget&campaign=12&from=2026-10-01&to=2026-12-31`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlencode

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from tandem.campaigns.models import Campaign
from tandem.people.models import CompanySize
from tandem.routing.handoffs import active_reasons, handoff_campaign_id
from tandem.routing.models import Handoff, HandoffStatus, SendBackReason

GroupBy = Literal["campaign", "source", "segment"]
GROUP_LABELS: dict[str, str] = {
    "campaign": "Campaign",
    "source": "Source",
    "segment": "Segment (industry · company size)",
}
DEFAULT_DAYS = 90
FILTER_PARAM = "sent_back_reason"


# --- the period -----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days, both ends included, in the server's time zone."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.first, dt.time.min))

    @property
    def end(self) -> dt.datetime:
        """The moment after the period (exclusive)."""
        return timezone.make_aware(
            dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min)
        )


def _date(value: Any, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError({name: "Give a date as YYYY-MM-DD."}) from None


def period(date_from: Any = None, date_to: Any = None) -> Period:
    """The period asked for; by default the last 90 days up to today."""
    last = _date(date_to, "to") or timezone.localdate()
    first = _date(date_from, "from") or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationError({"from": "The period starts after it ends."})
    return Period(first, last)


# --- the report -----------------------------------------------------------------------


@dataclass
class Cell:
    count: int
    url: str


@dataclass
class Row:
    key: str  # the group value as the drill-down carries it
    label: str
    cells: list[Cell | None] = field(default_factory=list)  # one per reason, None: no one
    total: int = 0


@dataclass
class Report:
    group_by: str
    period: Period
    reasons: list[tuple[str, str]]  # (key, label), the columns
    rows: list[Row]
    totals: list[Cell | None]
    total: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "group_by": self.group_by,
            "from": self.period.first,
            "to": self.period.last,
            "reasons": [{"key": k, "label": label} for k, label in self.reasons],
            "rows": [
                {
                    "key": row.key,
                    "label": row.label,
                    "total": row.total,
                    "counts": [
                        {"reason": key, "count": cell.count, "people_url": cell.url}
                        for (key, _), cell in zip(self.reasons, row.cells, strict=True)
                        if cell is not None
                    ],
                }
                for row in self.rows
            ],
            "totals": [
                {"reason": key, "count": cell.count, "people_url": cell.url}
                for (key, _), cell in zip(self.reasons, self.totals, strict=True)
                if cell is not None
            ],
            "total": self.total,
        }


def _sent_back(p: Period) -> QuerySet[Handoff]:
    return Handoff.objects.filter(
        status=HandoffStatus.SENT_BACK,
        responded_at__gte=p.start,
        responded_at__lt=p.end,
        person__deleted_at__isnull=True,
    )


def _segment_key(industry: str, size: str) -> str:
    return urlencode({"industry": industry or "", "size": size or ""})


def _segment_label(industry: str, size: str) -> str:
    size_label = dict(CompanySize.choices).get(size, size)
    return f"{industry or 'No industry'} · {size_label or 'size unknown'}"


def people_url(reason: str, p: Period, group_by: str | None = None, group: str = "") -> str:
    """The people list filtered to those sent back for `reason` in `p` (and in one group)."""
    value: dict[str, str] = {"reason": reason}
    if group_by == "campaign":
        value["campaign"] = group
    elif group_by == "source":
        value["source"] = group
    elif group_by == "segment":
        parsed = parse_qs(group, keep_blank_values=True)
        value["industry"] = parsed.get("industry", [""])[0]
        value["size"] = parsed.get("size", [""])[0]
    value |= {"from": p.first.isoformat(), "to": p.last.isoformat()}
    return reverse("people:list") + "?" + urlencode({FILTER_PARAM: urlencode(value)})


def send_back_report(*, group_by: str, p: Period) -> Report:
    """Three queries: the counts by reason and group, the totals by reason, the reasons."""
    if group_by not in GROUP_LABELS:
        raise ValidationError({"group_by": f"Group by one of: {', '.join(GROUP_LABELS)}."})
    qs = _sent_back(p)
    people = Count("person_id", distinct=True)
    grouped: QuerySet[Any, Any]
    if group_by == "campaign":
        grouped = qs.annotate(group=handoff_campaign_id()).values("send_back_reason", "group")
    elif group_by == "source":
        grouped = qs.values("send_back_reason", group=F("person__source"))
    else:
        grouped = qs.values(
            "send_back_reason",
            industry=F("person__company__industry"),
            size=F("person__company__size"),
        )
    counts: dict[tuple[str, str], int] = {}
    items = cast(list[dict[str, Any]], list(grouped.annotate(n=people).order_by()))
    for item in items:
        if group_by == "segment":
            key = _segment_key(item["industry"] or "", item["size"] or "")
        elif group_by == "campaign":
            key = "none" if item["group"] is None else str(item["group"])
        else:
            key = item["group"] or ""
        counts[(item["send_back_reason"], key)] = item["n"]
    by_reason = dict(
        qs.values_list("send_back_reason")
        .annotate(n=people)
        .order_by()
        .values_list("send_back_reason", "n")
    )
    reasons = _columns(set(by_reason))
    labels = _group_labels(group_by, {key for _, key in counts})
    rows = []
    for key in labels:
        row = Row(key=key, label=labels[key])
        for reason, _ in reasons:
            n = counts.get((reason, key), 0)
            row.cells.append(Cell(n, people_url(reason, p, group_by, key)) if n else None)
            row.total += n
        rows.append(row)
    rows.sort(key=lambda r: (-r.total, r.label.lower()))
    totals = [
        Cell(by_reason[key], people_url(key, p)) if by_reason.get(key) else None
        for key, _ in reasons
    ]
    return Report(group_by, p, reasons, rows, totals, sum(by_reason.values()))


def _columns(used: set[str]) -> list[tuple[str, str]]:
    """The active reasons in their order, then retired ones still found in the period."""
    all_reasons = list(
        SendBackReason.objects.order_by("position", "id").values_list("key", "label", "is_active")
    )
    columns = [(k, label) for k, label, active in all_reasons if active]
    columns += [
        (k, f"{label} (retired)") for k, label, active in all_reasons if not active and k in used
    ]
    known = {k for k, _ in columns}
    columns += [(k, k) for k in sorted(used - known)]
    return columns


def _group_labels(group_by: str, keys: set[str]) -> dict[str, str]:
    if group_by == "campaign":
        ids = [int(k) for k in keys if k != "none"]
        names = dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name"))
        return {
            k: ("No campaign" if k == "none" else names.get(int(k), f"Campaign #{k}")) for k in keys
        }
    if group_by == "source":
        return {k: k or "No source" for k in keys}
    out = {}
    for k in keys:
        parsed = parse_qs(k, keep_blank_values=True)
        out[k] = _segment_label(parsed.get("industry", [""])[0], parsed.get("size", [""])[0])
    return out


# --- the people list filter (ADR 0005) ------------------------------------------------


def reason_choices() -> list[tuple[str, str]]:
    return [(r.key, r.label) for r in active_reasons()]


def sent_back_condition(value: str) -> Q:
    """People sent back for a reason (any time), or the report's drill-down (see module doc).

    An EXISTS over the person's hand-offs, so the list stays one query.
    """
    value = (value or "").strip()
    if "=" not in value:
        parts = {"reason": value}
    else:
        parsed = parse_qs(value, keep_blank_values=True)
        unknown = set(parsed) - {"reason", "campaign", "source", "industry", "size", "from", "to"}
        if unknown or any(len(v) > 1 for v in parsed.values()):
            raise ValidationError(
                {FILTER_PARAM: "Use a reason key, or a link from the send-back report."}
            )
        parts = {k: v[0] for k, v in parsed.items()}
    reason = parts.get("reason", "")
    if not SendBackReason.objects.filter(key=reason).exists():
        raise ValidationError({FILTER_PARAM: f"{reason!r} is not a send-back reason."})
    handoffs = Handoff.objects.filter(
        person_id=OuterRef("pk"), status=HandoffStatus.SENT_BACK, send_back_reason=reason
    )
    if "from" in parts or "to" in parts:
        try:
            p = period(parts.get("from"), parts.get("to"))
        except ValidationError:
            raise ValidationError({FILTER_PARAM: "The period in this link is not valid."}) from None
        handoffs = handoffs.filter(responded_at__gte=p.start, responded_at__lt=p.end)
    if "campaign" in parts:
        campaign = parts["campaign"]
        handoffs = handoffs.annotate(campaign_id=handoff_campaign_id())
        if campaign == "none":
            handoffs = handoffs.filter(campaign_id__isnull=True)
        elif campaign.isdigit() and len(campaign) < 19:
            handoffs = handoffs.filter(campaign_id=int(campaign))
        else:
            raise ValidationError({FILTER_PARAM: "The campaign in this link is not valid."})
    if "source" in parts:
        handoffs = handoffs.filter(person__source=parts["source"])
    if "industry" in parts or "size" in parts:
        industry, size = parts.get("industry", ""), parts.get("size", "")
        handoffs = handoffs.filter(
            Q(person__company__industry=industry) if industry else _no_company_value("industry")
        ).filter(Q(person__company__size=size) if size else _no_company_value("size"))
    return Q(Exists(handoffs))


def _no_company_value(name: str) -> Q:
    """What the report groups as blank: no company, or a company without the value."""
    return Q(person__company__isnull=True) | Q(**{f"person__company__{name}": ""})
