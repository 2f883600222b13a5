"""The hostile SQL corpus against the real lab: every statement refused with a reason, and not a
byte of the lab changed (checksum of every table and of the policy/trigger/function catalog)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from helpers.supabase_lab import checksum
from support_mcp.agents.supabase_analyst.safe_sql import SafeSql
from support_mcp.domain.errors import PolicyViolation
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.sql import SqlRunner

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "supabase_analyst"
HOSTILE = yaml.safe_load((FIXTURES / "hostile_sql.yaml").read_text("utf-8"))
SAFE = yaml.safe_load((FIXTURES / "safe_sql.yaml").read_text("utf-8"))


async def test_hostile_corpus_is_refused_and_changes_nothing(lab) -> None:  # type: ignore[no-untyped-def]
    target = lab()
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


@pytest.mark.parametrize("sql", SAFE, ids=lambda s: s[:50])
async def test_plain_reads_run_on_the_lab(healthy_lab: SupabaseTarget, sql: str) -> None:
    async with SqlRunner(healthy_lab.database_url) as runner:
        result = await SafeSql(runner).query(sql)
    assert result.error is None, result.error
