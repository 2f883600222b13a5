"""Shared fixtures: every test database is created on the real PostgreSQL and dropped after.

The server is the one on 127.0.0.1:5432 (trust auth); `SUPPORT_MCP_TEST_ADMIN_DSN` points the
suite elsewhere. Tests only ever touch databases whose names start with `support_mcp_test_`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from support_mcp.store.database import Database
from support_mcp.store.migrate import migrate

ADMIN_DSN = os.environ.get("SUPPORT_MCP_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = REPO / "src" / "support_mcp" / "knowledge_data" / "tier2_incident_playbook.md"


def _dsn_for(name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


def create_database(template: str | None = None) -> str:
    name = f"support_mcp_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _admin(f'create database "{name}"' + (f' template "{template}"' if template else ""))
    return name


def drop_database(name: str) -> None:
    assert name.startswith("support_mcp_test_")
    _admin(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def template_db() -> Iterator[str]:
    """A database migrated once per session; each test clones it (fast, isolated)."""
    import asyncio

    name = create_database()

    async def _migrate() -> None:
        db = Database(_dsn_for(name), min_size=1, max_size=1)
        await db.open()
        try:
            await migrate(db)
        finally:
            await db.close()

    asyncio.run(_migrate())
    yield name
    drop_database(name)


@pytest.fixture
def fresh_dsn(template_db: str) -> Iterator[str]:
    """DSN of a new, migrated, empty database that is dropped after the test."""
    name = create_database(template=template_db)
    yield _dsn_for(name)
    drop_database(name)


@pytest.fixture
def empty_dsn() -> Iterator[str]:
    """DSN of a new database with nothing in it (for migration tests)."""
    name = create_database()
    yield _dsn_for(name)
    drop_database(name)


@pytest.fixture
async def db(fresh_dsn: str) -> AsyncIterator[Database]:
    database = Database(fresh_dsn, min_size=1, max_size=4)
    await database.open()
    yield database
    await database.close()


# --- two workers (scripts/test runs pytest-xdist with --dist loadgroup) --------------------------

HETZNER_GROUP = "hetzner-lab"


def _starts_a_host_lab(item: pytest.Item) -> bool:
    """The test, its module or one of its fixtures can start a host lab (`start_lab`), or it is
    marked `hetzner_lab` (a subprocess starts one, as the demo does)."""
    if item.get_closest_marker("hetzner_lab"):
        return True
    module = getattr(item, "module", None)
    if module is not None and "start_lab" in vars(module):
        return True
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        if any("start_lab" in getattr(d.func, "__globals__", {}) for d in defs):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every host-lab test in one xdist group: the host labs share the system user smcp-hetzner,
    so they run one after the other on one worker (`support_mcp.labs.hetzner.start_lab` also
    takes a machine-wide lock). Every other test keeps its module together (module fixtures such
    as lab templates are built once), unless it names a group of its own."""
    for item in items:
        if _starts_a_host_lab(item):
            group = HETZNER_GROUP
        elif item.get_closest_marker("xdist_group"):
            continue
        else:
            group = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
