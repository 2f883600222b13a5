"""The SQL runner on the real lab: read-only transactions, timeouts, caps, roles and claims."""

from __future__ import annotations

import pytest

from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.sql import SqlRunner, user_claims

ANNA = "11111111-1111-4111-8111-111111111111"


async def test_rows_are_capped_with_truncated_flag_and_total(healthy_lab: SupabaseTarget) -> None:
    result = await SqlRunner(healthy_lab.database_url, max_rows=3).read("select g from generate_series(1, 1000) g")
    assert len(result.rows) == 3 and result.truncated and result.total_rows == 1000
    small = await SqlRunner(healthy_lab.database_url, max_bytes=50).read("select repeat('x', 20) from generate_series(1, 10)")
    assert 1 <= len(small.rows) < 10 and small.truncated and small.total_rows == 10


async def test_reads_run_read_only(healthy_lab: SupabaseTarget) -> None:
    result = await SqlRunner(healthy_lab.database_url).read("delete from public.profiles")
    assert result.error is not None and result.error.sqlstate == "25006"  # read_only_sql_transaction


async def test_statement_timeout_is_a_finding_value_not_a_hang(healthy_lab: SupabaseTarget) -> None:
    runner = SqlRunner(healthy_lab.database_url, statement_timeout_ms=200)
    result = await runner.read("select pg_sleep(5)")
    assert result.error is not None and result.error.sqlstate == "57014"
    assert result.duration_ms < 3000


async def test_role_and_jwt_claims_reach_auth_uid_and_rls(healthy_lab: SupabaseTarget) -> None:
    runner = SqlRunner(healthy_lab.database_url)
    me = await runner.read("select auth.uid(), auth.role(), current_user, count(*) from public.profiles",
                           role="authenticated", claims=user_claims(ANNA, "anna@example.com"))
    assert me.error is None
    uid, role, user, visible = me.rows[0]
    assert (str(uid), role, user, visible) == (ANNA, "authenticated", "authenticated", 1)
    anon = await runner.read("select count(*) from public.profiles", role="anon", claims={"role": "anon"})
    assert anon.error is not None and anon.error.sqlstate == "42501"


async def test_error_carries_sqlstate_message_detail_hint(healthy_lab: SupabaseTarget) -> None:
    result = await SqlRunner(healthy_lab.database_url).read("select 1/0")
    assert result.error is not None and result.error.sqlstate == "22012"
    assert "division by zero" in result.render()


async def test_only_api_roles_and_unreachable_db_is_execution_error(healthy_lab: SupabaseTarget) -> None:
    with pytest.raises(InvalidInput):
        await SqlRunner(healthy_lab.database_url).read("select 1", role="postgres")
    with pytest.raises(ExecutionError) as exc:
        await SqlRunner("postgresql://u:s3cret@127.0.0.1:1/x", connect_timeout_s=2).read("select 1")
    assert "s3cret" not in str(exc.value)


async def test_committing_transaction_rolls_back_when_aborted(healthy_lab: SupabaseTarget) -> None:
    runner = SqlRunner(healthy_lab.database_url)
    async with runner.transaction(read_only=False, commit=True) as session:
        await session.fetch("update public.teams set name = 'changed'")
        session.abort = True
    after = await runner.read("select name from public.teams")
    assert after.rows == [("Team Adler",)]
