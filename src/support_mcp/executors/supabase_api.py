"""HTTP clients of the supabase-analyst-agent (httpx): Supabase's Management API for Auth, Edge
Function and Postgres logs, and the app's monitoring snapshot endpoint.

The transport is injectable (httpx's `AsyncBaseTransport`); tests run a local HTTP server that
serves responses of the documented shape. The token is sent only as a bearer header and never
appears in errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import httpx

from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import ExecutionError, InvalidInput

LogSource = Literal["auth", "edge", "postgres"]

# The log explorer's SQL per source (as the dashboard's "Logs & Analytics" templates use them).
LOG_QUERIES: dict[str, str] = {
    "auth": ("select id, auth_logs.timestamp, event_message, metadata.level, metadata.status, metadata.path "
             "from auth_logs cross join unnest(metadata) as metadata "
             "order by timestamp desc limit {limit}"),
    "edge": ("select id, function_logs.timestamp, event_message, metadata.level "
             "from function_logs cross join unnest(metadata) as metadata "
             "order by timestamp desc limit {limit}"),
    "postgres": ("select identifier, postgres_logs.timestamp, id, event_message, parsed.error_severity "
                 "from postgres_logs cross join unnest(metadata) as m cross join unnest(m.parsed) as parsed "
                 "order by timestamp desc limit {limit}"),
}


@dataclass(frozen=True)
class HttpResult:
    url: str
    status: int
    payload: Any
    duration_ms: float


class SupabaseManagementApi:
    """`GET /v1/projects/{ref}/analytics/endpoints/logs.all` with a personal access token."""

    def __init__(self, base_url: str, project_ref: str, token: str, *, timeout_s: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None, clock: Clock = utc_now) -> None:
        if not project_ref.isalnum():
            raise InvalidInput(f"project ref {project_ref!r} must be alphanumeric")
        self._base = base_url.rstrip("/")
        self._ref = project_ref
        self._token = token
        self._timeout = timeout_s
        self._transport = transport
        self._clock = clock

    def __repr__(self) -> str:
        return f"SupabaseManagementApi(project_ref={self._ref!r})"

    async def logs(self, source: LogSource, *, minutes: int = 30, limit: int = 100) -> HttpResult:
        """The newest `limit` log rows of `source` over the last `minutes` minutes."""
        if source not in LOG_QUERIES:
            raise InvalidInput(f"unknown log source {source!r}")
        end = self._clock()
        params = {"sql": LOG_QUERIES[source].format(limit=int(limit)),
                  "iso_timestamp_start": (end - timedelta(minutes=minutes)).isoformat(),
                  "iso_timestamp_end": end.isoformat()}
        url = f"{self._base}/v1/projects/{self._ref}/analytics/endpoints/logs.all"
        return await get_json(url, params=params, headers={"Authorization": f"Bearer {self._token}"},
                              timeout_s=self._timeout, transport=self._transport)


async def get_json(url: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                   timeout_s: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> HttpResult:
    """GET `url` and decode JSON; a transport failure raises ExecutionError, an HTTP error status
    is returned (the caller judges it)."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s, transport=transport, follow_redirects=False) as client:
            response = await client.get(url, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise ExecutionError(f"GET {url.split('?')[0]} failed: {type(exc).__name__}") from None
    try:
        payload: Any = response.json()
    except ValueError:
        payload = {"error": f"not JSON (HTTP {response.status_code})", "body": response.text[:500]}
    return HttpResult(url=str(response.url).split("?")[0], status=response.status_code, payload=payload,
                      duration_ms=response.elapsed.total_seconds() * 1000.0)
