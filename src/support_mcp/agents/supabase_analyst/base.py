"""Plumbing every Supabase check shares: the SQL runner of the target, logging each statement on
the ticket as a command, and turning an unreachable database into a finding."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from support_mcp.agents.base import CheckContext
from support_mcp.agents.supabase_analyst.texts import text
from support_mcp.domain.clock import utc_now
from support_mcp.domain.errors import ExecutionError
from support_mcp.domain.models import CheckStatus, Finding, Language
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.base import CommandResult
from support_mcp.executors.sql import SqlResult, SqlRunner, SqlSession
from support_mcp.policy.commands import Operation

SQL_TARGET = "supabase"
EXAMPLES_SHOWN = 5
_RUNNERS: dict[str, SqlRunner] = {}


def runner_for(target: SupabaseTarget) -> SqlRunner:
    """One SqlRunner per DSN (it holds no connection between calls)."""
    runner = _RUNNERS.get(target.database_url)
    if runner is None:
        runner = _RUNNERS[target.database_url] = SqlRunner(target.database_url, SQL_TARGET)
    return runner


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


class SupabaseCheck:
    """A check on the Supabase target; subclasses implement `probe`."""

    name = ""
    title = ""
    tools: Sequence[str] = ("supabase-sql",)
    _title_key = ""

    def __init__(self, target: SupabaseTarget | None = None) -> None:
        self.target = target

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
            return await self.probe(ctx, target, runner_for(target))
        except ExecutionError as exc:
            return [Finding(check=self.name, status=CheckStatus.ERROR, title=text(ctx.language, "error.db", title=title),
                            detail=str(exc))]

    async def probe(self, ctx: CheckContext, target: SupabaseTarget, runner: SqlRunner) -> list[Finding]:
        raise NotImplementedError

    async def read(self, ctx: CheckContext, runner: SqlRunner, sql: str, params: Mapping[str, Any] | None = None,
                   *, role: str | None = None, claims: Mapping[str, Any] | None = None,
                   max_rows: int | None = None) -> SqlResult:
        result = await runner.read(sql, params, role=role, claims=claims, max_rows=max_rows)
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
