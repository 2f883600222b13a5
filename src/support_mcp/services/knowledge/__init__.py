"""Knowledge base: ingest markdown (the playbook by default), search it, review suggestions."""

from support_mcp.services.knowledge.ingest import (
    PLAYBOOK_KEY,
    PLAYBOOK_SOURCE,
    KnowledgeService,
    SyncReport,
    bundled_playbook_text,
)
from support_mcp.services.knowledge.markdown import ParsedDocument, ParsedSection, parse_markdown
from support_mcp.services.knowledge.search import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    KnowledgeSearch,
    SearchHit,
    consultation,
)
from support_mcp.services.knowledge.suggestions import SuggestionService

__all__ = [
    "HIGHLIGHT_END",
    "HIGHLIGHT_START",
    "PLAYBOOK_KEY",
    "PLAYBOOK_SOURCE",
    "KnowledgeSearch",
    "KnowledgeService",
    "ParsedDocument",
    "ParsedSection",
    "SearchHit",
    "SuggestionService",
    "SyncReport",
    "bundled_playbook_text",
    "consultation",
    "parse_markdown",
]
