"""Setting up the sales process: pipelines, their stages, and the won and lost reason lists.

Managers and admins change them ("deals.manage_pipelines", "deals.manage_reasons").
Nothing here is deleted once deals may point at it: a stage or a reason that should no
longer be offered is archived (`is_active=False`), so reports of past deals keep it.

A fresh install has one default pipeline and both reason lists: `ensure_defaults()`
makes them on first use (the deal services, the settings pages and the API call it), so
a database flushed by tests, or a new one, never lacks them and a list a manager
emptied on purpose is not filled again (the reasons are made only when a kind has none
at all, archived included).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.core.audit import diff, record_audit, snapshot
from tandem.deals.models import (
    CloseReason,
    Deal,
    DealStageChange,
    DealStatus,
    Pipeline,
    PipelineStage,
)

DEFAULT_PIPELINE = "Sales"
DEFAULT_STAGES = (
    ("Qualification", 10),
    ("Discovery", 20),
    ("Proposal", 50),
    ("Negotiation", 75),
)
DEFAULT_REASONS = {
    DealStatus.WON: ("Product fit", "Price", "Relationship", "Timing", "Support and service"),
    DealStatus.LOST: (
        "Price",
        "Competitor",
        "No budget",
        "Timing",
        "No decision",
        "Missing features",
        "Went silent",
    ),
}
NAME_MAX = 100
PIPELINE_AUDITED = ("name", "is_default", "position", "is_active")
STAGE_AUDITED = ("name", "position", "probability", "is_active")
REASON_AUDITED = ("kind", "name", "position", "is_active")


# --- defaults ------------------------------------------------------------------------------


def ensure_default_pipeline() -> Pipeline:
    """The default pipeline; made with its four stages when there is none."""
    found = Pipeline.objects.filter(is_default=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            name = DEFAULT_PIPELINE
            if Pipeline.objects.filter(name=name).exists():
                # A pipeline of that name that is not the default: make it the default.
                pipeline = Pipeline.objects.get(name=name)
                pipeline.is_default, pipeline.is_active = True, True
                pipeline.save(update_fields=["is_default", "is_active"])
                if not pipeline.stages.filter(is_active=True).exists():
                    _seed_stages(pipeline)
                return pipeline
            pipeline = Pipeline.objects.create(name=name, is_default=True, position=10)
            _seed_stages(pipeline)
            return pipeline
    except IntegrityError:  # another request made it meanwhile
        return Pipeline.objects.get(is_default=True)


def _seed_stages(pipeline: Pipeline) -> None:
    last = pipeline.stages.aggregate(last=Max("position"))["last"] or 0
    PipelineStage.objects.bulk_create(
        PipelineStage(pipeline=pipeline, name=name, probability=p, position=last + 10 * i)
        for i, (name, p) in enumerate(DEFAULT_STAGES, start=1)
        if not pipeline.stages.filter(name=name).exists()
    )


def ensure_default_reasons() -> None:
    """Both reason lists, each made with its defaults when it has no entry at all."""
    for kind, names in DEFAULT_REASONS.items():
        if CloseReason.objects.filter(kind=kind).exists():
            continue
        try:
            with transaction.atomic():
                CloseReason.objects.bulk_create(
                    CloseReason(kind=kind, name=name, position=10 * i)
                    for i, name in enumerate(names, start=1)
                )
        except IntegrityError:  # made meanwhile
            pass


def ensure_defaults() -> Pipeline:
    ensure_default_reasons()
    return ensure_default_pipeline()


def default_pipeline() -> Pipeline:
    """The pipeline new deals go to unless told otherwise."""
    return ensure_default_pipeline()


def first_stage(pipeline: Pipeline) -> PipelineStage:
    stage = pipeline.stages.filter(is_active=True).order_by("position", "id").first()
    if stage is None:
        raise ValidationError({"stage": f"The pipeline “{pipeline}” has no active stage."})
    return stage


def active_reasons(kind: str) -> list[CloseReason]:
    ensure_default_reasons()
    return list(CloseReason.objects.filter(kind=kind, is_active=True).order_by("position", "id"))


# --- checks --------------------------------------------------------------------------------


def _clean_name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({field: "Give a name."})
    name = " ".join(value.split())
    if len(name) > NAME_MAX:
        raise ValidationError({field: f"At most {NAME_MAX} characters (got {len(name)})."})
    return name


def _clean_position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise ValidationError({"position": "Give a whole number from 0 to 1000000."})
    return value


def _clean_probability(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValidationError({"probability": "Give a whole percentage from 0 to 100."})
    return value


def _clean_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({field: "Give true or false."})
    return value


def _unknown(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})


def _collect(checks: dict[str, Any]) -> dict[str, Any]:
    """Run each (field -> zero-argument check); every field's error at once."""
    out, errors = {}, {}
    for name, check in checks.items():
        try:
            out[name] = check()
        except ValidationError as err:
            errors.update(err.message_dict)
    if errors:
        raise ValidationError(errors)
    return out


def _open_deals(stage: PipelineStage) -> int:
    return Deal.objects.filter(stage=stage, status=DealStatus.OPEN).count()


# --- pipelines -----------------------------------------------------------------------------


def create_pipeline(*, actor: Actor, data: dict[str, Any]) -> Pipeline:
    """A new pipeline with its stages ({"name", "probability"} in order; the default four
    when none are given). `is_default` makes it the default in place of the old one."""
    require(actor, "deals.manage_pipelines")
    _unknown(data, {"name", "is_default", "position", "is_active", "stages"})
    values = _collect(
        {
            "name": lambda: _clean_name(data.get("name")),
            "is_default": lambda: _clean_bool(data.get("is_default", False), "is_default"),
            "is_active": lambda: _clean_bool(data.get("is_active", True), "is_active"),
            **(
                {"position": lambda: _clean_position(data["position"])}
                if "position" in data
                else {}
            ),
        }
    )
    stages = _clean_stage_list(data.get("stages"))
    if values["is_default"] and not values["is_active"]:
        raise ValidationError({"is_active": "The default pipeline stays active."})
    with transaction.atomic():
        if Pipeline.objects.filter(name__iexact=values["name"]).exists():
            raise ValidationError({"name": f"There is a pipeline “{values['name']}” already."})
        if "position" not in values:
            values["position"] = (Pipeline.objects.aggregate(m=Max("position"))["m"] or 0) + 10
        make_default = values.pop("is_default")
        pipeline = Pipeline.objects.create(**values)
        PipelineStage.objects.bulk_create(
            PipelineStage(pipeline=pipeline, name=name, probability=p, position=10 * i)
            for i, (name, p) in enumerate(stages, start=1)
        )
        if make_default:
            _make_default(pipeline)
        record_audit(
            actor=actor,
            event="pipeline_created",
            target=pipeline,
            changes={
                **diff({}, snapshot(pipeline, PIPELINE_AUDITED)),
                "stages": [None, [f"{n} ({p} %)" for n, p in stages]],
            },
        )
    return pipeline


def _clean_stage_list(raw: Any) -> list[tuple[str, int]]:
    if raw is None:
        return list(DEFAULT_STAGES)
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"stages": "Give at least one stage, each with a name."})
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValidationError({f"stages.{i}": "Give the stage as {name, probability}."})
        try:
            name = _clean_name(item.get("name"), f"stages.{i}.name")
            probability = _clean_probability(item.get("probability", 10))
        except ValidationError as err:
            raise ValidationError(
                {
                    (k if k.startswith("stages.") else f"stages.{i}.{k}"): v
                    for k, v in err.message_dict.items()
                }
            ) from None
        if name.lower() in seen:
            raise ValidationError({f"stages.{i}.name": f"“{name}” is there twice."})
        seen.add(name.lower())
        out.append((name, probability))
    return out


def _make_default(pipeline: Pipeline) -> None:
    Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
    Pipeline.objects.filter(pk=pipeline.pk).update(is_default=True)
    pipeline.is_default = True


def update_pipeline(*, actor: Actor, pipeline: Pipeline, data: dict[str, Any]) -> Pipeline:
    """Rename it, move it in the list, make it the default, or archive it (no open deals,
    not the default: make another one the default first)."""
    require(actor, "deals.manage_pipelines")
    _unknown(data, {"name", "is_default", "position", "is_active"})
    checks: dict[str, Any] = {}
    if "name" in data:
        checks["name"] = lambda: _clean_name(data["name"])
    if "position" in data:
        checks["position"] = lambda: _clean_position(data["position"])
    if "is_default" in data:
        checks["is_default"] = lambda: _clean_bool(data["is_default"], "is_default")
    if "is_active" in data:
        checks["is_active"] = lambda: _clean_bool(data["is_active"], "is_active")
    values = _collect(checks)
    with transaction.atomic():
        pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        before = snapshot(pipeline, PIPELINE_AUDITED)
        if "name" in values and values["name"] != pipeline.name:
            taken = Pipeline.objects.filter(name__iexact=values["name"]).exclude(pk=pipeline.pk)
            if taken.exists():
                raise ValidationError({"name": f"There is a pipeline “{values['name']}” already."})
            pipeline.name = values["name"]
        if "position" in values:
            pipeline.position = values["position"]
        if values.get("is_default") is False and pipeline.is_default:
            raise ValidationError(
                {"is_default": "Make another pipeline the default; there is always one."}
            )
        active = values.get("is_active", pipeline.is_active)
        if not active:
            if pipeline.is_default or values.get("is_default"):
                raise ValidationError({"is_active": "The default pipeline stays active."})
            if Deal.objects.filter(pipeline=pipeline, status=DealStatus.OPEN).exists():
                raise ValidationError(
                    {"is_active": "This pipeline has open deals; move or close them first."}
                )
        pipeline.is_active = active
        pipeline.save(update_fields=["name", "position", "is_active"])
        if values.get("is_default") and not pipeline.is_default:
            _make_default(pipeline)
        changes = diff(before, snapshot(pipeline, PIPELINE_AUDITED))
        if changes:
            record_audit(actor=actor, event="pipeline_changed", target=pipeline, changes=changes)
    return pipeline


# --- stages --------------------------------------------------------------------------------


def add_stage(*, actor: Actor, pipeline: Pipeline, data: dict[str, Any]) -> PipelineStage:
    """A new stage, last in the pipeline unless `position` says where."""
    require(actor, "deals.manage_pipelines")
    _unknown(data, {"name", "probability", "position", "is_active"})
    values = _collect(
        {
            "name": lambda: _clean_name(data.get("name")),
            "probability": lambda: _clean_probability(data.get("probability", 10)),
            **(
                {"position": lambda: _clean_position(data["position"])}
                if "position" in data
                else {}
            ),
            "is_active": lambda: _clean_bool(data.get("is_active", True), "is_active"),
        }
    )
    with transaction.atomic():
        Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        if pipeline.stages.filter(name__iexact=values["name"]).exists():
            raise ValidationError({"name": f"“{pipeline}” has a stage “{values['name']}” already."})
        if "position" not in values:
            values["position"] = (pipeline.stages.aggregate(m=Max("position"))["m"] or 0) + 10
        stage = PipelineStage.objects.create(pipeline=pipeline, **values)
        record_audit(
            actor=actor,
            event="pipeline_stage_added",
            target=pipeline,
            changes={"stage": [None, f"{stage.name} ({stage.probability} %)"]},
        )
    return stage


def update_stage(
    *,
    actor: Actor,
    stage: PipelineStage,
    data: dict[str, Any],
    move_open_deals_to: int | None = None,
) -> PipelineStage:
    """Rename a stage, change its probability or position, archive or restore it.

    A stage with open deals is archived only with `move_open_deals_to`, another active
    stage of the same pipeline: its open deals move there, each with its history row.
    A pipeline keeps at least one active stage.
    """
    require(actor, "deals.manage_pipelines")
    _unknown(data, {"name", "probability", "position", "is_active"})
    checks: dict[str, Any] = {}
    if "name" in data:
        checks["name"] = lambda: _clean_name(data["name"])
    if "probability" in data:
        checks["probability"] = lambda: _clean_probability(data["probability"])
    if "position" in data:
        checks["position"] = lambda: _clean_position(data["position"])
    if "is_active" in data:
        checks["is_active"] = lambda: _clean_bool(data["is_active"], "is_active")
    values = _collect(checks)
    with transaction.atomic():
        Pipeline.objects.select_for_update().get(pk=stage.pipeline_id)
        stage = PipelineStage.objects.select_related("pipeline").get(pk=stage.pk)
        before = snapshot(stage, STAGE_AUDITED)
        if "name" in values and values["name"] != stage.name:
            siblings = PipelineStage.objects.filter(pipeline_id=stage.pipeline_id)
            if siblings.filter(name__iexact=values["name"]).exclude(pk=stage.pk).exists():
                raise ValidationError(
                    {"name": f"“{stage.pipeline}” has a stage “{values['name']}” already."}
                )
        for name, value in values.items():
            setattr(stage, name, value)
        moved = 0
        if before["is_active"] and not stage.is_active:
            moved = _archive(actor, stage, move_open_deals_to)
        changes = diff(before, snapshot(stage, STAGE_AUDITED))
        if not changes:
            return stage
        stage.save(update_fields=list(values))
        if moved:
            changes["open_deals_moved"] = [0, moved]
        record_audit(
            actor=actor,
            event="pipeline_stage_changed",
            target=stage.pipeline,
            changes={"stage": [stage.pk, stage.name], **changes},
        )
    return stage


def _archive(actor: Actor, stage: PipelineStage, move_to: int | None) -> int:
    """Before `stage` is archived: check a stage stays, move its open deals. How many moved."""
    siblings = PipelineStage.objects.filter(pipeline_id=stage.pipeline_id, is_active=True)
    if not siblings.exclude(pk=stage.pk).exists():
        raise ValidationError({"is_active": "A pipeline keeps at least one active stage."})
    count = _open_deals(stage)
    if not count:
        return 0
    if move_to is None:
        raise ValidationError(
            {
                "move_open_deals_to": f"{count} open deal(s) are in “{stage.name}”: "
                "choose the stage they move to."
            }
        )
    target = siblings.exclude(pk=stage.pk).filter(pk=move_to).first()
    if target is None:
        raise ValidationError(
            {"move_open_deals_to": "Choose another active stage of the same pipeline."}
        )
    now = timezone.now()
    deals = Deal.objects.filter(stage=stage, status=DealStatus.OPEN)
    ids = list(deals.values_list("id", flat=True))
    DealStageChange.objects.bulk_create(
        DealStageChange(
            deal_id=pk,
            from_stage=stage,
            to_stage=target,
            from_status=DealStatus.OPEN,
            to_status=DealStatus.OPEN,
            changed_at=now,
            changed_by=actor.user,
            note=f"“{stage.name}” was archived",
        )
        for pk in ids
    )
    Deal.objects.filter(pk__in=ids).update(stage=target, stage_changed_at=now, updated_at=now)
    return len(ids)


def reorder_stages(*, actor: Actor, pipeline: Pipeline, ids: list[int]) -> None:
    """Put the pipeline's stages in this order (every one of its stages' ids once)."""
    require(actor, "deals.manage_pipelines")
    with transaction.atomic():
        Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        current = list(PipelineStage.objects.filter(pipeline=pipeline).order_by("position", "id"))
        have = [s.pk for s in current]
        if (
            not isinstance(ids, list)
            or any(isinstance(i, bool) or not isinstance(i, int) for i in ids)
            or sorted(ids) != sorted(have)
        ):
            raise ValidationError({"ids": "Give every stage of this pipeline once."})
        if ids == have:
            return
        by_id = {s.pk: s for s in current}
        for i, pk in enumerate(ids, start=1):
            by_id[pk].position = i * 10
        PipelineStage.objects.bulk_update(current, ["position"])
        record_audit(
            actor=actor,
            event="pipeline_stages_reordered",
            target=pipeline,
            changes={"stages": [[by_id[pk].name for pk in have], [by_id[pk].name for pk in ids]]},
        )


def move_stage(*, actor: Actor, stage: PipelineStage, direction: str) -> None:
    """One place up or down (the settings page's buttons, so by keyboard too)."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Use up or down."})
    ids = list(
        PipelineStage.objects.filter(pipeline_id=stage.pipeline_id)
        .order_by("position", "id")
        .values_list("id", flat=True)
    )
    i = ids.index(stage.pk)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(ids):
        require(actor, "deals.manage_pipelines")
        return
    ids[i], ids[j] = ids[j], ids[i]
    reorder_stages(actor=actor, pipeline=stage.pipeline, ids=ids)


# --- close reasons -------------------------------------------------------------------------


def _clean_kind(value: Any) -> str:
    if value not in (DealStatus.WON, DealStatus.LOST):
        raise ValidationError({"kind": "Use won or lost."})
    return str(value)


def create_reason(*, actor: Actor, data: dict[str, Any]) -> CloseReason:
    """A new won or lost reason, last in its list unless `position` says where."""
    require(actor, "deals.manage_reasons")
    _unknown(data, {"kind", "name", "position", "is_active"})
    values = _collect(
        {
            "kind": lambda: _clean_kind(data.get("kind")),
            "name": lambda: _clean_name(data.get("name")),
            **(
                {"position": lambda: _clean_position(data["position"])}
                if "position" in data
                else {}
            ),
            "is_active": lambda: _clean_bool(data.get("is_active", True), "is_active"),
        }
    )
    ensure_default_reasons()
    with transaction.atomic():
        same_kind = CloseReason.objects.filter(kind=values["kind"])
        if same_kind.filter(name__iexact=values["name"]).exists():
            raise ValidationError(
                {"name": f"The {values['kind']} list has “{values['name']}” already."}
            )
        if "position" not in values:
            values["position"] = (same_kind.aggregate(m=Max("position"))["m"] or 0) + 10
        reason = CloseReason.objects.create(**values)
        record_audit(
            actor=actor,
            event="close_reason_created",
            target=reason,
            changes=diff({}, snapshot(reason, REASON_AUDITED)),
        )
    return reason


def update_reason(*, actor: Actor, reason: CloseReason, data: dict[str, Any]) -> CloseReason:
    """Rename a reason, move it, or retire (and bring back) it; deals closed with it keep it."""
    require(actor, "deals.manage_reasons")
    if "kind" in data:
        raise ValidationError({"kind": "A reason stays in its list; add one to the other."})
    _unknown(data, {"name", "position", "is_active"})
    checks: dict[str, Any] = {}
    if "name" in data:
        checks["name"] = lambda: _clean_name(data["name"])
    if "position" in data:
        checks["position"] = lambda: _clean_position(data["position"])
    if "is_active" in data:
        checks["is_active"] = lambda: _clean_bool(data["is_active"], "is_active")
    values = _collect(checks)
    with transaction.atomic():
        reason = CloseReason.objects.select_for_update().get(pk=reason.pk)
        if "name" in values:
            taken = CloseReason.objects.filter(kind=reason.kind, name__iexact=values["name"])
            if taken.exclude(pk=reason.pk).exists():
                raise ValidationError(
                    {"name": f"The {reason.kind} list has “{values['name']}” already."}
                )
        before = snapshot(reason, REASON_AUDITED)
        for name, value in values.items():
            setattr(reason, name, value)
        changes = diff(before, snapshot(reason, REASON_AUDITED))
        if changes:
            reason.save(update_fields=list(values))
            record_audit(actor=actor, event="close_reason_changed", target=reason, changes=changes)
    return reason


def move_reason(*, actor: Actor, reason: CloseReason, direction: str) -> None:
    """One place up or down in its list (swaps positions with the neighbour)."""
    require(actor, "deals.manage_reasons")
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Use up or down."})
    rows = list(CloseReason.objects.filter(kind=reason.kind).order_by("position", "id"))
    i = [r.pk for r in rows].index(reason.pk)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(rows):
        return
    rows[i], rows[j] = rows[j], rows[i]
    with transaction.atomic():
        for n, row in enumerate(rows, start=1):
            if row.position != n * 10:
                before = row.position
                row.position = n * 10
                row.save(update_fields=["position"])
                record_audit(
                    actor=actor,
                    event="close_reason_changed",
                    target=row,
                    changes={"position": [before, row.position]},
                )
