"""Parsers over recorded catalog rows of the lab and documented-shape API payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support_mcp.agents.supabase_analyst.parsers import (
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
    ("always_true_policy", {("rls_policy_always_true", "public.profiles", "profiles_select_all")}),
    ("rls_no_policy", {("rls_no_policy_for_role", "public.profiles", "authenticated")}),
    ("table_without_rls", {("rls_disabled_in_public", "public.api_keys", None)}),
])
def test_scenario_lints_are_named_like_supabase_advisor(scenario: str, expected: set[tuple[str, str, str]]) -> None:
    assert lints(scenario) == expected


def test_lint_levels_follow_splinter() -> None:
    rows = CATALOG["table_without_rls"]
    (lint,) = lint_rls(parse_tables(rows["tables"]), parse_policies(rows["policies"]))
    assert (lint.lint_id, lint.level) == ("0013", "ERROR")


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
