"""Repository of agent runs: steps, hypothesis, verdict, checklist; the per-ticket run lock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from support_mcp.domain.errors import Conflict, NotFound
from support_mcp.domain.models import Hypothesis, Run, RunStatus, Step, Verdict
from support_mcp.store.database import Database, Row

_RUN_COLUMNS = "id, ticket_id, agent, status, hypothesis, verdict, checklist, created_at, updated_at"
# Advisory-lock key space of runs: (class id, hash of the ticket id).
_RUN_LOCK_CLASS = 0x5255


def _run(row: Row, steps: list[Row]) -> Run:
    hypothesis = Hypothesis(**row["hypothesis"]) if row["hypothesis"] else None
    return Run(
        id=row["id"],
        ticket_id=row["ticket_id"],
        agent=row["agent"],
        status=RunStatus(row["status"]),
        hypothesis=hypothesis,
        verdict=Verdict(row["verdict"]) if row["verdict"] else None,
        checklist=row["checklist"] or {},
        steps=[Step(**{k: s[k] for k in ("name", "status", "started_at", "finished_at", "output")})
               for s in steps],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class RunStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_run(self, ticket_id: uuid.UUID, agent: str, status: RunStatus = RunStatus.QUEUED) -> Run:
        row = await self._db.fetch_one(
            f"insert into agent_runs (ticket_id, agent, status) values (%s, %s, %s) returning {_RUN_COLUMNS}",
            (ticket_id, agent, str(status)),
        )
        assert row is not None
        return _run(row, [])

    async def get_run(self, run_id: uuid.UUID) -> Run:
        row = await self._db.fetch_one(f"select {_RUN_COLUMNS} from agent_runs where id = %s", (run_id,))
        if row is None:
            raise NotFound(f"run {run_id} does not exist")
        steps = await self._db.fetch_all(
            "select * from agent_run_steps where run_id = %s order by ordinal", (run_id,)
        )
        return _run(row, steps)

    async def runs_for_ticket(self, ticket_id: uuid.UUID, *, limit: int = 20) -> list[Run]:
        rows = await self._db.fetch_all(
            f"select {_RUN_COLUMNS} from agent_runs where ticket_id = %s order by created_at desc limit %s",
            (ticket_id, limit),
        )
        return [await self.get_run(r["id"]) for r in rows]

    async def latest_unfinished(self, ticket_id: uuid.UUID, agent: str) -> Run | None:
        """The run a crashed or failed process left behind, to be resumed instead of started anew."""
        row = await self._db.fetch_one(
            """select id from agent_runs where ticket_id = %s and agent = %s
               and status in ('queued', 'running', 'failed') order by created_at desc limit 1""",
            (ticket_id, agent),
        )
        return await self.get_run(row["id"]) if row else None

    async def update_run(
        self,
        run_id: uuid.UUID,
        *,
        status: RunStatus | None = None,
        hypothesis: Hypothesis | None = None,
        verdict: Verdict | None = None,
        checklist: dict[str, bool] | None = None,
    ) -> None:
        await self._db.execute(
            """update agent_runs set
                 status = coalesce(%(status)s, status),
                 hypothesis = coalesce(%(hypothesis)s, hypothesis),
                 verdict = coalesce(%(verdict)s, verdict),
                 checklist = checklist || coalesce(%(checklist)s, '{}'::jsonb),
                 updated_at = now()
               where id = %(id)s""",
            {
                "id": run_id,
                "status": str(status) if status else None,
                "hypothesis": Jsonb(hypothesis.model_dump()) if hypothesis else None,
                "verdict": str(verdict) if verdict else None,
                "checklist": Jsonb(checklist) if checklist is not None else None,
            },
        )

    async def record_step(
        self,
        run_id: uuid.UUID,
        ordinal: int,
        name: str,
        status: str,
        *,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        output: dict[str, Any] | None = None,
    ) -> None:
        await self._db.execute(
            """insert into agent_run_steps (run_id, ordinal, name, status, started_at, finished_at, output)
               values (%s, %s, %s, %s, %s, %s, %s)
               on conflict (run_id, name) do update set
                 status = excluded.status,
                 started_at = coalesce(agent_run_steps.started_at, excluded.started_at),
                 finished_at = excluded.finished_at,
                 output = excluded.output""",
            (run_id, ordinal, name, status, started_at, finished_at, Jsonb(output or {})),
        )

    async def claim_queued(self) -> Run | None:
        """Claim the oldest queued run; concurrent workers never claim the same one."""
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                """select id from agent_runs where status = 'queued'
                   order by created_at for update skip locked limit 1"""
            )
            row = await cur.fetchone()
            if row is None:
                return None
            await conn.execute(
                "update agent_runs set status = 'running', updated_at = now() where id = %s", (row["id"],)
            )
        return await self.get_run(row["id"])

    @asynccontextmanager
    async def ticket_lock(self, ticket_id: uuid.UUID) -> AsyncIterator[None]:
        """Hold the ticket's advisory lock for the duration; a second holder gets Conflict."""
        async with self._db.advisory_lock(_RUN_LOCK_CLASS, str(ticket_id), wait=False) as locked:
            if not locked:
                raise Conflict(f"another run is already working on ticket {ticket_id}")
            yield
