"""The host labs: the machine-wide lock (they share one system user, so one runs at a time) and
the combined lab's connection settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support_mcp.domain.errors import ExecutionError
from support_mcp.labs import hetzner

HOLD = "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"


@pytest.fixture
def lock_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "lab.lock"
    monkeypatch.setattr(hetzner, "LOCK_PATH", path)
    return path


def test_a_lab_of_another_process_makes_start_wait_then_fail_with_the_reason(lock_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ExecutionError, match="another host lab runs on this machine.*smcp-hetzner"):
            hetzner._take_machine_lock(wait_s=0.6)
        assert hetzner._lock_fd is None and hetzner._lock_users == 0
    finally:
        holder.kill()
        holder.wait()
    hetzner._take_machine_lock(wait_s=5)  # the holder is gone: the lock is free again
    try:
        assert hetzner._lock_users == 1
    finally:
        hetzner._release_machine_lock()


def test_one_process_may_hold_two_labs_and_frees_the_lock_with_the_last(lock_path: Path) -> None:
    hetzner._take_machine_lock(wait_s=1)
    hetzner._take_machine_lock(wait_s=1)  # a second lab in the same process does not wait for itself
    hetzner._release_machine_lock()
    probe = [sys.executable, "-c", "import fcntl, sys; f = open(sys.argv[1], 'w'); "
             "fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)", str(lock_path)]
    assert subprocess.run(probe, capture_output=True, check=False).returncode != 0, "freed while a lab still runs"
    hetzner._release_machine_lock()
    assert subprocess.run(probe, capture_output=True, check=False).returncode == 0, "still held after the last stop"


def test_the_combined_labs_app_connects_as_the_api_role_by_url() -> None:
    from support_mcp.labs.stack import app_database_url

    dsn = "user=postgres password=secret dbname=support_mcp_test_stack_1 host=127.0.0.1 port=5432"
    # node-postgres reads URLs; the password of the owner never reaches the app's settings
    assert app_database_url(dsn) == "postgresql://authenticator@127.0.0.1:5432/support_mcp_test_stack_1"
    assert app_database_url(dsn, "postgres") == "postgresql://postgres@127.0.0.1:5432/support_mcp_test_stack_1"
    assert app_database_url(dsn, password="p@ss/w") == \
        "postgresql://authenticator:p%40ss%2Fw@127.0.0.1:5432/support_mcp_test_stack_1"
    assert app_database_url("postgresql://u@db.example:6543/a%20b") == "postgresql://authenticator@db.example:6543/a%20b"
    with pytest.raises(ValueError, match="names no database"):
        app_database_url("host=127.0.0.1 user=postgres")
