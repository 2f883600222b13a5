"""Safe SQL: the guard (policy/sql_guard.py) in front of the SQL runner, for every statement an
agent or an MCP client sends. The guard parses and walks the statement; the routines it calls
are judged against the target's own catalog (volatility); then it runs read-only and capped."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from support_mcp.domain.errors import ExecutionError, PolicyViolation
from support_mcp.executors.sql import SqlResult, SqlRunner, SqlSession
from support_mcp.policy import sql_guard, sql_routines
from support_mcp.policy.sql_guard import GuardedStatement, Routine

# Every catalog candidate of each routine name: its volatility, whether core PostgreSQL or an
# installed extension owns it (then its marking is trusted), and for the project's own functions
# the body to judge (prosrc; pg_get_functiondef for PL/pgSQL and BEGIN ATOMIC bodies).
_ROUTINES_SQL = """
with candidates as (
  select p.oid, 'function'::text as kind, n.nspname::text as schema, p.proname::text as name
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where p.proname = any(%(functions)s)
  union all
  select p.oid, 'operator', n.nspname::text, o.oprname::text
  from pg_catalog.pg_operator o join pg_catalog.pg_namespace n on n.oid = o.oprnamespace
  join pg_catalog.pg_proc p on p.oid = o.oprcode
  where o.oprname = any(%(operators)s)
)
select c.kind, c.schema, c.name, p.provolatile::text, l.lanname::text, p.prokind::text,
       n.nspname::text as body_schema, p.proname::text as body_name,
       (n.nspname in ('pg_catalog', 'information_schema') or exists (
          select 1 from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_proc'::regclass
          and d.objid = p.oid and d.deptype = 'e')) as trusted,
       p.prosrc,
       case when p.prokind in ('f', 'p') and l.lanname in ('sql', 'plpgsql')
            and n.nspname not in ('pg_catalog', 'information_schema')
            then pg_catalog.pg_get_functiondef(p.oid) end as definition
from candidates c join pg_catalog.pg_proc p on p.oid = c.oid
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_language l on l.oid = p.prolang
"""
MAX_DEPTH = 8  # functions calling functions, judged this deep at most
MAX_FUNCTIONS = 200  # catalog candidates judged per statement at most


async def _candidates(session: SqlSession, routines: Collection[Routine]) -> list[tuple[Any, ...]]:
    functions = sorted({r.name for r in routines if r.kind == "function"})
    operators = sorted({r.name for r in routines if r.kind == "operator"})
    # no savepoint: a failed lookup refuses the statement and ends the transaction anyway
    result = await session.fetch(_ROUTINES_SQL, {"functions": functions, "operators": operators},
                                 max_rows=100_000, max_bytes=50_000_000, savepoint=False)
    if result.error is not None:
        raise ExecutionError(f"routine lookup failed: {result.error.message}")
    return result.rows


async def judge_routines(session: SqlSession, statement: GuardedStatement,
                         allowed: frozenset[str] = sql_guard.DEFAULT_ALLOWED_FUNCTIONS) -> None:
    """Refuse the statement unless every routine it calls (and every routine their bodies call,
    bounded) only reads: core and extension routines by their volatility marking, the project's
    own functions by their bodies (`policy.sql_routines`). A view's definition and the read
    policies of a table run with the statement, so their routines are judged too."""
    hidden = await _relation_routines(session, statement.relations)
    pending, seen, judged, depth = set(statement.routines) | hidden, set[Routine](), 0, 0
    while pending:
        if depth > MAX_DEPTH:
            raise PolicyViolation(f"SQL refused: functions call functions more than {MAX_DEPTH} levels deep")
        rows = await _candidates(session, pending)
        # core and extension routines: their volatility; unknown names: refused here
        level = GuardedStatement(sql=statement.sql, kind=statement.kind, routines=frozenset(pending))
        sql_guard.check_routines(level, {r: _marks(rows, r) for r in pending}, allowed)
        called: set[Routine] = set()
        for _kind, schema, name, _vol, language, prokind, body_schema, body_name, trusted, source, definition in rows:
            if trusted or name in allowed or f"{schema}.{name}" in allowed:
                continue
            judged += 1
            if judged > MAX_FUNCTIONS:
                raise PolicyViolation(f"SQL refused: more than {MAX_FUNCTIONS} functions to check")
            display = f"{body_schema}.{body_name}"
            if prokind not in ("f", "p"):
                raise sql_routines.refuse(display, "is a user-defined aggregate or window function")
            called |= sql_routines.judge_body(display, language, source or "", definition or "").routines
        seen |= pending
        pending = called - seen
        depth += 1


# What reading a relation runs besides the statement: a view's query, a table's read policies.
_RELATIONS_SQL = """
select c.oid::int8, c.relkind::text, n.nspname::text, c.relname::text,
       case when c.relkind = 'v' then pg_catalog.pg_get_viewdef(c.oid) end,
       array(select pg_catalog.pg_get_expr(p.polqual, p.polrelid) from pg_catalog.pg_policy p
             where p.polrelid = c.oid and p.polcmd in ('r', '*') and p.polqual is not null)
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.oid = any(%(oids)s::oid[])
  -- core and extension views are PostgreSQL's own (they read pg_authid to show role names)
  and n.nspname not in ('pg_catalog', 'information_schema')
  and not exists (select 1 from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_class'::regclass
                  and d.objid = c.oid and d.deptype = 'e')
"""
MAX_RELATIONS = 64


async def _relation_routines(session: SqlSession, relations: Collection[str]) -> set[Routine]:
    """The routines that views (their definitions) and read policies (their USING expressions)
    of the statement's relations call, followed through the relations those read, bounded."""
    routines: set[Routine] = set()
    pending, seen = set(relations), set[int]()
    while pending:
        names = sorted(pending)
        pending = set()
        found = await session.fetch("select to_regclass(n)::oid::int8 from unnest(%(names)s::text[]) as n",
                                    {"names": names}, max_rows=10_000, savepoint=False)
        if found.error is not None:
            raise ExecutionError(f"relation lookup failed: {found.error.message}")
        oids = [oid for (oid,) in found.rows if oid is not None and oid not in seen]
        if not oids:
            break
        seen.update(oids)
        if len(seen) > MAX_RELATIONS:
            raise PolicyViolation(f"SQL refused: more than {MAX_RELATIONS} views and tables to check")
        result = await session.fetch(_RELATIONS_SQL, {"oids": oids}, max_rows=10_000, max_bytes=50_000_000,
                                     savepoint=False)
        if result.error is not None:
            raise ExecutionError(f"relation lookup failed: {result.error.message}")
        for _oid, _kind, schema, name, viewdef, quals in result.rows:
            texts = ([viewdef] if viewdef else []) + [f"SELECT {q}" for q in quals or ()]
            for text in texts:
                reads = sql_routines.judge_query(f"{schema}.{name}", text)
                routines |= reads.routines
                pending |= set(reads.relations)
    return routines


def _marks(rows: list[tuple[Any, ...]], routine: Routine) -> frozenset[str]:
    """Volatility letters of a routine's candidates as the guard judges them: a core or extension
    routine by its marking; the project's own functions count as stable here, because their
    bodies are judged instead (a body that writes is refused whatever its label says). Empty:
    the database does not know the routine."""
    marks: set[str] = set()
    for kind, schema, name, vol, _language, _prokind, _bs, _bn, trusted, _source, _definition in rows:
        if kind == routine.kind and name == routine.name and routine.schema in (None, schema):
            marks.add(vol if trusted else "s")
    return frozenset(marks)


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
        await judge_routines(session, statement, self.allowed_functions)
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
