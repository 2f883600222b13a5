"""Shared fixtures: every test database is created on the real PostgreSQL and dropped after.

The server is the one on 127.0.0.1:5432 (trust auth); `SUPPORT_MCP_TEST_ADMIN_DSN` points the
suite elsewhere. Tests only ever touch databases whose names start with `support_mcp_test_`.
"""

from __future__ import annotations

import functools
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


# --- two workers (scripts/test: pytest-xdist, --dist loadscope with the scheduler below) ---------
#
# The host labs share the system user smcp-hetzner, so every test that starts one runs on one
# worker, one after the other (`support_mcp.labs.hetzner.start_lab` also takes a machine-wide lock).
# The controller does not collect, so it groups by test id: a module is a host-lab module when its
# text (or its folder's conftest.py) starts a lab or carries the `hetzner_lab` mark; each worker
# checks after its collection that every test that really reaches `start_lab` (through its module
# or a fixture) is in such a module. Every other module is one group of its own (module fixtures
# such as lab templates are built once); the frontend outcome matrix is one group per scenario
# (its two tickets share one deployment).
# (`--dist loadgroup` cannot do this here: pytest 9.2 ignores the test-id suffix it relies on.)

HOST_LAB_GROUP = "host-lab"
_STARTERS = ("start_lab", "start_stack_lab")
_HOST_LAB_WORDS = (*_STARTERS, "hetzner_lab")
_PER_SCENARIO = "tests/e2e/test_outcomes_frontend.py::test_frontend_fault_is_named_through_the_cli["


def _mentions_host_lab(path: Path) -> bool:
    return path.is_file() and any(word in path.read_text("utf-8") for word in _HOST_LAB_WORDS)


@functools.cache  # the controller asks once per test id
def _is_host_lab_module(module: str) -> bool:
    path = REPO / module
    return _mentions_host_lab(path) or _mentions_host_lab(path.parent / "conftest.py")


def worker_group(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    if _is_host_lab_module(module):
        return HOST_LAB_GROUP
    if nodeid.startswith(_PER_SCENARIO):
        return nodeid.rsplit("-", 1)[0]  # "…[frontend-csp_blocked-scenario]" → its scenario
    return module


def _reaches_start_lab(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    if module is not None and any(name in vars(module) for name in _STARTERS):
        return True
    info = getattr(item, "_fixtureinfo", None)
    return any(name in getattr(d.func, "__globals__", {}) for name in _STARTERS
               for defs in (info.name2fixturedefs.values() if info else ()) for d in defs)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    misplaced = [item.nodeid for item in items if _reaches_start_lab(item) and worker_group(item.nodeid) != HOST_LAB_GROUP]
    if misplaced:
        raise pytest.UsageError("tests that start a host lab outside a host-lab module (mark the module "
                                f"`pytestmark = pytest.mark.hetzner_lab`): {misplaced[:5]}")


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class LabScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return LabScheduling(config, log)
