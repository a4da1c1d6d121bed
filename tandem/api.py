"""The one NinjaAPI (/api/v1/); each app adds its router."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="Tandem API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
)
