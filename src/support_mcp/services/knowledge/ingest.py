"""Ingest markdown folders (and the bundled playbook) into the knowledge base.

A sync is idempotent: each document's content hash decides whether it is re-parsed, so a
re-sync of unchanged files writes nothing, and a file that disappeared leaves the index.
"""

from __future__ import annotations

import glob
import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from support_mcp.domain.errors import InvalidInput
from support_mcp.services.knowledge.markdown import ParsedDocument, content_hash, parse_markdown
from support_mcp.services.knowledge.search import KnowledgeSearch, SearchHit, index_text
from support_mcp.store.knowledge import (
    DocumentInput,
    KnowledgeDocument,
    KnowledgeSection,
    KnowledgeStore,
    SectionInput,
)

PLAYBOOK_RESOURCE = "knowledge_data/tier2_incident_playbook.md"
PLAYBOOK_SOURCE = f"package:support_mcp/{PLAYBOOK_RESOURCE}"
PLAYBOOK_KEY = "tier2_incident_playbook"


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed; `failed` names documents that could not be read or parsed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


@dataclass(frozen=True)
class _Source:
    source: str
    stem: str
    text: str


def bundled_playbook_text() -> str:
    """The Tier-2 incident playbook shipped inside the package."""
    return (resources.files("support_mcp") / PLAYBOOK_RESOURCE).read_text("utf-8")


def _expand(globs: Sequence[str], base_dir: Path | None) -> list[Path]:
    files: set[Path] = set()
    for pattern in globs:
        expanded = str(Path(pattern).expanduser())
        if base_dir is not None and not Path(expanded).is_absolute():
            expanded = str(base_dir / expanded)
        for match in glob.glob(expanded, recursive=True):
            path = Path(match)
            # A folder stands for every markdown file below it.
            candidates = path.rglob("*.md") if path.is_dir() else [path]
            files.update(p.resolve() for p in candidates if p.is_file() and p.suffix.lower() in (".md", ".markdown"))
    return sorted(files)


def _key_for(stem: str, source: str, taken: set[str]) -> str:
    base = re.sub(r"[^\w\-]+", "-", stem.lower()).strip("-") or "document"
    if base not in taken:
        return base
    return f"{base}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"


def _sections(parsed: ParsedDocument) -> list[SectionInput]:
    return [
        SectionInput(
            ordinal=s.ordinal,
            level=s.level,
            heading=s.heading,
            breadcrumb=s.breadcrumb_text,
            anchor=s.anchor,
            body=s.body,
            language=parsed.language,
            agents=s.agents,
            search_title=index_text(" ".join(dict.fromkeys([*s.breadcrumb[1:], s.heading]))),
            search_subheadings=index_text("\n".join(s.subheadings)),
            search_body=index_text(f"{s.breadcrumb[0]}\n{s.body}"),
        )
        for s in parsed.sections
    ]


class KnowledgeService:
    """Sync, search and read the knowledge base (the playbook plus configured markdown folders)."""

    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store
        self._search = KnowledgeSearch(store)

    async def sync(
        self, globs: Sequence[str] = (), include_playbook: bool = True, *, base_dir: Path | None = None
    ) -> SyncReport:
        """Bring the index in line with the files: only changed documents are re-parsed and written.
        Several processes may sync at once (every server start does); they take turns."""
        async with self._store.sync_lock():
            return await self._sync(globs, include_playbook, base_dir)

    async def _sync(self, globs: Sequence[str], include_playbook: bool, base_dir: Path | None) -> SyncReport:
        sources: list[_Source] = []
        failed: list[str] = []
        unreadable: set[str] = set()
        if include_playbook:
            sources.append(_Source(PLAYBOOK_SOURCE, PLAYBOOK_KEY, bundled_playbook_text()))
        for path in _expand(globs, base_dir):
            try:
                # PostgreSQL text cannot hold NUL; a stray one must not fail the whole sync.
                sources.append(_Source(str(path), path.stem, path.read_text("utf-8").replace("\x00", "")))
            except (OSError, UnicodeDecodeError) as exc:
                failed.append(f"{path}: {exc}")
                unreadable.add(str(path))

        known = await self._store.document_hashes()
        keys = await self._store.document_keys()
        taken = set(keys.values())
        created = updated = unchanged = 0
        for item in sources:
            digest = content_hash(item.text)
            if known.get(item.source) == digest:
                unchanged += 1
                continue
            try:
                parsed = parse_markdown(item.text, fallback_title=item.stem)
            except InvalidInput as exc:
                failed.append(f"{item.source}: {exc}")
                continue
            key = keys.get(item.source) or _key_for(item.stem, item.source, taken)
            taken.add(key)
            document = DocumentInput(
                source=item.source,
                key=key,
                title=parsed.title,
                version=parsed.version,
                language=parsed.language,
                agents=parsed.agents,
                content_hash=digest,
                body=item.text,
                authority=parsed.authority,
            )
            await self._store.replace_document(document, _sections(parsed))
            if item.source in known:
                updated += 1
            else:
                created += 1
        # A document whose file could not be read stays as it was rather than vanishing.
        present = {item.source for item in sources} | unreadable
        removed = await self._store.delete_documents([s for s in known if s not in present])
        if created or updated or removed:
            await self._store.settle()
        return SyncReport(created, updated, unchanged, removed, tuple(failed))

    async def search(
        self, query: str, *, agent: str | None = None, document: str | None = None, limit: int = 5,
        plain: bool = False,
    ) -> list[SearchHit]:
        """Ranked sections for a websearch-syntax query, or (`plain`) for a ticket's text."""
        return await self._search.search(query, agent=agent, document=document, limit=limit, plain=plain)

    async def get_section(self, section_id: uuid.UUID) -> KnowledgeSection:
        return await self._store.get_section(section_id)

    async def get_section_by_anchor(self, document: str, anchor: str) -> KnowledgeSection:
        """A section by document key (or source, or id) and its anchor, with or without `#`."""
        return await self._store.get_section_by_anchor(document, anchor)

    async def list_documents(self) -> list[KnowledgeDocument]:
        return await self._store.list_documents()

    async def list_sections(self, document: str | None = None) -> list[KnowledgeSection]:
        return await self._store.list_sections(document)
