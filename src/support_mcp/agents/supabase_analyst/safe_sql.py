"""Safe SQL: the guard (policy/sql_guard.py) in front of the SQL runner, for every statement an
agent or an MCP client sends. The guard parses and walks the statement; the routines it calls
are judged against the target's own catalog (volatility); then it runs read-only and capped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from support_mcp.domain.errors import ExecutionError
from support_mcp.executors.sql import SqlResult, SqlRunner, SqlSession
from support_mcp.policy import sql_guard
from support_mcp.policy.sql_guard import GuardedStatement, Routine

_VOLATILITY_SQL = """
select 'function' as kind, n.nspname as schema, p.proname as name, p.provolatile::text as vol
from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where p.proname = any(%(functions)s)
union all
select 'operator', n.nspname, o.oprname, p.provolatile::text
from pg_catalog.pg_operator o join pg_catalog.pg_namespace n on n.oid = o.oprnamespace
join pg_catalog.pg_proc p on p.oid = o.oprcode
where o.oprname = any(%(operators)s)
"""


async def volatility_of(session: SqlSession, statement: GuardedStatement) -> dict[Routine, frozenset[str]]:
    """For each routine of the statement, the volatility marks of every catalog candidate."""
    functions = sorted({r.name for r in statement.routines if r.kind == "function"})
    operators = sorted({r.name for r in statement.routines if r.kind == "operator"})
    if not functions and not operators:
        return {}
    # no savepoint: a failed lookup refuses the statement and ends the transaction anyway
    result = await session.fetch(_VOLATILITY_SQL, {"functions": functions, "operators": operators},
                                 max_rows=100_000, max_bytes=10_000_000, savepoint=False)
    if result.error is not None:
        raise ExecutionError(f"volatility lookup failed: {result.error.message}")
    marks: dict[Routine, set[str]] = {}
    for kind, schema, name, vol in result.rows:
        for routine in (Routine(kind, None, name), Routine(kind, schema, name)):
            if routine in statement.routines:
                marks.setdefault(routine, set()).add(vol)
    return {r: frozenset(marks.get(r, ())) for r in statement.routines}


class SafeSql:
    """Guarded, read-only access to one SQL target."""

    def __init__(self, runner: SqlRunner, allowed_functions: frozenset[str] = sql_guard.DEFAULT_ALLOWED_FUNCTIONS):
        self.runner = runner
        self.allowed_functions = allowed_functions

    async def check(self, sql: str) -> GuardedStatement:
        """Parse, walk and judge `sql`; raise PolicyViolation with the reason when refused."""
        async with self.runner.transaction() as session:
            return await self._check(session, sql)

    async def _check(self, session: SqlSession, sql: str) -> GuardedStatement:
        statement = sql_guard.analyze(sql)
        volatility = await volatility_of(session, statement)
        sql_guard.check_routines(statement, volatility, self.allowed_functions)
        return statement

    async def query(self, sql: str, *, role: str | None = None, claims: Mapping[str, Any] | None = None,
                    max_rows: int | None = None, max_bytes: int | None = None) -> SqlResult:
        """Run a guarded statement read-only, capped, always rolled back. The catalog is asked in
        the same read-only transaction, before `set local role` applies to the statement."""
        statement = sql_guard.analyze(sql)  # refuse before connecting when the parser already can
        async with self.runner.transaction() as session:
            await self._check(session, statement.sql)
            if role is not None or claims is not None:
                await session.set_identity(role=role, claims=claims)
            return await session.fetch(statement.sql, max_rows=max_rows, max_bytes=max_bytes, savepoint=False)
