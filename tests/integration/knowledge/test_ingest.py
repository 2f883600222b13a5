"""Syncing markdown folders into PostgreSQL: only changed documents are touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from support_mcp.domain.errors import NotFound
from support_mcp.services.knowledge import PLAYBOOK_KEY, KnowledgeService, SyncReport
from support_mcp.store.database import Database
from support_mcp.store.knowledge import KnowledgeStore


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    _write(tmp_path, "caddy.md", "---\ntitle: Caddy Runbook\nversion: 1\n---\n## Reload\nsystemctl reload caddy\n")
    _write(tmp_path, "nested/auth.md", "# Auth notes\nIntro.\n## Magic links\nverifyOtp expires after an hour.\n")
    return tmp_path


async def _ingested_at(db: Database) -> dict[str, object]:
    rows = await db.fetch_all("select key, updated_at from knowledge_documents")
    return {r["key"]: r["updated_at"] for r in rows}


async def test_second_sync_touches_nothing(db: Database, docs: Path) -> None:
    service = KnowledgeService(KnowledgeStore(db))
    first = await service.sync([str(docs / "**" / "*.md")])
    assert first == SyncReport(created=3, updated=0, unchanged=0, removed=0)
    stamps = await _ingested_at(db)
    section_ids = {s.id for s in await service.list_sections()}

    second = await service.sync([str(docs / "**" / "*.md")])
    assert second == SyncReport(created=0, updated=0, unchanged=3, removed=0)
    assert not second.changed
    assert await _ingested_at(db) == stamps
    assert {s.id for s in await service.list_sections()} == section_ids


async def test_a_changed_file_is_the_only_document_updated(db: Database, docs: Path) -> None:
    service = KnowledgeService(KnowledgeStore(db))
    await service.sync([str(docs)])  # a folder stands for every markdown file below it
    before = await _ingested_at(db)
    _write(docs, "caddy.md", "---\ntitle: Caddy Runbook\nversion: 2\n---\n## Reload\nsystemctl reload caddy\n## Logs\njournalctl -u caddy\n")

    report = await service.sync([str(docs)])
    assert report == SyncReport(created=0, updated=1, unchanged=2, removed=0)
    after = await _ingested_at(db)
    assert after["caddy"] != before["caddy"]
    assert after["auth"] == before["auth"] and after[PLAYBOOK_KEY] == before[PLAYBOOK_KEY]
    assert [s.heading for s in await service.list_sections("caddy")] == ["Reload", "Logs"]
    assert [d.version for d in await service.list_documents() if d.key == "caddy"] == ["2"]


async def test_a_removed_file_leaves_the_index(db: Database, docs: Path) -> None:
    service = KnowledgeService(KnowledgeStore(db))
    await service.sync([str(docs)])
    (docs / "nested" / "auth.md").unlink()

    report = await service.sync([str(docs)])
    assert report.removed == 1 and report.unchanged == 2
    assert "auth" not in {d.key for d in await service.list_documents()}
    assert not [s for s in await service.list_sections() if s.document_key == "auth"]
    assert all(hit.document != "auth" for hit in await service.search("verifyOtp magic links"))


async def test_the_playbook_is_ingested_by_default_and_can_be_left_out(db: Database) -> None:
    service = KnowledgeService(KnowledgeStore(db))
    assert (await service.sync()).created == 1
    section = await service.get_section_by_anchor(PLAYBOOK_KEY, "#31-diagnose")
    assert section.breadcrumb.endswith("3. Hetzner Ops Agent – Strategy › 3.1 Diagnose")
    assert section.agents == ("hetzner-ops-agent",)
    assert (await service.get_section(section.id)).anchor == "31-diagnose"

    assert (await service.sync(include_playbook=False)).removed == 1
    with pytest.raises(NotFound):
        await service.get_section_by_anchor(PLAYBOOK_KEY, "31-diagnose")


async def test_a_broken_file_is_reported_and_keeps_its_last_good_version(db: Database, docs: Path) -> None:
    service = KnowledgeService(KnowledgeStore(db))
    await service.sync([str(docs)], include_playbook=False)
    _write(docs, "caddy.md", "---\ntitle: [broken\n---\n## Reload\n")

    report = await service.sync([str(docs)], include_playbook=False)
    assert report.updated == 0 and report.removed == 0
    assert len(report.failed) == 1 and "caddy.md" in report.failed[0]
    assert [s.heading for s in await service.list_sections("caddy")] == ["Reload"]


async def test_same_file_names_in_two_folders_get_distinct_keys(db: Database, tmp_path: Path) -> None:
    _write(tmp_path, "a/notes.md", "## One\nx")
    _write(tmp_path, "b/notes.md", "## Two\ny")
    service = KnowledgeService(KnowledgeStore(db))
    await service.sync([str(tmp_path / "*" / "notes.md")], include_playbook=False)
    keys = sorted(d.key for d in await service.list_documents())
    assert len(keys) == 2 and keys[0] == "notes" and keys[1].startswith("notes-")


async def test_concurrent_syncs_take_turns_and_agree(db: Database, tmp_path: Path) -> None:
    """Two servers starting at once both sync; the lock makes them take turns without key races."""
    import asyncio

    from support_mcp.services.knowledge import KnowledgeService
    from support_mcp.store.knowledge import KnowledgeStore

    for i in range(5):
        (tmp_path / f"doc{i}.md").write_text(f"# Doc {i}\n\n## Abschnitt\nText {i}\n")
    first, second = KnowledgeService(KnowledgeStore(db)), KnowledgeService(KnowledgeStore(db))
    reports = await asyncio.gather(first.sync([str(tmp_path / "*.md")]), second.sync([str(tmp_path / "*.md")]))
    assert sorted(r.created for r in reports) == [0, 6]  # playbook + 5 docs, created once
    assert len(await first.list_documents()) == 6


async def _frequencies_drift(db: Database) -> list[dict[str, object]]:
    """Lexemes whose kept count differs from a full recount (ts_stat), plus the section total."""
    drift = await db.fetch_all(
        """select coalesce(t.word, k.lexeme) as lexeme, t.ndoc as counted, k.ndoc as kept
           from ts_stat('select search_vector from knowledge_sections') t
           full join knowledge_lexemes k on k.lexeme = t.word
           where t.ndoc is distinct from k.ndoc"""
    )
    total = await db.fetch_one(
        "select (select sections from knowledge_stats) as kept, (select count(*) from knowledge_sections) as counted"
    )
    assert total is not None
    if total["kept"] != total["counted"]:
        drift.append({"lexeme": "<sections>", **total})
    return drift


async def test_document_frequencies_stay_exact_through_create_update_remove(db: Database, docs: Path) -> None:
    """The search reads idf from `knowledge_lexemes`; the triggers must keep it equal to a recount
    after every kind of change, or rankings drift with each sync."""
    _write(docs, "nested/zebra.md", "## Zebrastreifen\nNur dieses Dokument kennt Zebrastreifen.\n")
    service = KnowledgeService(KnowledgeStore(db))
    await service.sync([str(docs)])
    assert await _frequencies_drift(db) == []
    assert await db.fetch_one("select ndoc from knowledge_lexemes where lexeme = 'zebrastreif'") == {"ndoc": 1}

    _write(docs, "caddy.md", "---\ntitle: Caddy Runbook\nversion: 2\n---\n## Logs\njournalctl -u caddy\n")
    await service.sync([str(docs)])
    assert await _frequencies_drift(db) == []
    (docs / "nested" / "zebra.md").unlink()
    await service.sync([str(docs)])
    assert await _frequencies_drift(db) == []
    # A lexeme only the removed document had is gone, not left at 0.
    assert await db.fetch_one("select ndoc from knowledge_lexemes where lexeme = 'zebrastreif'") is None

    await db.execute("update knowledge_sections set search_vector = to_tsvector('simple', 'nur ein wort')")
    assert await _frequencies_drift(db) == []
    await service.sync([], include_playbook=False)
    assert await _frequencies_drift(db) == []
    assert (await db.fetch_one("select sections from knowledge_stats")) == {"sections": 0}
    await service.sync([str(docs)])
    await db.execute("truncate knowledge_sections")  # an operator's reset
    assert await _frequencies_drift(db) == []
