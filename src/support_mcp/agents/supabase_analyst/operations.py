"""What an MCP client may ask of the supabase-analyst-agent step by step: a guarded read-only
statement (optionally as an API role with a user's JWT claims), selected checks, and a
reproduction of an RPC or a table read. Everything runs rolled back and is logged on the ticket.

A tool call reaches the agent through its CheckContext only, so each call opens one runner,
shared by everything the call runs, and closes it at its end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from support_mcp.agents.base import CheckContext
from support_mcp.agents.supabase_analyst import supabase_checks
from support_mcp.agents.supabase_analyst.base import SupabaseCheck, record_sql, runner_scope
from support_mcp.agents.supabase_analyst.rls_checks import ReproduceCheck, claims_of, sample_user
from support_mcp.agents.supabase_analyst.safe_sql import SafeSql
from support_mcp.domain.errors import InvalidInput, NotFound
from support_mcp.domain.models import Finding
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.sql import SqlResult, SqlRunner


def target_of(ctx: CheckContext) -> SupabaseTarget:
    if ctx.targets.supabase is None:
        raise InvalidInput("no Supabase target configured (SUPPORT_MCP_SUPABASE_DB_URL)")
    return ctx.targets.supabase


@asynccontextmanager
async def _call_runner(ctx: CheckContext) -> AsyncIterator[SqlRunner]:
    async with runner_scope(target_of(ctx), None) as runner:
        yield runner


async def guarded_query(ctx: CheckContext, sql: str, *, role: str | None = None, user: str | None = None,
                        max_rows: int = 100) -> SqlResult:
    """Run `sql` through the guard, read-only and rolled back; as `role` with `user`'s claims when
    given. Refused statements raise PolicyViolation with the reason."""
    async with _call_runner(ctx) as runner:
        claims: dict[str, Any] | None = None
        if user is not None:
            role = role or "authenticated"
            found = await sample_user(_Named("supabase_query"), ctx, runner, user)
            if found is None:
                raise NotFound(f"no user {user!r} in auth.users")
            claims = {**claims_of(found), "role": role}
        elif role is not None:
            claims = {"role": role}
        result = await SafeSql(runner).query(sql, role=role, claims=claims, max_rows=max_rows)
    await record_sql(ctx, "supabase_query", result)
    return result


async def run_checks(ctx: CheckContext, names: Sequence[str] = ()) -> list[Finding]:
    """The named checks (all when empty), concurrently."""
    known = {c.name for c in supabase_checks(target_of(ctx))}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidInput(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    async with _call_runner(ctx) as runner:
        chosen = [c for c in supabase_checks(target_of(ctx), runner) if not names or c.name in names]
        groups = await asyncio.gather(*(c.run(ctx) for c in chosen))
    return [f for g in groups for f in g]


async def reproduce(ctx: CheckContext, *, rpc: str | None = None, args: Mapping[str, Any] | None = None,
                    table: str | None = None, user: str | None = None) -> list[Finding]:
    """`supabase.rpc(rpc, args)` and/or reading `table` as `user` (id or email), rolled back."""
    params = {k: v for k, v in {"rpc": rpc, "args": dict(args or {}), "table": table, "user": user}.items() if v}
    async with _call_runner(ctx) as runner:
        return await ReproduceCheck(target_of(ctx), params, runner=runner).run(ctx)


class _Named(SupabaseCheck):
    """Lets a tool call reuse a check's logged reads under its own name."""

    def __init__(self, name: str) -> None:
        super().__init__(None)
        self.name = name
