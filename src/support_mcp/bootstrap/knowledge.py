"""The knowledge base alone: the database (started embedded when none is configured), migrated,
the playbook and configured documents synced, and the knowledge service — without the agents,
executors and ticket services `open_services` builds (what `kb search` waits for)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from support_mcp.bootstrap.settings import Settings
from support_mcp.services.knowledge import KnowledgeService
from support_mcp.store.database import Database
from support_mcp.store.knowledge import KnowledgeStore
from support_mcp.store.migrate import migrate


@dataclass
class KnowledgeServices:
    settings: Settings
    db: Database
    knowledge: KnowledgeService


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured database (or the embedded one, started), opened but not migrated."""
    embedded = None
    dsn = settings.database_url
    if dsn is None:
        from support_mcp.store.embedded import start_embedded

        embedded = start_embedded(settings.data_dir / "pgdata")
        dsn = embedded.dsn
    db = Database(dsn)
    try:
        await db.open()
        yield db
    finally:
        await db.close()
        if embedded is not None:
            embedded.stop()


@asynccontextmanager
async def open_knowledge(
    settings: Settings, *, sync_knowledge: bool | Literal["if_empty"] = True
) -> AsyncIterator[KnowledgeServices]:
    """Connect (or start the embedded database), migrate, sync the knowledge base (`if_empty`:
    only when nothing is indexed yet — reads need not re-hash every configured file)."""
    async with open_database(settings) as db:
        await migrate(db)
        store = KnowledgeStore(db)
        knowledge = KnowledgeService(store)
        if sync_knowledge is True or (sync_knowledge == "if_empty" and not await store.document_hashes()):
            await knowledge.sync(settings.knowledge_globs, include_playbook=settings.include_playbook)
        yield KnowledgeServices(settings=settings, db=db, knowledge=knowledge)
