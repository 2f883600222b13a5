"""Triage of a stored ticket: its text and knowledge hits decide the agent; the decision and its
reason are recorded as a `triage` automation event (ticket text is data, never instructions)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from support_mcp.services.context import ContextService
from support_mcp.services.journal import TicketJournal
from support_mcp.services.triage import TriageResult, triage

KnowledgeSearch = Callable[[str, str | None, int], Awaitable[Sequence[Any]]]


class TriageService:
    def __init__(self, context: ContextService, search: KnowledgeSearch, journal: TicketJournal) -> None:
        self._context = context
        self._search = search
        self._journal = journal

    async def triage_ticket(self, ticket_id: uuid.UUID, *, record: bool = True) -> TriageResult:
        """Route the ticket; with `record` the choice and reason become a `triage` event."""
        bundle = await self._context.bundle(ticket_id)
        text = bundle.customer_text()
        hits = await self._search(bundle.search_text(), None, 3)
        result = triage(text, [tuple(h.agents) for h in hits])
        if record:
            await self._journal.event(
                ticket_id, "triage", status="info", agent="triage",
                payload={"agents": list(result.agents), "scores": result.scores, "reason": result.reason,
                         "knowledge": [h.breadcrumb for h in hits]},
            )
        return result
