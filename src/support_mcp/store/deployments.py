"""Deployments reported without a ticket (migration 006), and the view `deploy_age` reads: those
plus the tickets' `deployment` events, each at the time the deploy happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from support_mcp.domain.models import Deployment
from support_mcp.store.database import Database, Row

_COLUMNS = "id, deployed_at, status, source as reported_by, payload"


def deployed_at(payload: dict[str, Any], written: datetime) -> datetime:
    """A ticket event's deploy time: `deployed_at` (or `at`) in its payload when it is an ISO time
    with a zone, else when the event was written (a CI hook posting after its deploy would
    otherwise make every healthy build look older than its deploy)."""
    for key in ("deployed_at", "at"):
        value = payload.get(key)
        if isinstance(value, str):
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            if when.tzinfo is not None:
                return when
    return written


def _deployment(row: Row) -> Deployment:
    return Deployment(source="support_mcp_deployments", **row)


class DeploymentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, *, deployed_at: datetime, status: str, reported_by: str, payload: dict[str, Any],
                  idempotency_key: str | None = None) -> Deployment:
        """Record one deployment; the same idempotency key returns the first record."""
        row = await self._db.fetch_one(
            f"""insert into support_mcp_deployments (deployed_at, status, source, payload, idempotency_key)
                values (%s, %s, %s, %s, %s) on conflict (idempotency_key) do nothing returning {_COLUMNS}""",
            (deployed_at, status, reported_by, Jsonb(payload), idempotency_key),
        )
        if row is None:  # a retry: the key is taken
            row = await self._db.fetch_one(
                f"select {_COLUMNS} from support_mcp_deployments where idempotency_key = %s", (idempotency_key,))
        assert row is not None
        return _deployment(row)

    async def recent(self, limit: int = 20) -> list[Deployment]:
        """The last deployments of both sources, newest deploy first."""
        rows = await self._db.fetch_all(
            f"select {_COLUMNS} from support_mcp_deployments order by deployed_at desc limit %s", (limit,))
        events = await self._db.fetch_all(
            """select id, ticket_id, agent, status, payload, created_at from support_automation_events
               where event_type = 'deployment' order by created_at desc limit %s""", (limit,))
        found = [_deployment(r) for r in rows] + [
            Deployment(id=e["id"], deployed_at=deployed_at(e["payload"] or {}, e["created_at"]), status=e["status"],
                       source="support_automation_events", reported_by=e["agent"], payload=e["payload"] or {},
                       ticket_id=e["ticket_id"])
            for e in events]
        return sorted(found, key=lambda d: d.deployed_at, reverse=True)[:limit]


__all__ = ["DeploymentStore", "deployed_at"]
