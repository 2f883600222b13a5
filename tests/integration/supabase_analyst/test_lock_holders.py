"""`lock_holders` and `terminate_lock_holder` on both Supabase labs (ours and the CLI lab built
from the auth server's schema): a session left in an open transaction with an ACCESS EXCLUSIVE
lock on one of the app's tables (found in the lab's catalog) is named with its pid, table and the
reader waiting behind it; a SHARE lock (writes only) is a warning; the repair ends exactly that
session — the reader then gets its rows — and refuses a plan whose session is gone."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import psycopg
import pytest

from helpers.supabase_lab import context_for
from support_mcp.agents.supabase_analyst import locks
from support_mcp.agents.supabase_analyst.locks import LockHoldersCheck, TerminateLockHolderRepair
from support_mcp.domain.models import Finding
from support_mcp.domain.targets import SupabaseTarget

_TABLES = ("select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
           "where n.nspname = 'public' and c.relkind = 'r' order by 1 limit 2")


@pytest.fixture
def target(either_lab: SupabaseTarget) -> SupabaseTarget:
    return either_lab


@pytest.fixture(autouse=True)
def no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock counts at once here (the agent waits HOLD_SECONDS before calling one long-held)."""
    monkeypatch.setattr(locks, "HOLD_SECONDS", 0)


def lock_findings(target: SupabaseTarget) -> list[Finding]:
    ctx, _ = context_for(target)
    return asyncio.run(LockHoldersCheck(target).run(ctx))


def holder(dsn: str, table: str, mode: str) -> tuple[psycopg.Connection, int]:
    """A session (as someone's psql left it) in an open transaction holding `mode` on `table`."""
    conn = psycopg.connect(dsn, application_name="psql")
    conn.execute(f"lock table {table} in {mode} mode")  # type: ignore[arg-type]
    pid = conn.execute("select pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    return conn, pid


def test_a_session_holding_an_exclusive_lock_is_named_and_ended_by_the_repair(target: SupabaseTarget) -> None:
    with psycopg.connect(target.database_url) as conn:
        locked, other = (r[0] for r in conn.execute(_TABLES).fetchall())
    assert [f.status for f in lock_findings(target)] == ["ok"]
    exclusive, pid = holder(target.database_url, locked, "access exclusive")
    share, share_pid = holder(target.database_url, other, "share")
    rows: list[int] = []
    reader = threading.Thread(target=lambda: rows.append(_count(target.database_url, locked)))
    try:
        reader.start()
        _wait_for_waiter(target.database_url, pid)
        found = {(f.data["code"], f.data["pid"], tuple(f.data["tables"]), str(f.status)) for f in lock_findings(target)}
        assert found == {("lock_blocks_reads", pid, (locked,), "fail"), ("lock_blocks_writes", share_pid, (other,), "warn")}
        findings = lock_findings(target)
        assert next(f for f in findings if f.data["pid"] == pid).data["waiting"] == 1
        ctx, recorder = context_for(target)
        repair = TerminateLockHolderRepair(target)
        params = repair.proposes(findings)
        assert params is not None and params["pid"] == pid
        steps = asyncio.run(repair.plan(ctx, params))
        dry = asyncio.run(repair.dry_run(ctx, steps))
        assert dry.ok and str(pid) in dry.output, dry.output
        applied = asyncio.run(repair.apply(ctx, steps))
        assert applied.ok, applied.output
        reader.join(timeout=10)
        assert rows and rows[0] >= 0, "the waiting reader did not get its rows after the holder ended"
        with pytest.raises(psycopg.OperationalError):
            exclusive.execute("select 1")
        assert share.execute("select 1").fetchone() == (1,), "the repair ended another session too"
        assert [f.status for f in asyncio.run(repair.validate(ctx, params))] == ["ok"]
        # the same plan again: its session is gone, the dry-run refuses, the fingerprint moved on
        again = asyncio.run(repair.dry_run(ctx, steps))
        assert not again.ok and again.fingerprint != dry.fingerprint, again
    finally:
        for conn in (exclusive, share):
            with contextlib.suppress(psycopg.Error):
                conn.close()
        reader.join(timeout=10)


def _count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        conn.execute("set statement_timeout = '20s'")
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])  # type: ignore[arg-type,index]


def _wait_for_waiter(dsn: str, pid: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(100):
            if conn.execute("select count(*) from pg_stat_activity where %s = any(pg_blocking_pids(pid))",
                            (pid,)).fetchone()[0]:  # type: ignore[index]
                return
            conn.execute("select pg_sleep(0.05)")
    raise AssertionError("the reader never waited for the lock")

