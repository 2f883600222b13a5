"""Plumbing every Supabase check shares: the SQL runner of the target, logging each statement on
the ticket as a command, and turning an unreachable database into a finding.

Whoever builds the checks and repairs for a target (the agent registry, an MCP tool call) hands
them one shared SqlRunner and closes it; a check built without one opens a runner for its run
and closes it afterwards."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from support_mcp.agents.base import CheckContext
from support_mcp.agents.supabase_analyst.texts import text
from support_mcp.domain.clock import utc_now
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.domain.models import CheckStatus, Finding, Language
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.base import CommandResult
from support_mcp.executors.sql import ApiRequest, SqlResult, SqlRunner, SqlSession
from support_mcp.policy.commands import Operation

SQL_TARGET = "supabase"
EXAMPLES_SHOWN = 5


def supabase_runner(target: SupabaseTarget) -> SqlRunner:
    """A new SqlRunner (its pool opens on first use) for the target; the caller closes it."""
    return SqlRunner(target.database_url, SQL_TARGET)


@asynccontextmanager
async def runner_scope(target: SupabaseTarget, shared: SqlRunner | None) -> AsyncIterator[SqlRunner]:
    """The shared runner when there is one, else a runner for this block only, closed after it."""
    if shared is not None:
        yield shared
        return
    runner = supabase_runner(target)
    try:
        yield runner
    finally:
        await runner.aclose()


def compact(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def sql_operation(check: str, sql: str, role: str | None = None) -> Operation:
    """An SQL statement as the ticket logs it: never executed through a command executor."""
    shown = compact(sql) if role is None else f"[role {role}] {compact(sql)}"
    return Operation(name=f"sql.{check}", argv=("sql", shown), target=SQL_TARGET, timeout_s=5.0)


async def record_sql(ctx: CheckContext, check: str, result: SqlResult) -> None:
    """Log one statement and its (capped) result on the ticket, like a command."""
    op = sql_operation(check, result.sql, result.role)
    stdout = result.render() if result.ok else ""
    stderr = "\n".join(result.error.lines()) if result.error else ""
    command = CommandResult(target=SQL_TARGET, argv=op.argv, exit_code=0 if result.ok else 1, stdout=stdout,
                            stderr=stderr, duration_ms=result.duration_ms,
                            started_at=result.started_at or utc_now(), truncated=result.truncated)
    ctx.results.append(command)
    await ctx.record(ctx.agent, op, command)


def configured_target(own: SupabaseTarget | None, ctx: CheckContext) -> SupabaseTarget:
    """A repair's Supabase target: its own, else the run's; none configured is bad input."""
    target = own or ctx.targets.supabase
    if target is None:
        raise InvalidInput("no Supabase target configured (SUPPORT_MCP_SUPABASE_DB_URL)")
    return target


class SupabaseCheck:
    """A check on the Supabase target; subclasses implement `probe`."""

    name = ""
    title = ""
    tools: Sequence[str] = ("supabase-sql",)
    _title_key = ""

    def __init__(self, target: SupabaseTarget | None = None, runner: SqlRunner | None = None) -> None:
        self.target = target
        self.runner = runner  # shared with the other checks and repairs of the target

    def title_for(self, language: Language) -> str:
        return text(language, self._title_key)

    def target_of(self, ctx: CheckContext) -> SupabaseTarget | None:
        return self.target or ctx.targets.supabase

    async def run(self, ctx: CheckContext) -> list[Finding]:
        """Run the probe; an unreachable database or a missing target is a finding."""
        target = self.target_of(ctx)
        title = self.title_for(ctx.language)
        if target is None:
            return [Finding(check=self.name, status=CheckStatus.SKIPPED,
                            title=text(ctx.language, "skipped.no_target", title=title))]
        try:
            async with runner_scope(target, self.runner) as runner:
                return await self.probe(ctx, target, runner)
        except ExecutionError as exc:
            return [Finding(check=self.name, status=CheckStatus.ERROR, title=text(ctx.language, "error.db", title=title),
                            detail=str(exc))]

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        raise NotImplementedError

    async def read(self, ctx: CheckContext, runner: SqlRunner, sql: str, params: Mapping[str, Any] | None = None,
                   *, role: str | None = None, claims: Mapping[str, Any] | None = None,
                   request: ApiRequest | None = None, max_rows: int | None = None) -> SqlResult:
        result = await runner.read(sql, params, role=role, claims=claims, request=request, max_rows=max_rows)
        await record_sql(ctx, self.name, result)
        return result

    async def fetch(self, ctx: CheckContext, session: SqlSession, sql: str,
                    params: Mapping[str, Any] | None = None, max_rows: int | None = None) -> SqlResult:
        result = await session.fetch(sql, params, max_rows=max_rows)
        await record_sql(ctx, self.name, result)
        return result

    def sql_error(self, ctx: CheckContext, result: SqlResult) -> Finding:
        assert result.error is not None
        return Finding(check=self.name, status=CheckStatus.ERROR,
                       title=text(ctx.language, "error.sql", title=self.title_for(ctx.language)),
                       detail=compact(result.sql)[:300], evidence=result.error.lines(),
                       data={"sqlstate": result.error.sqlstate})

    def problem(self, code: str, status: CheckStatus, title: str, *, detail: str = "",
                evidence: Sequence[str] = (), **data: Any) -> Finding:
        """A finding that names its cause as a code repairs can match on."""
        return Finding(check=self.name, status=status, title=title, detail=detail, evidence=list(evidence)[:20],
                       data={"code": code, **data})


def example_lines(result: SqlResult, limit: int = EXAMPLES_SHOWN) -> list[str]:
    return [", ".join(f"{k}={v}" for k, v in row.items()) for row in result.dicts()[:limit]]


def json_rows(result: SqlResult, limit: int = EXAMPLES_SHOWN) -> list[dict[str, Any]]:
    return [{k: (v if isinstance(v, int | float | bool | type(None)) else str(v)) for k, v in row.items()}
            for row in result.dicts()[:limit]]
