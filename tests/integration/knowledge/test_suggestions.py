"""Knowledge suggestions (registerKnowledgeSuggestionAction) and their review."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from support_mcp.domain.errors import Conflict, InvalidInput, NotFound
from support_mcp.services.knowledge import (
    PLAYBOOK_KEY,
    KnowledgeService,
    SuggestionService,
    bundled_playbook_text,
)
from support_mcp.store.database import Database
from support_mcp.store.knowledge import KnowledgeStore
from support_mcp.store.tickets import TicketStore

NOW = datetime(2025, 11, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
async def suggestions(db: Database) -> SuggestionService:
    store = KnowledgeStore(db)
    await KnowledgeService(store).sync()
    return SuggestionService(store, clock=lambda: NOW)


async def test_register_a_suggestion_for_a_ticket_agent_and_section(
    suggestions: SuggestionService, db: Database
) -> None:
    ticket = await TicketStore(db).create_ticket(subject="502 nach Deployment")
    suggestion = await suggestions.register(
        title="Caddy upstream check",
        body="Add `curl -I localhost:3000` before reloading Caddy.",
        ticket_id=ticket.id,
        agent="hetzner-ops",
        target_document=PLAYBOOK_KEY,
        target_section="#32-reparatur",
    )
    assert suggestion.status == "proposed" and suggestion.reviewer is None
    assert suggestion.agent == "hetzner-ops-agent"
    assert (suggestion.target_document, suggestion.target_section) == (PLAYBOOK_KEY, "32-reparatur")
    assert suggestion.ticket_id == ticket.id
    assert [s.id for s in await suggestions.list_suggestions("proposed")] == [suggestion.id]


async def test_accepting_marks_reviewer_and_time_and_leaves_the_documents_alone(
    suggestions: SuggestionService, db: Database
) -> None:
    suggestion = await suggestions.register(title="t", body="b", target_document=PLAYBOOK_KEY)
    accepted = await suggestions.accept(suggestion.id, reviewer="Mara (Tier 2 lead)")
    assert (accepted.status, accepted.reviewer, accepted.reviewed_at) == ("accepted", "Mara (Tier 2 lead)", NOW)
    assert await suggestions.list_suggestions("proposed") == []
    assert [s.id for s in await suggestions.list_suggestions("accepted")] == [suggestion.id]
    row = await db.fetch_one("select body from knowledge_documents where key = %s", (PLAYBOOK_KEY,))
    assert row is not None and row["body"] == bundled_playbook_text()


async def test_rejecting_and_reviewing_twice(suggestions: SuggestionService) -> None:
    suggestion = await suggestions.register(title="t", body="b")
    rejected = await suggestions.reject(suggestion.id, reviewer="Jo")
    assert (rejected.status, rejected.reviewer) == ("rejected", "Jo")
    with pytest.raises(Conflict):
        await suggestions.accept(suggestion.id, reviewer="Someone else")
    assert (await suggestions.get(suggestion.id)).status == "rejected"


async def test_review_needs_a_reviewer_and_an_existing_suggestion(suggestions: SuggestionService) -> None:
    suggestion = await suggestions.register(title="t", body="b")
    with pytest.raises(InvalidInput):
        await suggestions.accept(suggestion.id, reviewer="  ")
    with pytest.raises(NotFound):
        await suggestions.accept(uuid.uuid4(), reviewer="Jo")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"title": " ", "body": "b"}, InvalidInput),
        ({"title": "t", "body": "b", "agent": "dba-agent"}, InvalidInput),
        ({"title": "t", "body": "b", "target_section": "31-diagnose"}, InvalidInput),
        ({"title": "t", "body": "b", "target_document": "nope"}, NotFound),
        ({"title": "t", "body": "b", "target_document": PLAYBOOK_KEY, "target_section": "99-nope"}, NotFound),
        ({"title": "t", "body": "b", "ticket_id": uuid.uuid4()}, NotFound),
    ],
)
async def test_invalid_suggestions_are_refused(
    suggestions: SuggestionService, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await suggestions.register(**kwargs)  # type: ignore[arg-type]


async def test_unknown_status_filter_is_invalid_input(suggestions: SuggestionService) -> None:
    with pytest.raises(InvalidInput):
        await suggestions.list_suggestions("merged")  # type: ignore[arg-type]
