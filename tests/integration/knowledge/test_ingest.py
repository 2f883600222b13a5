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
