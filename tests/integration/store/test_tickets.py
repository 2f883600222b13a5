"""The ticket repository against a real PostgreSQL."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from support_mcp.domain.errors import NotFound
from support_mcp.domain.models import AuthorKind
from support_mcp.store.database import Database
from support_mcp.store.tickets import TicketStore


async def test_message_with_same_idempotency_key_is_stored_once(db: Database) -> None:
    store = TicketStore(db)
    ticket = await store.create_ticket(subject="Login schlägt fehl", customer="acme")
    first = await store.add_message(ticket.id, body="note", idempotency_key="run-1:hypothesis")
    again = await store.add_message(ticket.id, body="note (resumed)", idempotency_key="run-1:hypothesis")
    assert again.id == first.id
    assert len(await store.messages(ticket.id)) == 1


async def test_messages_default_to_internal_only(db: Database) -> None:
    store = TicketStore(db)
    ticket = await store.create_ticket(subject="x")
    msg = await store.add_message(ticket.id, body="intern")
    assert msg.internal_only is True
    customer = await store.add_message(
        ticket.id, body="Hilfe", author_kind=AuthorKind.CUSTOMER, internal_only=False
    )
    assert [m.id for m in await store.messages(ticket.id, author_kind=AuthorKind.CUSTOMER)] == [customer.id]


async def test_automation_events_are_append_only(db: Database) -> None:
    store = TicketStore(db)
    ticket = await store.create_ticket(subject="x")
    event = await store.add_event(ticket.id, event_type="deploy", status="open")
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        await db.execute("update support_automation_events set status = 'done' where id = %s", (event.id,))
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        await db.execute("delete from support_automation_events where id = %s", (event.id,))


async def test_open_event_is_closed_by_a_later_resolving_event(db: Database) -> None:
    store = TicketStore(db)
    ticket = await store.create_ticket(subject="x")
    opened = await store.add_event(ticket.id, event_type="manual_followup", status="open")
    other = await store.add_event(ticket.id, event_type="check", status="open")
    assert {e.id for e in await store.open_events(ticket.id)} == {opened.id, other.id}
    await store.add_event(ticket.id, event_type="manual_followup", status="resolved", resolves_event_id=opened.id)
    assert [e.id for e in await store.open_events(ticket.id)] == [other.id]


async def test_unknown_ticket_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound):
        await TicketStore(db).get_ticket(uuid.uuid4())


async def test_nul_bytes_in_command_output_do_not_break_the_ticket(db: Database) -> None:
    store = TicketStore(db)
    ticket = await store.create_ticket(subject="x")
    msg = await store.add_message(ticket.id, body="node\x00server.js\x00", metadata={"argv": ["cat\x00"]})
    event = await store.add_event(ticket.id, event_type="check", payload={"out": "a\x00b"})
    assert "\x00" not in msg.body and "server.js" in msg.body
    assert msg.metadata["argv"] == ["cat\u2400"] and event.payload["out"] == "a\u2400b"
