"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the process answers; touches nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 only when the database answers and every migration is applied."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse({"status": "unavailable", "reason": f"database: {exc}"}, status=503)
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return JsonResponse({"status": "unavailable", "reason": f"migrations: {exc}"}, status=503)
    if pending:
        names = [f"{m.app_label}.{m.name}" for m, _ in pending]
        return JsonResponse(
            {
                "status": "unavailable",
                "reason": f"{len(names)} migrations not applied",
                "pending": names[:20],
            },
            status=503,
        )
    return JsonResponse({"status": "ok"})
