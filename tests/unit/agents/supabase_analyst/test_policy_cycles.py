"""Recursion is found as a cycle of policies over tables, each policy on it named — not blamed on
the alphabetically first policy of one table."""

from __future__ import annotations

from support_mcp.agents.supabase_analyst.fixes import FIXES
from support_mcp.agents.supabase_analyst.parsers import Policy, TableInfo, policy_cycles, reads_table
from support_mcp.domain.models import CheckStatus, Finding


def table(name: str, rls: bool = True) -> TableInfo:
    return TableInfo("public", name, rls)


def policy(on: str, name: str, qual: str) -> Policy:
    return Policy("public", on, name, True, "SELECT", ("authenticated",), qual, None)


BOTS = policy("bots", "Users can view own bots",
              "((owner_id = ( SELECT auth.uid() AS uid)) OR (EXISTS ( SELECT 1 FROM bot_members m "
              "WHERE ((m.bot_id = bots.id) AND (m.user_id = ( SELECT auth.uid() AS uid))))))")
MEMBERS = policy("bot_members", "Members can view their bot team",
                 "((user_id = ( SELECT auth.uid() AS uid)) OR (EXISTS ( SELECT 1 FROM public.bots b "
                 "WHERE ((b.id = bot_members.bot_id) AND (b.owner_id = ( SELECT auth.uid() AS uid))))))")
VIA_FUNCTION = policy("bot_members", "Members can view their bot team", "private.owns_bot(bot_id)")
A_FIRST = policy("bot_members", "A harmless policy", "(user_id = ( SELECT auth.uid() AS uid))")


def test_a_cycle_over_two_tables_names_both_policies() -> None:
    cycles = policy_cycles([table("bots"), table("bot_members")], [A_FIRST, BOTS, MEMBERS])
    assert len(cycles) == 1
    assert {(p.table, p.name) for p in cycles[0]} == {("bots", "Users can view own bots"),
                                                     ("bot_members", "Members can view their bot team")}


def test_a_self_reference_is_a_cycle_of_one_and_a_definer_function_breaks_it() -> None:
    own = policy("team_members", "team_members_select_team",
                 "(EXISTS ( SELECT 1 FROM team_members m WHERE (m.team_id = team_members.team_id)))")
    assert [[p.name for p in c] for c in policy_cycles([table("team_members")], [own])] == \
        [["team_members_select_team"]]
    assert policy_cycles([table("bots"), table("bot_members")], [BOTS, VIA_FUNCTION]) == []


def test_a_table_without_rls_ends_the_chain() -> None:
    assert policy_cycles([table("bots"), table("bot_members", rls=False)], [BOTS, MEMBERS]) == []


def test_reads_table_sees_quoted_and_qualified_names_but_not_prefixes() -> None:
    assert reads_table('exists (select 1 from "public"."Bot Members" m)', None, "public", "Bot Members")
    assert reads_table("select 1 from bots join public.bot_members x on true", None, "public", "bot_members")
    assert not reads_table("select 1 from bots_archive", None, "public", "bots")


def test_the_repair_restores_the_policy_whose_migrated_version_breaks_the_cycle(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "20250101000000_init.sql").write_text(
        'create policy "Users can view own bots" on public.bots for select to authenticated using (\n'
        "  owner_id = (select auth.uid()) or exists (select 1 from public.bot_members m where m.bot_id = bots.id));\n"
        'create policy "Members can view their bot team" on public.bot_members for select to authenticated\n'
        "  using (user_id = (select auth.uid()) or private.owns_bot(bot_id));\n")
    finding = Finding(check="rls_policies", status=CheckStatus.FAIL, title="cycle", data={
        "code": "rls_policy_recursion", "table": "public.bots", "policy": "Users can view own bots",
        "cycle": [{"table": "public.bots", "policy": "Users can view own bots", "reads": "public.bot_members"},
                  {"table": "public.bot_members", "policy": "Members can view their bot team",
                   "reads": "public.bots"}]})
    fix = next(f for f in FIXES if f.name == "restore_policy")
    params = fix.params_from([finding], tmp_path)
    assert params is not None and params["policy"] == "Members can view their bot team"
    sql = fix.sql(params)
    assert sql.startswith('DROP POLICY IF EXISTS "Members can view their bot team" ON "public"."bot_members";')
    assert "private.owns_bot(bot_id)" in sql
