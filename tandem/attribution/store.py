"""The stored credit (models.DealCredit): worked out once per deal, refreshed on read.

A report first brings the deals of its period up to date (`refresh`), then reads
their stored rows (`read`): no touchpoint join per request (ADR 0013).

What makes a stored row stale, all found set-based:

- the deal has no row (new, or its row was dropped by one of the rules below);
- the deal row changed: any change through the deals services (close, reopen, move,
  amount, contacts added or removed) bumps `deals_deal.updated_at`, and the row keeps
  the value it was worked out from (`deal_updated_at`);
- touchpoints recorded since the last sync (id above `CreditMark.touchpoint_id`) of a
  contact of the deal, at or before the end of its path (a backdated or offline touch);
  the same, inside the writing transaction, for people that campaigns, capture and
  people report as touched (people's PeopleTouchedStep); the marks move only up to
  settled ids (core.watermarks), so a PostgreSQL transaction that commits a lower id
  after a sync saw a higher one (an import's COPY) is still found;
- stage changes to `lead` since the last sync (the lead moment of w_shaped and
  full_path) of a contact;
- dedup merges made or undone since the last sync (with a margin): deals of both people;
- a person erased (people's ErasureStep): that person's deals;
- an import undone since the last sync, or being undone (it deletes touchpoints and
  people): every row.

Stale rows are worked out again from the same path loader as the per-request engine
(paths.load_deal_touches), in batches, each in one transaction under the mark row's
lock, so two processes never write the same deal at once.
"""

# ruff: noqa: S608 — the SQL is built from fixed fragments; values go as parameters

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from tandem.attribution.engine import UNATTRIBUTED, Credit, credit_paths, per_key, touch_weights
from tandem.attribution.markov import collapse
from tandem.attribution.models import CreditMark, DealCredit
from tandem.attribution.paths import GROUPINGS, DealPath, DealTouches, load_deal_touches
from tandem.attribution.rounding import split_cents
from tandem.attribution.rules import RULE_MODELS
from tandem.core import watermarks
from tandem.deals.models import Deal

# time_decay is stored for this half-life (the default); another one is credited per request.
STORED_HALF_LIFE = 7.0
BATCH = 1000
# Merges are looked for from a little before the last sync: a merge's time is taken
# before its transaction commits.
MERGE_MARGIN = dt.timedelta(minutes=10)
PATH_END = (
    "CASE WHEN d.status = 'won' THEN COALESCE(d.closed_at, d.created_at) ELSE d.created_at END"
)


# --- staleness -----------------------------------------------------------------------------


def forget_people(person_ids: Iterable[int]) -> int:
    """Drop the stored rows of every deal these people are contacts of (worked out again on
    the next read). Used inside the transaction that changes them."""
    ids = sorted({int(i) for i in person_ids})
    dropped = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            cursor.execute(
                "DELETE FROM attribution_dealcredit WHERE deal_id IN"
                " (SELECT dc.deal_id FROM deals_dealcontact dc"
                f" WHERE dc.person_id IN ({', '.join(['%s'] * len(chunk))}))",
                chunk,
            )
            dropped += max(cursor.rowcount, 0)
    return dropped


def people_touched(person_ids: list[int], why: str) -> None:
    """people's PeopleTouchedStep: their deals' rows go stale in the same transaction."""
    forget_people(person_ids)


def _locked_mark() -> CreditMark:
    CreditMark.objects.get_or_create(pk=1)
    return CreditMark.objects.select_for_update().get(pk=1)


def _news(mark: CreditMark | None) -> tuple[int, int, list[tuple[int, int]], str]:
    """(max touchpoint id, max stage change id, merges to look at, undone imports)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM campaigns_touchpoint")
        touch = int(cursor.fetchone()[0] or 0)
        cursor.execute("SELECT MAX(id) FROM people_stagechange")
        stage = int(cursor.fetchone()[0] or 0)
        merges: list[tuple[int, int]] = []
        if mark is not None and mark.synced_at is not None:
            since = mark.synced_at - MERGE_MARGIN
            cursor.execute(
                "SELECT survivor_id, merged_id FROM dedup_merge WHERE at >= %s OR undone_at >= %s",
                [since, since],
            )
            merges = [(int(a), int(b)) for a, b in cursor.fetchall()]
    return touch, stage, merges, _imports_undone()


def _imports_undone() -> str:
    """What the undone imports look like now; '*' while one is being undone (its
    touchpoints and people go batch by batch, so every sync meanwhile starts over)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), MAX(undone_at), MAX(CASE WHEN status = 'undoing' THEN 1 ELSE 0 END)"
            " FROM imports_importjob WHERE status IN ('undoing', 'undone')"
        )
        count, last, undoing = cursor.fetchone()
    return "*" if undoing else f"{count}:{last}" if count else ""


def sync() -> int:
    """Drop the rows that what happened since the last sync made stale; the number dropped."""
    mark = CreditMark.objects.filter(pk=1).first()
    touch, stage, merges, undone = _news(mark)
    if (
        mark is not None
        and mark.synced_at is not None
        and touch <= mark.touchpoint_id
        and stage <= mark.stage_change_id
        and not merges
        and undone == mark.imports_undone
        and undone != "*"
    ):
        return 0
    # What the marks may move up to: ids at or below these are committed or gone (on
    # PostgreSQL a lower id can commit after a higher one was seen; core.watermarks).
    settled_touch, touch_settled = watermarks.settled_max_id("campaigns_touchpoint")
    settled_stage, stage_settled = watermarks.settled_max_id("people_stagechange")
    with transaction.atomic():
        first = CreditMark.objects.filter(pk=1).first() is None
        mark = _locked_mark()
        touch, stage, merges, undone = _news(mark)
        dropped = 0
        with connection.cursor() as cursor:
            if first or mark.synced_at is None or undone == "*" or undone != mark.imports_undone:
                cursor.execute("DELETE FROM attribution_dealcredit")
                dropped += max(cursor.rowcount, 0)
            else:
                if touch > mark.touchpoint_id:
                    cursor.execute(
                        "DELETE FROM attribution_dealcredit WHERE deal_id IN"
                        " (SELECT dc.deal_id FROM campaigns_touchpoint t"
                        " JOIN deals_dealcontact dc ON dc.person_id = t.person_id"
                        " JOIN deals_deal d ON d.id = dc.deal_id"
                        f" WHERE t.id > %s AND t.id <= %s AND t.occurred_at <= {PATH_END})",
                        [mark.touchpoint_id, touch],
                    )
                    dropped += max(cursor.rowcount, 0)
                if stage > mark.stage_change_id:
                    cursor.execute(
                        "DELETE FROM attribution_dealcredit WHERE deal_id IN"
                        " (SELECT dc.deal_id FROM people_stagechange sc"
                        " JOIN deals_dealcontact dc ON dc.person_id = sc.person_id"
                        " WHERE sc.id > %s AND sc.id <= %s AND sc.to_stage = 'lead')",
                        [mark.stage_change_id, stage],
                    )
                    dropped += max(cursor.rowcount, 0)
        if merges:
            dropped += forget_people(p for pair in merges for p in pair)
        # Dropped up to what is visible; the marks move only as far as is settled, so a
        # range with a transaction still open in it is looked at again next time.
        if touch_settled:
            mark.touchpoint_id = max(mark.touchpoint_id, min(touch, settled_touch))
        if stage_settled:
            mark.stage_change_id = max(mark.stage_change_id, min(stage, settled_stage))
        mark.imports_undone = undone
        mark.synced_at = timezone.now()
        mark.save()
    return dropped


def stale_deals(where: str, params: list[Any], group_by: str) -> list[int]:
    """Ids of the deals matching `where` (on deals_deal d) with no fresh row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.id FROM deals_deal d"
            " LEFT JOIN attribution_dealcredit c ON c.deal_id = d.id AND c.group_by = %s"
            f" WHERE ({where}) AND (c.id IS NULL OR c.deal_updated_at <> d.updated_at)",
            [group_by, *params],
        )
        return [row[0] for row in cursor.fetchall()]


# --- working it out ------------------------------------------------------------------------


def _entries(cents: int, keys: list[str], weights: list[float]) -> str:
    if not keys:
        return json.dumps([[UNATTRIBUTED, cents, 1.0]])
    by_key = per_key(keys, weights)
    total = sum(by_key.values()) or 1.0
    parts = split_cents(cents, by_key)
    return json.dumps([[key, parts[key], weight / total] for key, weight in by_key.items()])


def _credit_rows(found: DealTouches, updated_at: Any, now: dt.datetime) -> list[DealCredit]:
    opening = found.path(GROUPINGS[0], to_close=False)
    closing = found.path(GROUPINGS[0], to_close=True)
    weights: dict[str, list[float]] = {}
    if found.status != "lost":
        for model in RULE_MODELS:
            path = closing if model == "full_path" else opening
            weights[model] = touch_weights(model, path, STORED_HALF_LIFE)
    rows = []
    for group_by in GROUPINGS:
        to_open = found.path(group_by, to_close=False).keys
        to_close = found.keys.get(group_by, [])
        columns = {
            model: _entries(found.cents, to_close if model == "full_path" else to_open, w)
            for model, w in weights.items()
        }
        rows.append(
            DealCredit(
                deal_id=found.deal_id,
                group_by=group_by,
                deal_updated_at=updated_at,
                computed_at=now,
                markov=json.dumps(collapse(to_open)),
                **columns,
            )
        )
    return rows


def compute(deal_ids: Iterable[int]) -> int:
    """Work out these deals' rows again, BATCH deals per transaction; the number of deals."""
    ids = sorted(set(deal_ids))
    done = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        with transaction.atomic():
            _locked_mark()
            # Read first: a change after this read leaves the row stale, never wrong.
            updated = dict(Deal.objects.filter(pk__in=batch).values_list("pk", "updated_at"))
            touches = load_deal_touches(list(updated))
            now = timezone.now()
            rows = [
                row
                for deal_id, found in touches.items()
                for row in _credit_rows(found, updated[deal_id], now)
            ]
            DealCredit.objects.filter(deal_id__in=batch).delete()
            DealCredit.objects.bulk_create(rows, batch_size=500)
            done += len(touches)
    return done


def refresh(
    where: str = "1 = 1", params: list[Any] | None = None, group_by: str = "campaign"
) -> int:
    """Bring the stored rows of the deals matching `where` up to date; deals worked out."""
    sync()
    return compute(stale_deals(where, list(params or []), group_by))


def rebuild() -> int:
    """Every deal's rows from scratch (the `attribution_refresh --rebuild` command)."""
    with transaction.atomic():
        _locked_mark()
        DealCredit.objects.all().delete()
    return refresh()


# --- reading -------------------------------------------------------------------------------


def read(model: str, group_by: str, where: str, params: list[Any]) -> Credit:
    """The period's credit from the stored rows (refresh first)."""
    if model == "markov":
        return _read_markov(group_by, where, params)
    credit = Credit({}, {})
    cents, counts = credit.cents, credit.counts
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.status, c.{model} FROM deals_deal d"
            " JOIN attribution_dealcredit c ON c.deal_id = d.id AND c.group_by = %s"
            f" WHERE {where} ORDER BY d.id",
            [group_by, *params],
        )
        loads = json.loads
        for status, stored in cursor.fetchall():
            if status == "lost":
                continue
            slot = 0 if status == "won" else 1
            given = 0
            for key, part, share in loads(stored or "[]"):
                found = cents.get(key)
                if found is None:
                    found = cents[key] = [0, 0]
                    counts[key] = [0.0, 0.0]
                found[slot] += part
                counts[key][slot] += share
                given += part
            if slot == 0:
                credit.won += 1
                credit.won_cents += given
            else:
                credit.opened += 1
                credit.open_cents += given
    return credit


def _read_markov(group_by: str, where: str, params: list[Any]) -> Credit:
    paths = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.id, d.status, CAST(ROUND(d.amount_base * 100) AS BIGINT), c.markov"
            " FROM deals_deal d"
            " JOIN attribution_dealcredit c ON c.deal_id = d.id AND c.group_by = %s"
            f" WHERE {where} ORDER BY d.id",
            [group_by, *params],
        )
        for deal_id, status, cents, keys in cursor.fetchall():
            paths.append(DealPath(deal_id, status, int(cents or 0), 0.0, keys=json.loads(keys)))
    return credit_paths("markov", paths)
