"""Playbook 1.1 "Kontext sichern": the ticket, its latest customer messages, internal notes,
open automation events, and whether an escalation is already running."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from support_mcp.domain.models import AuthorKind, AutomationEvent, Message, Ticket
from support_mcp.services.triage import symptom_text
from support_mcp.store.tickets import TicketStore


@dataclass(frozen=True)
class ContextBundle:
    ticket: Ticket
    customer_messages: list[Message]
    internal_notes: list[Message]
    open_events: list[AutomationEvent]

    @property
    def escalation_running(self) -> bool:
        return self.ticket.escalation_running

    def customer_text(self) -> str:
        """Subject and customer messages as one text (for triage and the checks' reading of it)."""
        return "\n".join([self.ticket.subject, *(m.body for m in self.customer_messages)])

    def search_text(self) -> str:
        """What the knowledge base is searched with: the customer text without code, quoted
        commands, configuration names and imperatives, so injected words pull no section (and no
        agent) in."""
        return symptom_text(self.customer_text())


class ContextService:
    def __init__(self, tickets: TicketStore, *, default_messages: int = 10) -> None:
        self._tickets = tickets
        self._default_messages = default_messages

    async def bundle(
        self, ticket_id: uuid.UUID, *, messages: int | None = None, notes: int = 20
    ) -> ContextBundle:
        """Gather the context; the four reads are independent and run concurrently."""
        n = messages or self._default_messages
        ticket = await self._tickets.get_ticket(ticket_id)
        customer, internal, events = await asyncio.gather(
            self._tickets.messages(ticket_id, author_kind=AuthorKind.CUSTOMER, limit=n),
            self._tickets.messages(ticket_id, internal_only=True, limit=notes),
            self._tickets.open_events(ticket_id),
        )
        return ContextBundle(ticket=ticket, customer_messages=customer, internal_notes=internal,
                             open_events=events)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a ticket's history: a message or an automation event."""

    at: datetime
    kind: str  # "message" | "event"
    who: str
    title: str
    body: str
    internal_only: bool
    tags: tuple[str, ...]


async def timeline(tickets: TicketStore, ticket_id: uuid.UUID, *, limit: int = 500) -> list[TimelineEntry]:
    """Messages and automation events of a ticket in time order."""
    messages, events = await asyncio.gather(
        tickets.messages(ticket_id, limit=limit), tickets.events(ticket_id, limit=limit)
    )
    entries = [
        TimelineEntry(m.created_at, "message", m.author_name or str(m.author_kind), str(m.author_kind),
                      m.body, m.internal_only, tuple(m.tags))
        for m in messages
    ]
    entries += [
        TimelineEntry(e.created_at, "event", e.agent or "system", f"{e.event_type} [{e.status}]",
                      json.dumps(e.payload, ensure_ascii=False, default=str) if e.payload else "", True, ())
        for e in events
    ]
    entries.sort(key=lambda e: e.at)
    return entries
