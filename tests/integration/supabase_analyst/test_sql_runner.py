"""The SQL runner on the real lab: read-only transactions, timeouts, caps, roles and claims, and its
connection pool (bounded, shared nothing between calls, closed by aclose)."""

from __future__ import annotations

import asyncio

import pytest

from helpers.supabase_lab import backend_count
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.domain.targets import SupabaseTarget
from support_mcp.executors.sql import SqlRunner, user_claims

ANNA = "11111111-1111-4111-8111-111111111111"


async def test_rows_are_capped_with_truncated_flag_and_total(healthy_lab: SupabaseTarget) -> None:
    async with SqlRunner(healthy_lab.database_url, max_rows=3) as runner:
        result = await runner.read("select g from generate_series(1, 1000) g")
    assert len(result.rows) == 3 and result.truncated and result.total_rows == 1000
    async with SqlRunner(healthy_lab.database_url, max_bytes=50) as runner:
        small = await runner.read("select repeat('x', 20) from generate_series(1, 10)")
    assert 1 <= len(small.rows) < 10 and small.truncated and small.total_rows == 10


async def test_reads_run_read_only(healthy_lab: SupabaseTarget) -> None:
    async with SqlRunner(healthy_lab.database_url) as runner:
        result = await runner.read("delete from public.profiles")
    assert result.error is not None and result.error.sqlstate == "25006"  # read_only_sql_transaction


async def test_statement_timeout_is_a_finding_value_not_a_hang(healthy_lab: SupabaseTarget) -> None:
    async with SqlRunner(healthy_lab.database_url, statement_timeout_ms=200) as runner:
        result = await runner.read("select pg_sleep(5)")
    assert result.error is not None and result.error.sqlstate == "57014"
    assert result.duration_ms < 3000


async def test_role_and_jwt_claims_reach_auth_uid_and_rls(healthy_lab: SupabaseTarget) -> None:
    async with SqlRunner(healthy_lab.database_url) as runner:
        me = await runner.read("select auth.uid(), auth.role(), current_user, count(*) from public.profiles",
                               role="authenticated", claims=user_claims(ANNA, "anna@example.com"))
        anon = await runner.read("select count(*) from public.profiles", role="anon", claims={"role": "anon"})
    assert me.error is None
    uid, role, user, visible = me.rows[0]
    assert (str(uid), role, user, visible) == (ANNA, "authenticated", "authenticated", 1)
    assert anon.error is not None and anon.error.sqlstate == "42501"


async def test_error_carries_sqlstate_message_detail_hint(healthy_lab: SupabaseTarget) -> None:
    async with SqlRunner(healthy_lab.database_url) as runner:
        result = await runner.read("select 1/0")
    assert result.error is not None and result.error.sqlstate == "22012"
    assert "division by zero" in result.render()


async def test_only_api_roles_and_unreachable_db_is_execution_error(healthy_lab: SupabaseTarget) -> None:
    with pytest.raises(InvalidInput):
        await SqlRunner(healthy_lab.database_url).read("select 1", role="postgres")
    with pytest.raises(ExecutionError) as exc:
        await SqlRunner("postgresql://u:s3cret@127.0.0.1:1/x", connect_timeout_s=2).read("select 1")
    assert "s3cret" not in str(exc.value)


async def test_committing_transaction_rolls_back_when_aborted(healthy_lab: SupabaseTarget) -> None:
    async with SqlRunner(healthy_lab.database_url) as runner:
        async with runner.transaction(read_only=False, commit=True) as session:
            await session.fetch("update public.teams set name = 'changed'")
            session.abort = True
        after = await runner.read("select name from public.teams")
    assert after.rows == [("Team Adler",)]


async def test_pooled_connection_keeps_no_role_or_claims_of_the_previous_call(healthy_lab: SupabaseTarget) -> None:
    async with SqlRunner(healthy_lab.database_url, pool_max_size=1) as runner:
        first = await runner.read("select pg_backend_pid(), current_user, auth.uid()::text", role="authenticated",
                                  claims=user_claims(ANNA, "anna@example.com"))
        assert first.error is None and first.rows[0][1:] == ("authenticated", ANNA)
        after = await runner.read("select pg_backend_pid(), current_user, current_setting('role'), "
                                  "nullif(current_setting('request.jwt.claims', true), ''), auth.uid()")
        assert after.error is None
        pid, user, role, claims, uid = after.rows[0]
        assert pid == first.rows[0][0]  # the same pooled connection
        assert (user, role, claims, uid) == ("postgres", "none", None, None)


async def test_statement_timeout_does_not_poison_the_next_call(healthy_lab: SupabaseTarget) -> None:
    async with SqlRunner(healthy_lab.database_url, statement_timeout_ms=200, pool_max_size=1) as runner:
        slow = await runner.read("select pg_backend_pid(), pg_sleep(5)")
        assert slow.error is not None and slow.error.sqlstate == "57014"
        inside = await runner.read("select pg_backend_pid(), current_setting('statement_timeout'), "
                                   "current_setting('transaction_read_only')")
        assert inside.error is None and inside.rows[0][1:] == ("200ms", "on")
        async with runner.transaction(read_only=False, commit=True) as session:
            await session.fetch("set search_path = auth")  # session state a committed migration could leave
        # outside any runner transaction the pooled session has the server's defaults again
        async with runner._connection() as conn:
            cur = await conn.execute("select pg_backend_pid(), current_setting('statement_timeout'), "
                                     "current_setting('search_path'), current_user")
            pid, timeout, search_path, user = await cur.fetchone()  # type: ignore[misc]
        assert pid == inside.rows[0][0]
        assert (timeout, user) == ("0", "postgres") and search_path.startswith('"$user"')


async def test_runner_reuses_pooled_connections_and_aclose_closes_them(healthy_lab: SupabaseTarget) -> None:
    runner = SqlRunner(healthy_lab.database_url, pool_max_size=2)
    assert not runner.is_open and backend_count(healthy_lab.database_url) == 0  # nothing until first use
    pids = {(await runner.read("select pg_backend_pid()")).rows[0][0] for _ in range(10)}
    assert len(pids) == 1 and runner.is_open
    await asyncio.gather(*(runner.read("select pg_sleep(0.2)") for _ in range(5)))
    assert 1 <= backend_count(healthy_lab.database_url) <= 2  # bounded
    await runner.aclose()
    assert not runner.is_open and backend_count(healthy_lab.database_url) == 0
    again = await runner.read("select 1")  # usable again: a new pool on demand
    assert again.rows == [(1,)]
    await runner.aclose()


async def test_a_request_is_set_up_as_postgrest_does(healthy_lab: SupabaseTarget) -> None:
    from support_mcp.executors.sql import ApiRequest

    claims = user_claims("22222222-2222-4222-8222-222222222222", "ben@example.com")
    async with SqlRunner(healthy_lab.database_url, "supabase") as runner:
        result = await runner.read(
            "select current_setting('request.jwt.claim.sub'), current_setting('request.jwt.claim.email'), "
            "current_setting('request.jwt.claims')::jsonb ->> 'role', current_setting('request.method'), "
            "current_setting('request.path'), current_setting('search_path'), current_user, auth.uid()::text",
            role="authenticated", claims=claims, request=ApiRequest("POST", "/rpc/get_dashboard_stats", ("public",)))
    assert result.ok, result.error
    assert result.rows[0] == ("22222222-2222-4222-8222-222222222222", "ben@example.com", "authenticated", "POST",
                              "/rpc/get_dashboard_stats", "public", "authenticated",
                              "22222222-2222-4222-8222-222222222222")


async def test_an_error_shows_the_statement_with_its_bound_values(healthy_lab: SupabaseTarget) -> None:
    async with SqlRunner(healthy_lab.database_url, "supabase") as runner:
        result = await runner.read("select 1 / %(zero)s from auth.users where email = %(email)s",
                                   {"zero": 0, "email": "o'brien@example.com"})
    assert result.error is not None and result.error.sqlstate == "22012"
    assert result.sql == "select 1 / 0 from auth.users where email = 'o''brien@example.com'"
    assert "%(" not in result.sql
