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


async def test_context_queries_read_the_newest_rows_by_index_without_sorting_the_ticket(db: Database) -> None:
    """A busy ticket (thousands of agent notes) must not be sorted in full to find its newest
    customer messages: the plan is an index scan under the LIMIT, with no Sort of the ticket's rows."""
    import json

    from psycopg import sql as psql

    from support_mcp.store.tickets import messages_query

    store = TicketStore(db)
    busy = await store.create_ticket(subject="busy")
    await db.execute(
        """insert into support_ticket_messages (ticket_id, author_kind, body, internal_only, created_at)
           select %s, case when mod(g, 50) = 0 then 'customer' else 'agent' end, 'x', mod(g, 50) <> 0,
                  now() - make_interval(secs => g)
           from generate_series(1, 5000) g""",
        (busy.id,),
    )
    await db.execute("analyze support_ticket_messages")
    for kwargs in ({"author_kind": AuthorKind.CUSTOMER}, {"internal_only": True}, {}):
        sql, params = messages_query(busy.id, limit=10, **kwargs)  # type: ignore[arg-type]
        async with db.connection() as conn:
            # force the generic plan psycopg's prepared statements end up with
            await conn.execute("set plan_cache_mode = force_generic_plan")
            positional = sql
            for i, name in enumerate(("ticket_id", "author_kind", "internal_only", "tag", "limit"), 1):
                positional = positional.replace(f"%({name})s", f"${i}")
            await conn.execute(f"prepare q(uuid, text, boolean, text, bigint) as {positional}".encode())
            values = [params[k] for k in ("ticket_id", "author_kind", "internal_only", "tag", "limit")]
            explain = psql.SQL("explain (format json) execute q({}, {}, {}, {}, {})").format(
                *(psql.Literal(v) for v in values))
            cur = await conn.execute(explain)
            plan = json.dumps((await cur.fetchone())["QUERY PLAN"])  # type: ignore[index]
            await conn.execute("deallocate q")
            await conn.execute("reset plan_cache_mode")
        inner = plan.split('"Subquery Scan"', 1)[-1]
        assert "Index" in inner, plan
        assert '"Node Type": "Sort"' not in inner.split('"Limit"', 1)[-1], plan  # nothing sorted below the LIMIT
