"""Parsers over recorded catalog rows of the lab and documented-shape API payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support_mcp.agents.supabase_analyst.parsers import (
    Policy,
    RoleInfo,
    TableInfo,
    always_true_clause,
    error_lines,
    lint_rls,
    parse_log_rows,
    parse_monitoring_snapshot,
    parse_policies,
    parse_tables,
    permission_target,
    recursion_relation,
    references_own_table,
)
from support_mcp.domain.errors import InvalidInput

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "supabase_analyst"
CATALOG = json.loads((FIXTURES / "catalog_rows.json").read_text("utf-8"))


def lints(scenario: str) -> set[tuple[str, str, str | None]]:
    rows = CATALOG[scenario]
    return {(lint.code, lint.table, lint.policy or lint.role)
            for lint in lint_rls(parse_tables(rows["tables"]), parse_policies(rows["policies"]))}


def test_healthy_catalog_has_no_lint() -> None:
    assert lints("healthy") == set()


@pytest.mark.parametrize(("scenario", "expected"), [
    ("metadata_policy", {("rls_references_user_metadata", "public.subscriptions", "subscriptions_select_admin"),
                         ("multiple_permissive_policies", "public.subscriptions", "authenticated")}),
    # FOR SELECT TO anon USING (true) is public read access: splinter 0024 leaves it out on purpose.
    ("always_true_policy", set()),
    ("rls_no_policy", {("rls_no_policy_for_role", "public.profiles", "authenticated")}),
    ("table_without_rls", {("rls_disabled_in_public", "public.api_keys", None)}),
])
def test_scenario_lints_are_named_like_supabase_advisor(scenario: str, expected: set[tuple[str, str, str]]) -> None:
    assert lints(scenario) == expected


def test_lint_levels_follow_splinter() -> None:
    rows = CATALOG["table_without_rls"]
    (lint,) = lint_rls(parse_tables(rows["tables"]), parse_policies(rows["policies"]))
    assert (lint.lint_id, lint.level) == ("0013", "ERROR")


def _policy(name: str, cmd: str, qual: str | None = None, with_check: str | None = None, *,
            roles: tuple[str, ...] = ("anon",), permissive: bool = True) -> Policy:
    return Policy("public", "t", name, permissive, cmd, roles, qual, with_check)


def _codes(tables: list[TableInfo], policies: list[Policy], roles: list[RoleInfo] | None = None,
           ) -> set[tuple[str, str | None, str | None]]:
    found = lint_rls(tables, policies, roles) if roles is not None else lint_rls(tables, policies)
    return {(lint.code, lint.lint_id, lint.policy or lint.role) for lint in found}


def test_always_true_leaves_public_read_out_and_flags_writes() -> None:
    assert always_true_clause(_policy("read", "SELECT", "true")) is None
    assert always_true_clause(_policy("read_all", "SELECT", "true", roles=("public",))) is None
    assert always_true_clause(_policy("upd", "UPDATE", "true")) == ("USING", "true")
    assert always_true_clause(_policy("del", "DELETE", "(1 = 1)")) == ("USING", "(1 = 1)")
    assert always_true_clause(_policy("ins", "INSERT", with_check="true")) == ("WITH CHECK", "true")
    assert always_true_clause(_policy("all", "ALL", "true", roles=("public",))) == ("USING", "true")
    # a permissive policy without the clause lets every row through as well
    assert always_true_clause(_policy("del_bare", "DELETE")) == ("USING", None)
    assert always_true_clause(_policy("ins_bare", "INSERT", roles=("authenticated",))) == ("WITH CHECK", None)
    # not 0024: another role, restrictive, not literally true, a real check
    assert always_true_clause(_policy("svc", "UPDATE", "true", roles=("service_role",))) is None
    assert always_true_clause(_policy("restr", "UPDATE", "true", permissive=False)) is None
    assert always_true_clause(_policy("and", "UPDATE", "(true AND true)")) is None
    assert always_true_clause(_policy("own", "UPDATE", "(auth.uid() = id)", "(auth.uid() = id)")) is None


def test_always_true_needs_rls_on() -> None:
    policy = _policy("upd", "UPDATE", "true")
    assert ("rls_policy_always_true", "0024", "upd") in _codes([TableInfo("public", "t", True)], [policy])
    assert _codes([TableInfo("public", "t", False)], [policy]) == {("policy_exists_rls_disabled", "0007", None)}


def test_user_metadata_from_the_jwt_is_0015_other_ways_are_ours() -> None:
    jwt = _policy("jwt", "SELECT", "(((auth.jwt() -> 'user_metadata'::text) ->> 'role'::text) = 'admin'::text)")
    claims = _policy("claims", "INSERT", with_check="((((current_setting('request.jwt.claims'::text, true))::jsonb "
                                                    "-> 'user_metadata'::text) ->> 'plan'::text) = 'pro'::text)")
    raw = _policy("raw", "SELECT", "(EXISTS ( SELECT 1 FROM auth.users u WHERE ((u.raw_user_meta_data ->> "
                                   "'role'::text) = 'admin'::text)))", roles=("authenticated",))
    app = _policy("app", "DELETE", "(((auth.jwt() -> 'app_metadata'::text) ->> 'role'::text) = 'admin'::text)")
    assert _codes([TableInfo("public", "t", True)], [jwt, claims, raw, app]) == {
        ("rls_references_user_metadata", "0015", "jwt"), ("rls_references_user_metadata", "0015", "claims"),
        ("rls_trusts_user_metadata", None, "raw")}


def test_multiple_permissive_counts_public_for_every_role_not_bypassing_rls() -> None:
    roles = [RoleInfo("anon", False), RoleInfo("authenticated", False), RoleInfo("authenticator", False),
             RoleInfo("service_role", True), RoleInfo("pgbouncer", False), RoleInfo("supabase_auth_admin", False)]
    policies = [_policy("a", "SELECT", "published", roles=("public",)), _policy("b", "ALL", "(id > 0)", roles=("public",))]
    assert _codes([TableInfo("public", "t", True)], policies, roles) == {
        ("multiple_permissive_policies", "0006", role) for role in ("anon", "authenticated", "authenticator")}


def test_rls_off_is_0007_with_policies_and_0013_when_exposed_and_readable() -> None:
    policy = _policy("p", "SELECT", "false")
    readable = frozenset({"anon:SELECT"})
    assert _codes([TableInfo("public", "t", False, readable)], [policy]) == {
        ("policy_exists_rls_disabled", "0007", None), ("rls_disabled_in_public", "0013", None)}
    assert _codes([TableInfo("public", "t", False, frozenset({"anon:INSERT"}))], []) == set()
    assert _codes([TableInfo("private", "t", False, readable, exposed=False)], []) == set()
    assert _codes([TableInfo("public", "t", False, readable, kind="p")], []) == set()


def test_schemas_splinter_excludes_and_extension_tables_are_not_linted() -> None:
    assert _codes([TableInfo("storage", "buckets", True, exposed=False)], []) == set()
    assert _codes([TableInfo("public", "t", True, extension=True)], []) == set()
    assert _codes([TableInfo("private", "ledger", True, exposed=False)], []) == {
        ("rls_enabled_no_policy", "0008", None)}


def test_recursive_policy_is_seen_in_the_expression_and_the_error() -> None:
    rows = CATALOG["recursive_policy"]
    recursive = [p.name for p in parse_policies(rows["policies"]) if references_own_table(p)]
    assert recursive == ["team_members_select_team"]
    assert recursion_relation(rows["team_members_error"]) == "team_members"
    assert not [p for p in parse_policies(CATALOG["healthy"]["policies"]) if references_own_table(p)]


def test_permission_error_names_the_object() -> None:
    assert permission_target("permission denied for table usage_stats") == ("table", "usage_stats")
    assert permission_target("division by zero") is None


def test_monitoring_snapshot_lists_failing_services() -> None:
    snapshot = parse_monitoring_snapshot(json.loads((FIXTURES / "monitoring_snapshot_degraded.json").read_text()))
    assert snapshot.status == "degraded" and snapshot.issues == ("auth: error",)
    assert parse_monitoring_snapshot({"ok": True}).status == "ok"
    with pytest.raises(InvalidInput):
        parse_monitoring_snapshot(["not", "an", "object"])


def test_log_rows_keep_errors_only() -> None:
    auth = parse_log_rows("auth", json.loads((FIXTURES / "logs_auth.json").read_text()))
    pg = parse_log_rows("postgres", json.loads((FIXTURES / "logs_postgres.json").read_text()))
    bad = error_lines([*auth, *pg])
    assert [line.source for line in bad] == ["auth", "postgres"]
    assert "Database error saving new user" in bad[0].message
    with pytest.raises(InvalidInput):
        parse_log_rows("auth", {"error": "Unauthorized"})
