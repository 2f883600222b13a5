"""Sessions that hold a table lock in an open transaction, and the gated repair that ends one.

A migration or a hand-run `psql` session that took an ACCESS EXCLUSIVE lock (ALTER TABLE, LOCK
TABLE, a VACUUM FULL) and never committed makes every read of that table wait: the app's pages
hang until their statement timeout (57014) and the database looks healthy otherwise. The check
reads `pg_locks` with `pg_stat_activity` for the exposed schemas and the app's own tables: who
holds which lock, since when, in which state, and how many sessions wait behind it
(`pg_blocking_pids`). A lock that blocks reads and has been held longer than `HOLD_SECONDS` is a
`fail`; one that blocks only writes a `warn`.

The repair (`terminate_lock_holder`) ends that one session with `pg_terminate_backend` — never
another: the plan names its pid *and* backend start, the dry-run and the apply refuse when the
session is gone, was replaced (a new backend on a recycled pid) or no longer holds the lock, and
the fingerprint changes with the holder's transaction. What the session ran is shown redacted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, RepairStep
from support_mcp.agents.supabase_analyst.base import (
    SQL_TARGET,
    SupabaseCheck,
    configured_target,
    record_sql,
    runner_scope,
)
from support_mcp.agents.supabase_analyst.texts import text
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.domain.targets import SupabaseTarget, table_name
from support_mcp.executors.sql import SqlRunner
from support_mcp.policy.redaction import redact

AGENT = "supabase-analyst-agent"
HOLD_SECONDS = 30  # a lock held this long in one transaction is no longer a migration's moment
READ_BLOCKING = "AccessExclusiveLock"  # the one mode that conflicts with a plain SELECT
WRITE_BLOCKING = ("ExclusiveLock", "ShareRowExclusiveLock", "ShareLock")

HOLDERS = """
select a.pid, a.backend_start::text as backend_start, a.xact_start::text as xact_start, a.usename,
       a.application_name, a.state, round(extract(epoch from now() - a.xact_start))::int as held_s,
       left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 200) as query,
       array_agg(distinct format('%%I.%%I', n.nspname, c.relname) order by format('%%I.%%I', n.nspname, c.relname))
         as tables,
       bool_or(l.mode = 'AccessExclusiveLock') as blocks_reads,
       array_agg(distinct l.mode::text order by l.mode::text) as modes,
       (select count(*) from pg_catalog.pg_stat_activity w where a.pid = any(pg_catalog.pg_blocking_pids(w.pid)))
         as waiting
from pg_catalog.pg_locks l
join pg_catalog.pg_class c on c.oid = l.relation
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
join pg_catalog.pg_stat_activity a on a.pid = l.pid
where l.granted and l.locktype = 'relation' and l.mode = any(%(modes)s)
  and (n.nspname = any(%(schemas)s) or format('%%s.%%s', n.nspname, c.relname) = any(%(tables)s))
  and c.relkind in ('r', 'p', 'm', 'v')
  and a.pid <> pg_catalog.pg_backend_pid() and a.datname = pg_catalog.current_database()
  and a.xact_start < now() - make_interval(secs => %(hold_s)s)
group by a.pid, a.backend_start, a.xact_start, a.usename, a.application_name, a.state, a.query
order by blocks_reads desc, a.xact_start
"""

HOLDER_NOW = """
select a.xact_start::text as xact_start, a.state,
       exists (select 1 from pg_catalog.pg_locks l where l.pid = a.pid and l.granted and l.locktype = 'relation'
               and l.mode = any(%(modes)s)) as holds
from pg_catalog.pg_stat_activity a
where a.pid = %(pid)s and a.backend_start::text = %(backend_start)s
"""

TERMINATE = """
select pg_catalog.pg_terminate_backend(a.pid, 5000) as terminated
from pg_catalog.pg_stat_activity a
where a.pid = %(pid)s and a.backend_start::text = %(backend_start)s
"""

_MODES = [READ_BLOCKING, *WRITE_BLOCKING]


def _schemas(target: SupabaseTarget) -> dict[str, Any]:
    tables = [".".join(table_name(t)) for t in (target.profiles_table, target.subscriptions_table)]
    return {"schemas": list(target.exposed_schemas), "tables": tables, "modes": _MODES, "hold_s": HOLD_SECONDS}


class LockHoldersCheck(SupabaseCheck):
    """Sessions holding a table lock in a long open transaction (see the module docstring)."""

    name = "lock_holders"
    _title_key = "locks.title"
    title = text("de", _title_key)

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        lang = ctx.language
        result = await self.read(ctx, runner, HOLDERS, _schemas(target), max_rows=20)
        if result.error is not None:
            return [self.sql_error(ctx, result)]
        findings = []
        for row in result.dicts():
            reads = bool(row["blocks_reads"])
            key = "locks.blocks_reads" if reads else "locks.blocks_writes"
            title = text(lang, key, pid=row["pid"], user=row["usename"], tables=", ".join(row["tables"]),
                         seconds=row["held_s"], state=row["state"] or "-", waiting=row["waiting"])
            findings.append(self.problem(
                "lock_blocks_reads" if reads else "lock_blocks_writes",
                CheckStatus.FAIL if reads else CheckStatus.WARN, title,
                detail=text(lang, "locks.detail", seconds=HOLD_SECONDS),
                evidence=[f"pid {row['pid']} ({row['usename']}, {row['application_name'] or '-'}), "
                          f"{row['state']}, transaction since {row['xact_start']}: {', '.join(row['modes'])} "
                          f"on {', '.join(row['tables'])}",
                          f"last statement: {redact(row['query'])}",
                          f"{row['waiting']} session(s) waiting"],
                pid=row["pid"], backend_start=row["backend_start"], xact_start=row["xact_start"],
                user=row["usename"], application=row["application_name"], state=row["state"],
                held_s=row["held_s"], tables=list(row["tables"]), modes=list(row["modes"]), waiting=row["waiting"]))
        return findings or [Finding(check=self.name, status=CheckStatus.OK,
                                    title=text(lang, "locks.none", seconds=HOLD_SECONDS))]


class TerminateLockHolderRepair:
    """`pg_terminate_backend` of the one session a `lock_blocks_reads` finding names."""

    name = "terminate_lock_holder"
    agent = AGENT
    title = text("de", "locks.repair_title")

    def __init__(self, target: SupabaseTarget | None = None, runner: SqlRunner | None = None) -> None:
        self.target = target
        self.runner = runner

    def _target(self, ctx: CheckContext) -> SupabaseTarget:
        return configured_target(self.target, ctx)

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        """The holder of the longest-held lock that blocks reads (one session per plan)."""
        holders = [f for f in findings if f.check == LockHoldersCheck.name and f.status == CheckStatus.FAIL
                   and f.data.get("code") == "lock_blocks_reads"]
        if not holders:
            return None
        f = max(holders, key=lambda h: int(h.data.get("held_s") or 0))
        return {"pid": f.data["pid"], "backend_start": f.data["backend_start"], "xact_start": f.data["xact_start"],
                "tables": f.data["tables"], "user": f.data["user"]}

    @staticmethod
    def _params(steps: Sequence[RepairStep]) -> dict[str, Any]:
        params = steps[0].payload
        if not isinstance(params.get("pid"), int) or not isinstance(params.get("backend_start"), str):
            raise InvalidInput("terminate_lock_holder needs the session's pid (a number) and backend_start")
        return params

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        pid, start = params.get("pid"), params.get("backend_start")
        if not isinstance(pid, int) or isinstance(pid, bool) or not isinstance(start, str):
            raise InvalidInput("terminate_lock_holder needs the session's pid (a number) and backend_start")
        display = (f"select pg_terminate_backend({pid}, 5000) -- only the session started {start} "
                   f"(user {params.get('user')}), holding a lock on {', '.join(params.get('tables') or [])}")
        return [RepairStep(kind="sql", target=SQL_TARGET, display=display,
                           payload={"pid": pid, "backend_start": start, "xact_start": params.get("xact_start"),
                                    "tables": list(params.get("tables") or []), "user": params.get("user")})]

    async def _now(self, ctx: CheckContext, params: dict[str, Any]) -> dict[str, Any] | None:
        """The session as it is now: its transaction start, state and whether it still holds a lock."""
        async with runner_scope(self._target(ctx), self.runner) as runner:
            result = await runner.read(HOLDER_NOW, {"pid": params["pid"], "backend_start": params["backend_start"],
                                                    "modes": _MODES})
        await record_sql(ctx, f"{self.name}.check", result)
        if result.error is not None:
            raise InvalidInput("; ".join(result.error.lines()))
        rows = result.dicts()
        return rows[0] if rows else None

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        """The holder's identity and its transaction: another transaction of it is another plan."""
        params = self._params(steps)
        now = await self._now(ctx, params)
        state = f"{now['xact_start']}|{now['holds']}" if now else "gone"
        return hashlib.sha256(f"{params['pid']}|{params['backend_start']}|{state}".encode()).hexdigest()

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        params = self._params(steps)
        lang = ctx.language
        now = await self._now(ctx, params)
        if now is None or not now["holds"]:
            why = "locks.gone" if now is None else "locks.released"
            return DryRun(False, text(lang, why, pid=params["pid"]), await self.fingerprint(ctx, steps))
        return DryRun(True, text(lang, "locks.would_terminate", pid=params["pid"], user=params.get("user"),
                                 tables=", ".join(params["tables"]), since=now["xact_start"], state=now["state"]),
                      await self.fingerprint(ctx, steps))

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        params = self._params(steps)
        async with runner_scope(self._target(ctx), self.runner) as runner, \
                runner.transaction(read_only=False, commit=True) as session:
            result = await session.fetch(TERMINATE, {"pid": params["pid"], "backend_start": params["backend_start"]})
        await record_sql(ctx, f"{self.name}.apply", result)
        if result.error is not None:
            return ApplyResult(False, "\n".join(result.error.lines()))
        done = bool(result.rows and result.rows[0][0])
        output = text(ctx.language, "locks.terminated" if done else "locks.not_terminated", pid=params["pid"])
        return ApplyResult(done, output, changed=[f"session {params['pid']} terminated"] if done else [])

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        """The lock check again: ok when no session holds a read-blocking lock any more."""
        findings = await LockHoldersCheck(self._target(ctx), self.runner).run(ctx)
        still = [f for f in findings if f.status in (CheckStatus.FAIL, CheckStatus.ERROR)]
        return still or [Finding(check=self.name, status=CheckStatus.OK,
                                 title=text(ctx.language, "locks.validated", pid=params.get("pid")),
                                 evidence=[f.title for f in findings])]
