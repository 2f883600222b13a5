"""Repository of the playbook's ticket tables: tickets, messages, automation events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from support_mcp.domain.errors import InvalidInput, NotFound
from support_mcp.domain.models import AuthorKind, AutomationEvent, Message, Ticket
from support_mcp.store.database import Database, Row
from support_mcp.store.idempotency import write_key

# On a customer's existing Supabase tables, columns this tool did not create may hold NULLs;
# the coalesces turn them into the defaults our migration gives new rows. ORDER BY clauses name
# the table's column explicitly: the bare name would mean the coalesce alias, which no index serves.
_TICKET_COLUMNS = (
    "id, coalesce(subject, '') as subject, coalesce(status, 'open') as status, "
    "coalesce(priority, 'normal') as priority, coalesce(tier, 1) as tier, customer, "
    "coalesce(escalation_path, '{}') as escalation_path, assigned_agent, "
    "coalesce(created_at, now()) as created_at, coalesce(updated_at, created_at, now()) as updated_at"
)
_MESSAGE_COLUMNS = (
    "id, ticket_id, coalesce(author_kind, 'system') as author_kind, author_name, coalesce(body, '') as body, "
    "coalesce(internal_only, true) as internal_only, coalesce(tags, '{}') as tags, "
    "coalesce(metadata, '{}') as metadata, coalesce(created_at, now()) as created_at"
)
_EVENT_COLUMNS = (
    "id, ticket_id, agent, coalesce(event_type, 'note') as event_type, coalesce(status, 'info') as status, "
    "coalesce(payload, '{}') as payload, resolves_event_id, idempotency_key, "
    "coalesce(created_at, now()) as created_at"
)
_AUTHOR_KINDS = {k.value for k in AuthorKind}


def _no_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold NUL; command output can (e.g. /proc/*/cmdline)."""
    if isinstance(value, str):
        return value.replace("\x00", "\u2400")
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nul(v) for v in value]
    return value


def _ticket(row: Row) -> Ticket:
    return Ticket(**row)


def _message(row: Row) -> Message:
    if row["author_kind"] not in _AUTHOR_KINDS:  # e.g. 'user' or 'bot' in a customer's own schema
        row = {**row, "metadata": {**row["metadata"], "author_kind": row["author_kind"]}, "author_kind": "system"}
    return Message(**row)


def _event(row: Row) -> AutomationEvent:
    return AutomationEvent(**row)


def messages_query(
    ticket_id: uuid.UUID,
    *,
    author_kind: AuthorKind | None = None,
    internal_only: bool | None = None,
    tag: str | None = None,
    limit: int = 50,
) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of `TicketStore.messages` (a function so a test can EXPLAIN it)."""
    clauses = ["ticket_id = %(ticket_id)s"]
    if author_kind is not None:
        clauses.append("author_kind = %(author_kind)s")
    if internal_only is not None:
        clauses.append("internal_only = %(internal_only)s")
    if tag is not None:
        clauses.append("tags @> array[%(tag)s]::text[]")
    sql = f"""select * from (
                  select {_MESSAGE_COLUMNS} from support_ticket_messages
                  where {" and ".join(clauses)}
                  order by support_ticket_messages.created_at desc, support_ticket_messages.id desc
                  limit %(limit)s) newest
                order by created_at, id"""
    params = {"ticket_id": ticket_id, "author_kind": str(author_kind) if author_kind else None,
              "internal_only": internal_only, "tag": tag, "limit": limit}
    return sql, params


class TicketStore:
    """Reads and writes tickets; every query is parameterised, ids are UUIDs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- tickets ---------------------------------------------------------------------------
    async def create_ticket(
        self,
        *,
        subject: str,
        customer: str | None = None,
        priority: str = "normal",
        tier: int = 1,
        status: str = "open",
        ticket_id: uuid.UUID | None = None,
    ) -> Ticket:
        if not subject.strip():
            raise InvalidInput("a ticket needs a subject")
        row = await self._db.fetch_one(
            f"""insert into support_tickets (id, subject, customer, priority, tier, status)
                values (coalesce(%s, gen_random_uuid()), %s, %s, %s, %s, %s)
                returning {_TICKET_COLUMNS}""",
            (ticket_id, subject, customer, priority, tier, status),
        )
        assert row is not None
        return _ticket(row)

    async def get_ticket(self, ticket_id: uuid.UUID) -> Ticket:
        row = await self._db.fetch_one(
            f"select {_TICKET_COLUMNS} from support_tickets where id = %s", (ticket_id,)
        )
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        return _ticket(row)

    async def list_tickets(self, *, status: str | None = None, limit: int = 50) -> list[Ticket]:
        rows = await self._db.fetch_all(
            f"""select {_TICKET_COLUMNS} from support_tickets
                where %(status)s::text is null or status = %(status)s
                order by support_tickets.updated_at desc limit %(limit)s""",
            {"status": status, "limit": limit},
        )
        return [_ticket(r) for r in rows]

    async def update_ticket(self, ticket_id: uuid.UUID, **fields: Any) -> Ticket:
        allowed = {"status", "priority", "tier", "assigned_agent", "escalation_path"}
        unknown = set(fields) - allowed
        if unknown:
            raise InvalidInput(f"cannot update ticket fields {sorted(unknown)}")
        if not fields:
            return await self.get_ticket(ticket_id)
        # Column names come from the allowlist above, never from the caller.
        assignments = ", ".join(f"{name} = %({name})s" for name in sorted(fields))
        row = await self._db.fetch_one(
            f"""update support_tickets set {assignments}, updated_at = now()
                where id = %(id)s returning {_TICKET_COLUMNS}""",
            {**fields, "id": ticket_id},
        )
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        return _ticket(row)

    async def append_escalation(self, ticket_id: uuid.UUID, hop: str) -> Ticket:
        row = await self._db.fetch_one(
            f"""update support_tickets
                set escalation_path = case when escalation_path[cardinality(escalation_path)] = %s
                                           then escalation_path else array_append(escalation_path, %s) end,
                    updated_at = now()
                where id = %s returning {_TICKET_COLUMNS}""",
            (hop, hop, ticket_id),
        )
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        return _ticket(row)

    # -- messages --------------------------------------------------------------------------
    async def add_message(
        self,
        ticket_id: uuid.UUID,
        *,
        body: str,
        author_kind: AuthorKind = AuthorKind.AGENT,
        author_name: str | None = None,
        internal_only: bool = True,
        tags: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Insert a message; with an idempotency key a repeated call returns the first message."""
        idempotency_key = write_key(idempotency_key)
        await self.get_ticket(ticket_id)
        row = await self._db.fetch_one(
            f"""insert into support_ticket_messages
                  (ticket_id, author_kind, author_name, body, internal_only, tags, metadata, idempotency_key)
                values (%s, %s, %s, %s, %s, %s, %s, %s)
                on conflict (idempotency_key) where idempotency_key is not null do nothing
                returning {_MESSAGE_COLUMNS}""",
            (
                ticket_id,
                str(author_kind),
                _no_nul(author_name),
                _no_nul(body),
                internal_only,
                _no_nul(list(tags)),
                Jsonb(_no_nul(metadata or {})),
                idempotency_key,
            ),
        )
        if row is None:
            row = await self._db.fetch_one(
                f"select {_MESSAGE_COLUMNS} from support_ticket_messages where idempotency_key = %s",
                (idempotency_key,),
            )
            assert row is not None
        await self._db.execute("update support_tickets set updated_at = now() where id = %s", (ticket_id,))
        return _message(row)

    async def messages(
        self,
        ticket_id: uuid.UUID,
        *,
        author_kind: AuthorKind | None = None,
        internal_only: bool | None = None,
        tag: str | None = None,
        limit: int = 50,
    ) -> list[Message]:
        """The newest `limit` matching messages, returned oldest first."""
        sql, params = messages_query(ticket_id, author_kind=author_kind, internal_only=internal_only, tag=tag,
                                     limit=limit)
        rows = await self._db.fetch_all(sql, params)
        return [_message(r) for r in rows]

    # -- automation events (append-only) ------------------------------------------------------
    async def add_event(
        self,
        ticket_id: uuid.UUID,
        *,
        event_type: str,
        status: str = "info",
        agent: str | None = None,
        payload: dict[str, Any] | None = None,
        resolves_event_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
    ) -> AutomationEvent:
        await self.get_ticket(ticket_id)
        idempotency_key = write_key(idempotency_key)
        row = await self._db.fetch_one(
            f"""insert into support_automation_events
                  (ticket_id, agent, event_type, status, payload, resolves_event_id, idempotency_key)
                values (%s, %s, %s, %s, %s, %s, %s)
                on conflict (idempotency_key) where idempotency_key is not null do nothing
                returning {_EVENT_COLUMNS}""",
            (ticket_id, agent, event_type, status, Jsonb(_no_nul(payload or {})), resolves_event_id, idempotency_key),
        )
        if row is None:
            row = await self._db.fetch_one(
                f"select {_EVENT_COLUMNS} from support_automation_events where idempotency_key = %s",
                (idempotency_key,),
            )
            assert row is not None
        return _event(row)

    async def open_events(self, ticket_id: uuid.UUID, *, limit: int = 50) -> list[AutomationEvent]:
        """Events with status `open` that no later event resolves."""
        rows = await self._db.fetch_all(
            f"""select {_EVENT_COLUMNS} from support_automation_events e
                where e.ticket_id = %s and e.status = 'open'
                  and not exists (select 1 from support_automation_events r
                                  where r.resolves_event_id = e.id)
                order by e.created_at desc limit %s""",
            (ticket_id, limit),
        )
        return [_event(r) for r in rows]

    async def events(
        self, ticket_id: uuid.UUID | None = None, *, event_type: str | None = None, limit: int = 100
    ) -> list[AutomationEvent]:
        """Newest first; without a ticket, across all tickets (e.g. the last deployments)."""
        rows = await self._db.fetch_all(
            f"""select {_EVENT_COLUMNS} from support_automation_events
                where (%(ticket_id)s::uuid is null or ticket_id = %(ticket_id)s)
                  and (%(event_type)s::text is null or event_type = %(event_type)s)
                order by support_automation_events.created_at desc limit %(limit)s""",
            {"ticket_id": ticket_id, "event_type": event_type, "limit": limit},
        )
        return [_event(r) for r in rows]
