"""Run SQL on the customer's Supabase database (psycopg 3, async): bounded, and rolled back
unless a gated repair commits.

Every read runs in `BEGIN READ ONLY` with `statement_timeout` and `lock_timeout`; results are
capped by rows and bytes and say so (`truncated`, `total_rows`). A reproduction runs as an API
role (`set local role authenticated`) with a user's JWT claims in `request.jwt.claims`, as
PostgREST does, inside a transaction that is always rolled back. A database error is a value
(`SqlError` with SQLSTATE, message, detail, hint), not an exception; only an unreachable
database raises ExecutionError.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import psycopg
from psycopg import sql as pgsql

from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import ExecutionError, InvalidInput

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


def _row_bytes(row: Sequence[Any]) -> int:
    return sum(len(str(v)) for v in row if v is not None) + len(row)


class SqlSession:
    """One open transaction on the target; every statement runs in its own savepoint, so a
    failed statement is reported and the transaction stays usable."""

    def __init__(self, runner: SqlRunner, conn: psycopg.AsyncConnection[Any], role: str | None) -> None:
        self._runner = runner
        self.conn = conn
        self.role = role
        self.abort = False  # set to roll back a committing transaction at its end

    async def set_identity(self, *, role: str | None = None, claims: Mapping[str, Any] | None = None) -> None:
        """`set local role` (an API role only) and `request.jwt.claims`, for the rest of the transaction."""
        if role is not None and role not in API_ROLES:
            raise InvalidInput(f"role {role!r} is not an API role; expected one of {', '.join(API_ROLES)}")
        if claims is not None:
            await self.conn.execute("select set_config('request.jwt.claims', %s, true)",
                                    (json.dumps(dict(claims), default=str),))
        if role is not None:
            await self.conn.execute(pgsql.SQL("set local role {}").format(pgsql.Identifier(role)))
            self.role = role

    async def fetch(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None, *,
                    max_rows: int | None = None, max_bytes: int | None = None) -> SqlResult:
        """Run one statement and return its rows (capped) or its error."""
        max_rows = self._runner.max_rows if max_rows is None else max_rows
        max_bytes = self._runner.max_bytes if max_bytes is None else max_bytes
        started_at, start = self._runner.clock(), time.monotonic()
        rows: list[tuple[Any, ...]] = []
        total, size, truncated, lower_bound = 0, 0, False, False
        columns: tuple[str, ...] = ()
        rowcount: int | None = None
        try:
            async with self.conn.transaction():
                cur = self.conn.cursor()
                await cur.execute(cast(Any, query), params)
                rowcount = cur.rowcount
                if cur.description is not None:
                    columns = tuple(c.name for c in cur.description)
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
        except psycopg.OperationalError as exc:
            if exc.sqlstate is None:  # the connection itself is gone
                raise ExecutionError(f"SQL target {self._runner.target!r} lost: {exc}") from None
            return self._error(query, exc, started_at, start)
        except psycopg.Error as exc:
            return self._error(query, exc, started_at, start)
        return SqlResult(target=self._runner.target, sql=query, columns=columns, rows=rows, total_rows=total,
                         truncated=truncated, total_is_lower_bound=lower_bound, rowcount=rowcount,
                         duration_ms=(time.monotonic() - start) * 1000.0, started_at=started_at, role=self.role)

    def _error(self, query: str, exc: psycopg.Error, started_at: datetime, start: float) -> SqlResult:
        return SqlResult(target=self._runner.target, sql=query, error=SqlError.from_exc(exc),
                         duration_ms=(time.monotonic() - start) * 1000.0, started_at=started_at, role=self.role)


class SqlRunner:
    """Opens bounded transactions on one SQL target (a DSN that is never shown in output)."""

    def __init__(self, dsn: str, target: str = "supabase", *, statement_timeout_ms: int = 5_000,
                 lock_timeout_ms: int = 1_000, max_rows: int = 500, max_bytes: int = 262_144,
                 connect_timeout_s: int = 5, clock: Clock = utc_now) -> None:
        if statement_timeout_ms <= 0 or lock_timeout_ms <= 0 or max_rows < 0 or max_bytes <= 0:
            raise InvalidInput("timeouts and caps of the SQL runner must be positive")
        self._dsn = dsn
        self.target = target
        self.statement_timeout_ms = statement_timeout_ms
        self.lock_timeout_ms = lock_timeout_ms
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._connect_timeout_s = connect_timeout_s
        self.clock = clock

    def __repr__(self) -> str:
        return f"SqlRunner(target={self.target!r})"

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        try:
            return await psycopg.AsyncConnection.connect(self._dsn, connect_timeout=self._connect_timeout_s,
                                                         application_name="support-mcp")
        except psycopg.OperationalError as exc:
            # The message may echo host and user but never the password; keep only its first line.
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
            raise ExecutionError(f"SQL target {self.target!r} unreachable: {first}") from None

    @asynccontextmanager
    async def transaction(self, *, read_only: bool = True, commit: bool = False, role: str | None = None,
                          claims: Mapping[str, Any] | None = None,
                          statement_timeout_ms: int | None = None) -> AsyncIterator[SqlSession]:
        """A transaction, rolled back at the end unless `commit` (gated repairs only) and the body
        neither raised nor set `session.abort`.

        `role` must be one of the API roles; `claims` become `request.jwt.claims`."""
        if role is not None and role not in API_ROLES:
            raise InvalidInput(f"role {role!r} is not an API role; expected one of {', '.join(API_ROLES)}")
        if commit and read_only:
            raise InvalidInput("a read-only transaction has nothing to commit")
        conn = await self._connect()
        try:
            await conn.execute(b"BEGIN READ ONLY" if read_only else b"BEGIN")
            await conn.execute("select set_config('statement_timeout', %s, true), "
                               "set_config('lock_timeout', %s, true)",
                               (f"{statement_timeout_ms or self.statement_timeout_ms}ms",
                                f"{self.lock_timeout_ms}ms"))
            session = SqlSession(self, conn, None)
            await session.set_identity(role=role, claims=claims)
            try:
                yield session
            except BaseException:
                await conn.execute(b"ROLLBACK")
                raise
            await conn.execute(b"COMMIT" if commit and not session.abort else b"ROLLBACK")
        except psycopg.OperationalError as exc:
            raise ExecutionError(f"SQL target {self.target!r}: {str(exc).strip().splitlines()[0]}") from None
        finally:
            await conn.close()

    async def read(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None, *,
                   role: str | None = None, claims: Mapping[str, Any] | None = None,
                   max_rows: int | None = None, max_bytes: int | None = None) -> SqlResult:
        """One statement in its own read-only transaction, always rolled back."""
        async with self.transaction(role=role, claims=claims) as session:
            return await session.fetch(query, params, max_rows=max_rows, max_bytes=max_bytes)


def user_claims(user_id: uuid.UUID | str, email: str | None = None, role: str = "authenticated",
                app_metadata: Mapping[str, Any] | None = None,
                user_metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """JWT claims as Supabase Auth issues them, for `request.jwt.claims`."""
    now = int(time.time())
    return {"sub": str(user_id), "role": role, "aud": "authenticated", "email": email,
            "app_metadata": dict(app_metadata or {}), "user_metadata": dict(user_metadata or {}),
            "iat": now, "exp": now + 3600, "aal": "aal1", "is_anonymous": False}
