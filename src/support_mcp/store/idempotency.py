"""Idempotent writes: a retried call writes each of its notes and events once.

`idempotent_writes(prefix)` scopes a block (one MCP tool call with an idempotency key): every
message and event written inside it without a key of its own gets `prefix:1`, `prefix:2`, … in
the order of writing, and the unique indexes on those keys (migration 001) turn the second write
of a retried call into a read of the first. `ToolCallStore` keeps each keyed call's answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from support_mcp.domain.errors import Conflict
from support_mcp.store.database import Database, Row


@dataclass
class _Scope:
    prefix: str
    written: int = 0


_scope: ContextVar[_Scope | None] = ContextVar("support_mcp_idempotent_writes", default=None)


@contextmanager
def idempotent_writes(prefix: str) -> Iterator[None]:
    token = _scope.set(_Scope(prefix))
    try:
        yield
    finally:
        _scope.reset(token)


def write_key(explicit: str | None) -> str | None:
    """The idempotency key of the next write: its own, else the next one of the current scope."""
    scope = _scope.get()
    if explicit is not None or scope is None:
        return explicit
    scope.written += 1
    return f"{scope.prefix}:{scope.written}"


async def insert_once(db: Database, insert: str, params: tuple[Any, ...], *, table: str, columns: str) -> Row:
    """Run `insert` (an `insert into table (…, idempotency_key) values (…, %s)` whose last
    parameter is the key) with the key of the current scope; a second write with that key
    returns the first row instead of adding one."""
    key = write_key(None)
    row = await db.fetch_one(f"{insert} on conflict (idempotency_key) where idempotency_key is not null "
                             f"do nothing returning {columns}", (*params, key))
    if row is None:
        row = await db.fetch_one(f"select {columns} from {table} where idempotency_key = %s", (key,))
    assert row is not None
    return row


@dataclass(frozen=True)
class ToolCall:
    result: str | None  # None: the first call did not answer (it may have written part of its work)


class ToolCallStore:
    """The answers of MCP tool calls made with an idempotency key, per identity."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def begin(self, identity: str, key: str, tool: str, arguments_sha256: str) -> ToolCall | None:
        """Record a new call; for a known (identity, key) the earlier call, refused when it was a
        different tool or different arguments (a reused key, not a retry)."""
        row = await self._db.fetch_one(
            """with new as (
                   insert into mcp_tool_calls (identity, idempotency_key, tool, arguments_sha256)
                   values (%s, %s, %s, %s) on conflict do nothing returning 1)
               select (select count(*) from new) as created""",
            (identity, key, tool, arguments_sha256),
        )
        if row is not None and row["created"]:
            return None
        earlier = await self._db.fetch_one(
            "select tool, arguments_sha256, result from mcp_tool_calls where identity = %s and idempotency_key = %s",
            (identity, key),
        )
        assert earlier is not None
        if (earlier["tool"], earlier["arguments_sha256"]) != (tool, arguments_sha256):
            raise Conflict(f"idempotency key {key!r} was used for another call ({earlier['tool']} with other "
                           "arguments); a retry repeats the call exactly, a new call needs a new key")
        return ToolCall(earlier["result"])

    async def finish(self, identity: str, key: str, result: str) -> None:
        await self._db.execute(
            """update mcp_tool_calls set result = %s, completed_at = now()
               where identity = %s and idempotency_key = %s""",
            (result, identity, key),
        )
