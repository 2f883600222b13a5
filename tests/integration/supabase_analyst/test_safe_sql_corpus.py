"""The hostile SQL corpus against the real lab: every statement refused with a reason, and not a
byte of the lab changed (checksum of every table and of the policy/trigger/function catalog)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helpers.supabase_lab import checksum, clone_lab, drop_database, run_sql_file
from support_mcp.agents.supabase_analyst.safe_sql import SafeSql
from support_mcp.domain.errors import PolicyViolation
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.sql import SqlRunner

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "supabase_analyst"
HOSTILE = yaml.safe_load((FIXTURES / "hostile_sql.yaml").read_text("utf-8"))
SAFE = yaml.safe_load((FIXTURES / "safe_sql.yaml").read_text("utf-8"))
# Lying and honest functions for the guard to judge by their bodies (dblink, set_config, nextval,
# dynamic SQL, writes in SQL, PL/pgSQL and BEGIN ATOMIC bodies, chains, overloads, an operator).
GUARD_FUNCTIONS = FIXTURES / "guard_functions.sql"


def _canary_touched(dsn: str) -> bool:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute("select bool_or(touched) from guardlab.canary").fetchone()
    return bool(row and row[0])


@pytest.fixture(scope="module")
def guarded_lab(lab_template: str) -> Iterator[SupabaseTarget]:
    """One healthy clone with guard_functions.sql installed (shared by the read-only tests)."""
    name, dsn = clone_lab(lab_template)
    run_sql_file(dsn, GUARD_FUNCTIONS)
    yield SupabaseTarget(database_url=dsn)
    drop_database(name)


async def test_hostile_corpus_is_refused_and_changes_nothing(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab()
    run_sql_file(target.database_url, GUARD_FUNCTIONS)
    before = checksum(target.database_url)
    not_refused = []
    async with SqlRunner(target.database_url) as runner:
        safe = SafeSql(runner)
        for case in HOSTILE:
            try:
                await safe.query(case["sql"])
            except PolicyViolation as exc:
                assert re.search(case["expect"], str(exc)), (case["sql"], str(exc))
            else:
                not_refused.append(case["sql"])
    assert not_refused == []
    assert checksum(target.database_url) == before
    # dblink writes through a connection of its own, which no READ ONLY transaction covers: only
    # the guard's reading of remote_touch()'s body kept this row untouched
    assert not _canary_touched(target.database_url)


async def test_without_the_body_walk_the_dblink_wrapper_would_have_written(lab) -> None:  # type: ignore[no-untyped-def]
    """The attack is real on this lab: run outside the guard, the STABLE wrapper writes."""
    target = lab()
    run_sql_file(target.database_url, GUARD_FUNCTIONS)
    async with SqlRunner(target.database_url) as runner, runner.transaction() as session:
        result = await session.fetch("select guardlab.remote_touch()")
    assert result.error is None, result.error
    assert _canary_touched(target.database_url)


@pytest.mark.parametrize("sql", SAFE, ids=lambda s: s[:50])
async def test_plain_reads_run_on_the_lab(guarded_lab: SupabaseTarget, sql: str) -> None:
    async with SqlRunner(guarded_lab.database_url) as runner:
        result = await SafeSql(runner).query(sql)
    assert result.error is None, result.error
