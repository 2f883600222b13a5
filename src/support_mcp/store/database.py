"""The connection pool every repository shares; one place that turns driver errors into ours."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from support_mcp.domain.errors import StoreUnavailable

Row = dict[str, Any]


def redact_dsn(dsn: str) -> str:
    """A DSN safe for error messages: the password never leaves this function."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    shown = {k: ("***" if k == "password" else v) for k, v in info.items()}
    return " ".join(f"{k}={v}" for k, v in shown.items())


def _connection_lost(exc: psycopg.OperationalError) -> bool:
    """Connection exceptions (08…), operator intervention such as a shutdown (57P…), or a broken
    connection the server never explained (no SQLSTATE)."""
    state = exc.sqlstate
    return state is None or state.startswith(("08", "57P"))


# What a client is told when the database fails it: a reason by SQLSTATE, never the server's own
# text (it names the database, the user, the host: parts of the DSN).
_REASONS = (
    ("57P01", "the database server shut the connection down (administrator command)"),
    ("57P02", "the database server crashed and is restarting"),
    ("57P03", "the database server is starting or shutting down and refuses connections"),
    ("55000", "the database refuses connections"),
    ("53300", "the database has no free connection slots"),
    ("3D000", "the configured database does not exist"),
    ("28", "the database refuses the configured credentials"),
    ("08", "the database server cannot be reached"),
)


_CONNECT_PHRASES = (
    ("not currently accepting connections", "the database refuses connections"),
    ("the database system is starting up", "the database server is starting and refuses connections"),
    ("the database system is shutting down", "the database server is shutting down and refuses connections"),
    ("too many clients", "the database has no free connection slots"),
    ("does not exist", "the configured database or role does not exist"),
    ("password authentication failed", "the database refuses the configured credentials"),
    ("no pg_hba.conf entry", "the database refuses connections from this host or user"),
)


def fault_reason(exc: BaseException) -> str:
    """The reason of a connection fault, for people and clients: no DSN, no server message."""
    state = getattr(exc, "sqlstate", None) or ""
    for prefix, reason in _REASONS:
        if state.startswith(prefix):
            return f"{reason} (SQLSTATE {state})"
    text = str(exc).lower()
    # A failed connection attempt carries no SQLSTATE (libpq has no result): its FATAL line does.
    for phrase, reason in _CONNECT_PHRASES:
        if phrase in text:
            return reason
    if "administrator command" in text:
        return "the database server shut the connection down (administrator command)"
    if "closed" in text:
        return "the database server closed the connection"
    if "connection refused" in text or "could not connect" in text or "no such file" in text:
        return "the database server cannot be reached (connection refused)"
    if "timeout" in text or "timed out" in text:
        return "the database server does not answer (timeout)"
    return f"the database connection failed ({type(exc).__name__})"


class Database:
    """An async connection pool over one DSN, opened explicitly (never at import time)."""

    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 8, timeout: float = 10.0) -> None:
        self.dsn = dsn
        self._timeout = timeout
        self._pool = AsyncConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            kwargs={"row_factory": dict_row, "autocommit": True},
        )

    async def open(self) -> None:
        """Connect once directly (fails fast with the server's own reason), then fill the pool."""
        try:
            probe = await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=max(1, int(self._timeout)))
            await probe.close()
            await self._pool.open(wait=True, timeout=self._timeout)
        except (PoolTimeout, psycopg.Error) as exc:
            await self._pool.close()
            lines = str(exc).strip().splitlines()
            cause = lines[0] if lines else type(exc).__name__
            raise StoreUnavailable(f"database unreachable ({redact_dsn(self.dsn)}): {cause}") from None

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        """A pooled autocommit connection; use `conn.transaction()` for atomic work."""
        try:
            async with self._pool.connection() as conn:
                yield conn  # type: ignore[misc]  # rows are dicts: the pool sets row_factory=dict_row
        except PoolTimeout:
            raise StoreUnavailable(f"no database connection within {self._timeout:g} s: "
                                   f"{await self._probe()}; retry later") from None
        except psycopg.OperationalError as exc:
            if not _connection_lost(exc):
                raise
            raise StoreUnavailable(f"database connection lost: {fault_reason(exc)}; retry later") from None

    async def _probe(self) -> str:
        """Why the pool has no connection: one direct attempt, its failure classified."""
        try:
            conn = await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=2)
        except psycopg.Error as exc:
            return fault_reason(exc)
        await conn.close()
        return "every pooled connection is busy"

    @asynccontextmanager
    async def advisory_lock(self, class_id: int, key: str, *, wait: bool = True) -> AsyncIterator[bool]:
        """Hold a session-level advisory lock on (class_id, hashtext(key)) for the block.

        With `wait=False` it yields False at once when another session holds the lock.
        """
        async with self.connection() as conn:
            fn = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
            cur = await conn.execute(f"select {fn}(%s, hashtext(%s)) as locked", (class_id, key))
            row = await cur.fetchone()
            locked = True if wait else bool(row and row["locked"])
            try:
                yield locked
            finally:
                if locked:
                    await conn.execute("select pg_advisory_unlock(%s, hashtext(%s))", (class_id, key))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def fetch_all(self, sql: str, params: Any = None) -> list[Row]:
        async with self.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()

    async def fetch_one(self, sql: str, params: Any = None) -> Row | None:
        async with self.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchone()

    async def execute(self, sql: str, params: Any = None) -> None:
        async with self.connection() as conn:
            await conn.execute(sql, params)
