"""Repository of repair plans and their approvals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from support_mcp.domain.errors import Conflict, NotFound
from support_mcp.domain.models import Approval, Plan
from support_mcp.store.database import Database
from support_mcp.store.idempotency import insert_once

_PLAN_COLUMNS = (
    "id, ticket_id, run_id, agent, repair, title, params, steps, dry_run_ok, dry_run_output, fingerprint, "
    "plan_hash, status, apply_output, validation, created_at, updated_at"
)
_APPROVAL_COLUMNS = "id, plan_id, plan_hash, approver, approver_identity, approved_at, expires_at, used_at"
_JSON_FIELDS = {"params", "steps", "validation"}
_UPDATABLE = {"steps", "dry_run_ok", "dry_run_output", "fingerprint", "plan_hash", "status", "apply_output",
              "validation"}


class PlanStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, *, ticket_id: uuid.UUID, run_id: uuid.UUID | None, agent: str, repair: str, title: str,
                     params: dict[str, Any], steps: list[dict[str, Any]]) -> Plan:
        row = await insert_once(
            self._db, """insert into repair_plans (ticket_id, run_id, agent, repair, title, params, steps, idempotency_key)
                         values (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (ticket_id, run_id, agent, repair, title, Jsonb(params), Jsonb(steps)),
            table="repair_plans", columns=_PLAN_COLUMNS)
        return Plan(**row)

    async def get(self, plan_id: uuid.UUID) -> Plan:
        row = await self._db.fetch_one(f"select {_PLAN_COLUMNS} from repair_plans where id = %s", (plan_id,))
        if row is None:
            raise NotFound(f"repair plan {plan_id} does not exist")
        return Plan(**row)

    async def for_ticket(self, ticket_id: uuid.UUID | None = None, *, limit: int = 50) -> list[Plan]:
        rows = await self._db.fetch_all(
            f"""select {_PLAN_COLUMNS} from repair_plans
                where %(t)s::uuid is null or ticket_id = %(t)s order by created_at desc limit %(n)s""",
            {"t": ticket_id, "n": limit},
        )
        return [Plan(**r) for r in rows]

    async def update(self, plan_id: uuid.UUID, *, expect_status: tuple[str, ...] | None = None,
                     **fields: Any) -> Plan:
        """Update fields; with `expect_status` the row must be in one of those states (no races)."""
        unknown = set(fields) - _UPDATABLE
        assert not unknown, unknown  # a programming error, not user input
        values = {k: (Jsonb(v) if k in _JSON_FIELDS and v is not None else v) for k, v in fields.items()}
        sets = ", ".join(f"{k} = %({k})s" for k in sorted(values))
        guard = " and status = any(%(expect)s)" if expect_status else ""
        row = await self._db.fetch_one(
            f"update repair_plans set {sets}, updated_at = now() where id = %(id)s{guard} returning {_PLAN_COLUMNS}",
            {**values, "id": plan_id, "expect": list(expect_status or ())},
        )
        if row is None:
            plan = await self.get(plan_id)
            raise Conflict(f"plan {plan_id} is {plan.status}; expected one of {', '.join(expect_status or ())}")
        return Plan(**row)

    async def add_approval(self, plan_id: uuid.UUID, plan_hash: str, approver: str,
                           approved_at: datetime, expires_at: datetime, *, approver_identity: str) -> Approval:
        row = await insert_once(
            self._db, """insert into plan_approvals
                           (plan_id, plan_hash, approver, approver_identity, approved_at, expires_at, idempotency_key)
                         values (%s, %s, %s, %s, %s, %s, %s)""",
            (plan_id, plan_hash, approver, approver_identity, approved_at, expires_at),
            table="plan_approvals", columns=_APPROVAL_COLUMNS)
        return Approval(**row)

    async def use_approval(self, plan_id: uuid.UUID, plan_hash: str, now: datetime, *,
                           not_by: Sequence[str]) -> Approval | None:
        """Consume the newest valid approval of exactly this hash (once) given by none of the
        identities `not_by` (the agents); None when there is none."""
        row = await self._db.fetch_one(
            f"""update plan_approvals set used_at = %(now)s
                where id = (select id from plan_approvals
                            where plan_id = %(plan)s and plan_hash = %(hash)s and used_at is null
                              and expires_at > %(now)s and approver_identity <> all(%(not_by)s)
                            order by approved_at desc limit 1 for update skip locked)
                returning {_APPROVAL_COLUMNS}""",
            {"plan": plan_id, "hash": plan_hash, "now": now, "not_by": list(not_by)},
        )
        return Approval(**row) if row else None

    async def approvals(self, plan_id: uuid.UUID) -> list[Approval]:
        rows = await self._db.fetch_all(
            f"select {_APPROVAL_COLUMNS} from plan_approvals where plan_id = %s order by approved_at", (plan_id,)
        )
        return [Approval(**r) for r in rows]
