"""Run SQL on the customer's Supabase database (psycopg 3, async): bounded, and rolled back
unless a gated repair commits.

Every read runs in `BEGIN READ ONLY` with `statement_timeout` and `lock_timeout`; results are
capped by rows and bytes and say so (`truncated`, `total_rows`). A reproduction runs as an API
role (`set local role authenticated`) with a user's JWT claims in `request.jwt.claims`, as
PostgREST does, inside a transaction that is always rolled back. A database error is a value
(`SqlError` with SQLSTATE, message, detail, hint), not an exception; only an unreachable
database raises ExecutionError. Rows leave with secret columns, password hashes and JWTs
masked (`domain.secrets.redact_rows`). Connections come from a small pool per runner; every setting is
transaction-local, so pooled sessions share nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import psycopg
from psycopg import sql as pgsql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.domain.secrets import redact_rows

API_ROLES = ("anon", "authenticated", "service_role")
_COUNT_LIMIT = 100_000  # rows counted past the cap before the total becomes a lower bound
_FETCH_BATCH = 500


@dataclass(frozen=True)
class SqlError:
    """What PostgreSQL said when a statement failed."""

    sqlstate: str | None
    message: str
    detail: str | None = None
    hint: str | None = None
    context: str | None = None

    @classmethod
    def from_exc(cls, exc: psycopg.Error) -> SqlError:
        diag = exc.diag
        return cls(sqlstate=diag.sqlstate or getattr(exc, "sqlstate", None),
                   message=diag.message_primary or str(exc).strip(), detail=diag.message_detail,
                   hint=diag.message_hint, context=diag.context)

    def lines(self) -> list[str]:
        out = [f"SQLSTATE {self.sqlstate}: {self.message}"]
        out += [f"{label}: {value}" for label, value in (("DETAIL", self.detail), ("HINT", self.hint),
                                                         ("CONTEXT", self.context)) if value]
        return out


@dataclass(frozen=True)
class SqlResult:
    """Rows of one statement (capped) or its error; `total_rows` counts beyond the cap."""

    target: str
    sql: str
    columns: tuple[str, ...] = ()
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    total_rows: int = 0
    truncated: bool = False
    total_is_lower_bound: bool = False
    rowcount: int | None = None  # for writes inside a dry-run or an apply
    duration_ms: float = 0.0
    started_at: datetime | None = None
    error: SqlError | None = None
    role: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=False)) for row in self.rows]

    def render(self, max_rows: int = 50) -> str:
        """Plain text for the ticket: header, rows as tab-separated values, the totals."""
        if self.error is not None:
            return "\n".join(self.error.lines())
        if not self.columns:
            return f"rowcount: {self.rowcount}"
        lines = ["\t".join(self.columns)]
        lines += ["\t".join("NULL" if v is None else str(v) for v in row) for row in self.rows[:max_rows]]
        total = f"{self.total_rows}{'+' if self.total_is_lower_bound else ''}"
        shown = min(len(self.rows), max_rows)
        lines.append(f"({total} rows{f', {shown} shown' if shown < self.total_rows else ''}"
                     f"{', truncated' if self.truncated else ''})")
        return "\n".join(lines)


def _origins(cur: psycopg.AsyncCursor[Any]) -> tuple[tuple[int, int], ...]:
    """(table oid, column number) each result column was read from; (0, 0) for an expression."""
    result = cur.pgresult
    if result is None:
        return ()
    return tuple((result.ftable(i), result.ftablecol(i)) for i in range(result.nfields))


def _row_bytes(row: Sequence[Any]) -> int:
    return sum(len(str(v)) for v in row if v is not None) + len(row)


class SqlSession:
    """One open transaction on the target; every statement runs in its own savepoint (unless the
    caller says the transaction ends with it), so a failed statement is reported and the
    transaction stays usable."""

    def __init__(self, runner: SqlRunner, conn: psycopg.AsyncConnection[Any], role: str | None) -> None:
        self._runner = runner
        self.conn = conn
        self.role = role
        self.abort = False  # set to roll back a committing transaction at its end

    async def set_identity(self, *, role: str | None = None, claims: Mapping[str, Any] | None = None) -> None:
        """`set local role` (an API role only) and `request.jwt.claims`, for the rest of the transaction."""
        statement = identity_sql(role, claims)
        if statement is not None:
            await self.conn.execute(statement)
        if role is not None:
            self.role = role

    async def fetch(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None, *,
                    max_rows: int | None = None, max_bytes: int | None = None,
                    savepoint: bool = True) -> SqlResult:
        """Run one statement and return its rows (capped) or its error.

        `savepoint=False` saves two round trips when the transaction ends after this statement
        anyway (a failed statement then leaves it aborted)."""
        max_rows = self._runner.max_rows if max_rows is None else max_rows
        max_bytes = self._runner.max_bytes if max_bytes is None else max_bytes
        started_at, start = self._runner.clock(), time.monotonic()
        rows: list[tuple[Any, ...]] = []
        total, size, truncated, lower_bound = 0, 0, False, False
        columns: tuple[str, ...] = ()
        sources: tuple[str | None, ...] = ()
        rowcount: int | None = None
        try:
            async with self.conn.transaction() if savepoint else _no_savepoint():
                cur = self.conn.cursor()
                await cur.execute(cast(Any, query), params)
                rowcount = cur.rowcount
                if cur.description is not None:
                    columns = tuple(c.name for c in cur.description)
                    origins = _origins(cur)
                    while batch := await cur.fetchmany(_FETCH_BATCH):
                        for row in batch:
                            total += 1
                            size += _row_bytes(row)
                            if len(rows) < max_rows and size <= max_bytes:
                                rows.append(tuple(row))
                            else:
                                truncated = True
                        if total >= _COUNT_LIMIT:
                            lower_bound = True
                            break
                    sources = await self._runner.source_names(self.conn, origins)
        except psycopg.OperationalError as exc:
            if exc.sqlstate is None:  # the connection itself is gone
                raise ExecutionError(f"SQL target {self._runner.target!r} lost: {exc}") from None
            return self._error(self._shown(query, params), exc, started_at, start)
        except psycopg.Error as exc:
            return self._error(self._shown(query, params), exc, started_at, start)
        # Secrets never leave the executor: values of secret-named columns (encrypted_password,
        # token, …), password hashes and JWTs anywhere in a row are masked here, for every caller.
        rows = redact_rows(columns, rows, sources)
        return SqlResult(target=self._runner.target, sql=self._shown(query, params), columns=columns, rows=rows,
                         total_rows=total,
                         truncated=truncated, total_is_lower_bound=lower_bound, rowcount=rowcount,
                         duration_ms=(time.monotonic() - start) * 1000.0, started_at=started_at, role=self.role)

    def _shown(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None) -> str:
        """The statement as it ran, bound values in place of `%(id)s` (for notes and error details;
        the ticket journal redacts it like any output). Falls back to the text with placeholders."""
        if not params:
            return query
        try:
            return psycopg.AsyncClientCursor(self.conn).mogrify(query, params)
        except (psycopg.Error, TypeError, ValueError):
            return query

    def _error(self, query: str, exc: psycopg.Error, started_at: datetime, start: float) -> SqlResult:
        return SqlResult(target=self._runner.target, sql=query, error=SqlError.from_exc(exc),
                         duration_ms=(time.monotonic() - start) * 1000.0, started_at=started_at, role=self.role)


@asynccontextmanager
async def _no_savepoint() -> AsyncIterator[None]:
    yield


@dataclass(frozen=True)
class ApiRequest:
    """What PostgREST (the Data API) sets for a request besides role and claims: the method and
    path, and the exposed schemas as `search_path` (the first is the default schema)."""

    method: str
    path: str
    schemas: tuple[str, ...] = ("public",)


def identity_sql(role: str | None, claims: Mapping[str, Any] | None,
                 request: ApiRequest | None = None) -> pgsql.Composed | None:
    """What PostgREST sets before it runs a request, as one statement batch (values quoted by
    psycopg, never formatted in): `request.jwt.claims` and, for functions written against older
    PostgREST, `request.jwt.claim.<name>` per claim; `request.method`, `request.path`,
    `request.headers` and the exposed schemas as `search_path`; then `SET LOCAL ROLE`. None when
    there is nothing to set."""
    if role is not None and role not in API_ROLES:
        raise InvalidInput(f"role {role!r} is not an API role; expected one of {', '.join(API_ROLES)}")
    parts: list[pgsql.Composable] = []
    configs: list[tuple[str, str]] = []
    if claims is not None:
        configs.append(("request.jwt.claims", json.dumps(dict(claims), default=str)))
        configs += [(f"request.jwt.claim.{key}", str(value)) for key, value in claims.items()
                    if isinstance(value, str | int | float | bool) and _CLAIM_KEY.fullmatch(key)]
    if request is not None:
        configs += [("request.method", request.method), ("request.path", request.path), ("request.headers", "{}")]
        parts.append(pgsql.SQL("SET LOCAL search_path TO {}").format(
            pgsql.SQL(", ").join(pgsql.Identifier(s) for s in request.schemas)))
    if configs:
        parts.insert(0, pgsql.SQL("SELECT {}").format(pgsql.SQL(", ").join(
            pgsql.SQL("set_config({}, {}, true)").format(pgsql.Literal(k), pgsql.Literal(v)) for k, v in configs)))
    if role is not None:
        parts.append(pgsql.SQL("SET LOCAL ROLE {}").format(pgsql.Identifier(role)))
    return pgsql.SQL("; ").join(parts) if parts else None


_CLAIM_KEY = re.compile(r"[a-z_][a-z0-9_]*")


def _first_line(exc: BaseException, fallback: str) -> str:
    # A driver message may echo host and user but never the password; keep only its first line.
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else fallback


class SqlRunner:
    """Opens bounded transactions on one SQL target (a DSN that is never shown in output) over a
    small connection pool, opened on first use (or by `open`) and closed by `aclose`.

    Every setting a transaction makes is transaction-local (`SET LOCAL`, `set_config(…, true)`),
    so nothing of one call (role, JWT claims, timeouts) reaches the next call on the same pooled
    connection; a connection that committed a migration is `DISCARD ALL`-ed before reuse."""

    def __init__(self, dsn: str, target: str = "supabase", *, statement_timeout_ms: int = 5_000,
                 lock_timeout_ms: int = 1_000, max_rows: int = 500, max_bytes: int = 262_144,
                 connect_timeout_s: int = 5, clock: Clock = utc_now, pool_max_size: int = 4,
                 pool_timeout_s: float = 30.0, pool_max_idle_s: float = 300.0) -> None:
        if statement_timeout_ms <= 0 or lock_timeout_ms <= 0 or max_rows < 0 or max_bytes <= 0:
            raise InvalidInput("timeouts and caps of the SQL runner must be positive")
        if pool_max_size < 1 or pool_timeout_s <= 0:
            raise InvalidInput("the SQL runner's pool needs at least one connection and a positive timeout")
        self._dsn = dsn
        self._attnames: dict[tuple[int, int], str] = {}
        self.target = target
        self.statement_timeout_ms = statement_timeout_ms
        self.lock_timeout_ms = lock_timeout_ms
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._connect_timeout_s = connect_timeout_s
        self.clock = clock
        self.pool_max_size = pool_max_size
        self._pool_timeout_s = pool_timeout_s
        self._pool_max_idle_s = pool_max_idle_s
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._opening: asyncio.Lock | None = None

    async def source_names(self, conn: psycopg.AsyncConnection[Any],
                           origins: Sequence[tuple[int, int]]) -> tuple[str | None, ...]:
        """The table column each result column was read from as `schema.table.column`, whatever it
        was renamed to (`encrypted_password AS x` is still auth.users.encrypted_password): read
        from the catalog once per table and kept for the runner's life."""
        missing = sorted({oid for oid, number in origins if oid and (oid, number) not in self._attnames})
        if missing:
            cur = await conn.execute(
                "select a.attrelid::int8, a.attnum::int4, n.nspname || '.' || c.relname || '.' || a.attname"
                " from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid"
                " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
                " where a.attrelid = any(%s::oid[]) and a.attnum > 0", (missing,))
            for oid, number, name in await cur.fetchall():
                self._attnames[(oid, number)] = name
        return tuple(self._attnames.get(origin) for origin in origins)

    def __repr__(self) -> str:
        return f"SqlRunner(target={self.target!r})"

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    async def __aenter__(self) -> SqlRunner:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Connect once directly (fails fast with the server's own reason), then start the pool.
        Called by the first transaction when nobody opened the runner before."""
        if self._pool is not None:
            return
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is not None:
                return
            try:
                probe = await psycopg.AsyncConnection.connect(self._dsn, connect_timeout=self._connect_timeout_s)
                await probe.close()
            except psycopg.OperationalError as exc:
                raise ExecutionError(
                    f"SQL target {self.target!r} unreachable: {_first_line(exc, 'connection failed')}") from None
            # min_size 0: a customer's database keeps no idle connection of ours for long.
            pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                self._dsn, min_size=0, max_size=self.pool_max_size, timeout=self._pool_timeout_s,
                max_idle=self._pool_max_idle_s, open=False, name=f"sql-{self.target}",
                kwargs={"autocommit": True, "connect_timeout": self._connect_timeout_s,
                        "application_name": "support-mcp"})
            await pool.open()
            self._pool = pool

    async def aclose(self) -> None:
        """Close the pool; the runner opens a new one if it is used again."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        await self.open()
        assert self._pool is not None
        try:
            async with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise ExecutionError(f"SQL target {self.target!r}: no connection within "
                                 f"{self._pool_timeout_s:g}s: {_first_line(exc, 'pool timeout')}") from None

    def _begin_sql(self, read_only: bool, statement_timeout_ms: int | None, role: str | None,
                   claims: Mapping[str, Any] | None, request: ApiRequest | None = None) -> pgsql.Composed:
        begin = pgsql.SQL(
            "BEGIN READ ONLY; SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = {}"
            if read_only else "BEGIN; SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = {}",
        ).format(pgsql.Literal(f"{statement_timeout_ms or self.statement_timeout_ms}ms"),
                 pgsql.Literal(f"{self.lock_timeout_ms}ms"))
        identity = identity_sql(role, claims, request)
        return begin if identity is None else pgsql.SQL("; ").join([begin, identity])

    @asynccontextmanager
    async def transaction(self, *, read_only: bool = True, commit: bool = False, role: str | None = None,
                          claims: Mapping[str, Any] | None = None, request: ApiRequest | None = None,
                          statement_timeout_ms: int | None = None) -> AsyncIterator[SqlSession]:
        """A transaction, rolled back at the end unless `commit` (gated repairs only) and the body
        neither raised nor set `session.abort`.

        `role` must be one of the API roles; `claims` become `request.jwt.claims`. BEGIN, the
        timeouts, the role and the claims go to the server as one batch (one round trip)."""
        if commit and read_only:
            raise InvalidInput("a read-only transaction has nothing to commit")
        begin = self._begin_sql(read_only, statement_timeout_ms, role, claims, request)
        for attempt in (1, 2):
            async with self._connection() as conn:
                try:
                    await conn.execute(begin)
                except psycopg.OperationalError as exc:
                    if exc.sqlstate is None and attempt == 1:
                        continue  # a pooled connection the server closed meanwhile: the pool drops it
                    await _rollback(conn)
                    raise ExecutionError(f"SQL target {self.target!r}: {_first_line(exc, 'BEGIN failed')}") from None
                except psycopg.Error:
                    await _rollback(conn)
                    raise
                session = SqlSession(self, conn, role)
                try:
                    yield session
                except BaseException:
                    await _rollback(conn)
                    raise
                committed = commit and not session.abort
                try:
                    await conn.execute(b"COMMIT" if committed else b"ROLLBACK")
                    if committed:
                        # A migration may have set session state (SET, advisory locks, prepared
                        # statements); the next borrower gets a clean session.
                        await conn.execute(b"DISCARD ALL")
                except psycopg.OperationalError as exc:
                    raise ExecutionError(f"SQL target {self.target!r}: {_first_line(exc, 'COMMIT failed')}") from None
                return

    async def read(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None, *,
                   role: str | None = None, claims: Mapping[str, Any] | None = None,
                   request: ApiRequest | None = None,
                   max_rows: int | None = None, max_bytes: int | None = None) -> SqlResult:
        """One statement in its own read-only transaction, always rolled back."""
        async with self.transaction(role=role, claims=claims, request=request) as session:
            return await session.fetch(query, params, max_rows=max_rows, max_bytes=max_bytes, savepoint=False)


async def _rollback(conn: psycopg.AsyncConnection[Any]) -> None:
    """Roll back what is open; a connection that cannot is left for the pool to discard."""
    if conn.closed or conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        return
    try:
        await conn.execute(b"ROLLBACK")
    except psycopg.Error:
        pass


class SavepointRunner(SqlRunner):
    """Runs every transaction a check asks for as a savepoint of one open session, rolled back to
    at its end: lets a dry-run re-run the reproduction inside its own, never committed,
    transaction. Sequential use only (one connection)."""

    def __init__(self, session: SqlSession) -> None:
        outer = session._runner
        super().__init__("", outer.target, statement_timeout_ms=outer.statement_timeout_ms,
                         lock_timeout_ms=outer.lock_timeout_ms, max_rows=outer.max_rows,
                         max_bytes=outer.max_bytes, clock=outer.clock)
        self._session = session
        self._depth = 0

    def __repr__(self) -> str:
        return f"SavepointRunner(target={self.target!r})"

    async def open(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    @asynccontextmanager
    async def transaction(self, *, read_only: bool = True, commit: bool = False, role: str | None = None,
                          claims: Mapping[str, Any] | None = None, request: ApiRequest | None = None,
                          statement_timeout_ms: int | None = None) -> AsyncIterator[SqlSession]:
        """A savepoint with its own timeout, role and claims; always rolled back to (a savepoint
        reverts `SET LOCAL` too). `read_only` is not enforced: the outer transaction writes."""
        if commit:
            raise InvalidInput("a savepoint of a dry-run never commits")
        conn = self._session.conn
        self._depth += 1
        name = pgsql.Identifier(f"support_mcp_probe_{self._depth}")
        settings = pgsql.SQL("SAVEPOINT {}; SET LOCAL statement_timeout = {}").format(
            name, pgsql.Literal(f"{statement_timeout_ms or self.statement_timeout_ms}ms"))
        identity = identity_sql(role, claims, request)
        try:
            await conn.execute(settings if identity is None else pgsql.SQL("; ").join([settings, identity]))
            try:
                yield SqlSession(self, conn, role or self._session.role)
            finally:
                await conn.execute(pgsql.SQL("ROLLBACK TO SAVEPOINT {}; RELEASE SAVEPOINT {}").format(name, name))
        except psycopg.OperationalError as exc:
            raise ExecutionError(f"SQL target {self.target!r}: {_first_line(exc, 'savepoint failed')}") from None
        finally:
            self._depth -= 1


def user_claims(user_id: uuid.UUID | str, email: str | None = None, role: str = "authenticated",
                app_metadata: Mapping[str, Any] | None = None,
                user_metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """JWT claims as Supabase Auth issues them, for `request.jwt.claims`."""
    now = int(time.time())
    return {"sub": str(user_id), "role": role, "aud": "authenticated", "email": email,
            "app_metadata": dict(app_metadata or {}), "user_metadata": dict(user_metadata or {}),
            "iat": now, "exp": now + 3600, "aal": "aal1", "is_anonymous": False}
