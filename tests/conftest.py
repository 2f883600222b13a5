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
