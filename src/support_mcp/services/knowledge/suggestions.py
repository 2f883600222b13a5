"""Knowledge suggestions: the playbook's `registerKnowledgeSuggestionAction` and its review.

An agent (or a human) proposes a change to a document or section; a reviewer in `/intern`
accepts or rejects it. Accepting never edits a file: the knowledge base only changes when
someone edits the markdown and the next sync picks it up (playbook 7).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Literal

from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import Conflict, InvalidInput, NotFound
from support_mcp.domain.parsing import parse_agent
from support_mcp.store.knowledge import KnowledgeStore

if TYPE_CHECKING:
    from support_mcp.domain.models import Suggestion

SuggestionStatus = Literal["proposed", "accepted", "rejected"]
_STATUSES: tuple[SuggestionStatus, ...] = ("proposed", "accepted", "rejected")
MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 20_000


class SuggestionService:
    """Register, list and review knowledge suggestions."""

    def __init__(self, store: KnowledgeStore, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def register(
        self,
        *,
        title: str,
        body: str,
        ticket_id: uuid.UUID | None = None,
        agent: str | None = None,
        target_document: str | None = None,
        target_section: str | None = None,
    ) -> Suggestion:
        """Record a proposed change (registerKnowledgeSuggestionAction); the target must exist if given."""
        title, body = title.strip(), body.strip()
        if not title or not body:
            raise InvalidInput("a knowledge suggestion needs a title and a body")
        if len(title) > MAX_TITLE_CHARS or len(body) > MAX_BODY_CHARS:
            raise InvalidInput(
                f"a knowledge suggestion is limited to {MAX_TITLE_CHARS} characters of title "
                f"and {MAX_BODY_CHARS} of body"
            )
        agent_name = parse_agent(agent) if agent else None
        if ticket_id is not None and not await self._store.ticket_exists(ticket_id):
            raise NotFound(f"ticket {ticket_id} does not exist")
        document_key: str | None = None
        anchor: str | None = None
        if target_section and not target_document:
            raise InvalidInput("target_section needs target_document (the document key, e.g. tier2_incident_playbook)")
        if target_document:
            documents = {d.key: d for d in await self._store.list_documents()}
            by_any = {d.source: d for d in documents.values()} | {str(d.id): d for d in documents.values()}
            found = documents.get(target_document) or by_any.get(target_document)
            if found is None:
                raise NotFound(f"knowledge document {target_document!r} is not in the index")
            document_key = found.key
            if target_section:
                # Stored as the anchor so the portal can link the section; raises NotFound if unknown.
                anchor = (await self._store.get_section_by_anchor(document_key, target_section)).anchor
        return await self._store.add_suggestion(
            title=title,
            body=body,
            ticket_id=ticket_id,
            agent=agent_name,
            target_document=document_key,
            target_section=anchor,
        )

    async def list_suggestions(self, status: SuggestionStatus | None = None, *, limit: int = 50) -> list[Suggestion]:
        """Newest first, optionally only one status."""
        if status is not None and status not in _STATUSES:
            raise InvalidInput(f"unknown suggestion status {status!r}; expected one of {', '.join(_STATUSES)}")
        return await self._store.list_suggestions(status=status, limit=max(1, min(limit, 500)))

    async def get(self, suggestion_id: uuid.UUID) -> Suggestion:
        return await self._store.get_suggestion(suggestion_id)

    async def accept(self, suggestion_id: uuid.UUID, *, reviewer: str) -> Suggestion:
        """Mark a proposed suggestion accepted by `reviewer`; the documents are not touched."""
        return await self._review(suggestion_id, "accepted", reviewer)

    async def reject(self, suggestion_id: uuid.UUID, *, reviewer: str) -> Suggestion:
        """Mark a proposed suggestion rejected by `reviewer`."""
        return await self._review(suggestion_id, "rejected", reviewer)

    async def _review(self, suggestion_id: uuid.UUID, status: SuggestionStatus, reviewer: str) -> Suggestion:
        name = reviewer.strip()
        if not name:
            raise InvalidInput("a review needs the reviewer's name")
        reviewed = await self._store.review_suggestion(
            suggestion_id, status=status, reviewer=name, reviewed_at=self._clock()
        )
        if reviewed is None:
            current = await self._store.get_suggestion(suggestion_id)  # NotFound when it does not exist
            raise Conflict(
                f"knowledge suggestion {suggestion_id} was already {current.status} by {current.reviewer}"
            )
        return reviewed
