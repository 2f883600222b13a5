"""Every fault scenario of the lab, injected into a fresh clone, is named by the right check with
the right cause (finding code), and the healthy lab shows none of them."""

from __future__ import annotations

import asyncio

import pytest

from helpers.supabase_lab import SCENARIOS, checksum, context_for
from support_mcp.agents.supabase_analyst import supabase_checks
from support_mcp.domain.models import Finding
from support_mcp.domain.targets import SupabaseTarget

# scenario -> (check, code, status) that must be among the findings
EXPECTED: dict[str, set[tuple[str, str, str]]] = {
    "trigger_disabled": {("functions", "signup_trigger_disabled", "fail"),
                         ("auth_consistency", "users_without_profile", "fail"),
                         ("signup_path", "signup_no_profile", "fail")},
    "trigger_dropped": {("functions", "signup_trigger_missing", "fail"),
                        ("auth_consistency", "users_without_profile", "fail")},
    "subscription_fails": {("signup_path", "signup_fails", "fail")},
    "rls_no_policy": {("rls_policies", "rls_no_policy_for_role", "warn"),
                      ("reproduce_rpc", "table_read_empty", "warn")},
    "recursive_policy": {("rls_policies", "rls_policy_recursion", "fail"),
                         ("reproduce_rpc", "table_read_fails", "fail")},
    "metadata_policy": {("rls_policies", "rls_references_user_metadata", "fail"),
                        ("rls_policies", "multiple_permissive_policies", "warn")},
    "definer_search_path": {("functions", "function_search_path_mutable", "warn")},
    "table_without_rls": {("rls_policies", "rls_disabled_in_public", "fail")},
    "always_true_policy": {("rls_policies", "rls_policy_always_true", "warn")},
    "orphaned_profiles": {("auth_consistency", "orphaned_profiles", "warn")},
    "banned_sessions": {("auth_consistency", "banned_user_sessions", "fail")},
    "rpc_authenticated_only": {("reproduce_rpc", "rpc_fails_for_role", "fail")},
}


async def diagnose(target: SupabaseTarget, language: str = "de") -> tuple[list[Finding], int]:
    ctx, recorder = context_for(target, language)
    groups = await asyncio.gather(*(check.run(ctx) for check in supabase_checks(target)))
    return [f for g in groups for f in g], len(recorder.commands)


def problems(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.check, f.data.get("code"), str(f.status)) for f in findings if f.status in ("warn", "fail")}


def test_every_scenario_has_an_expectation() -> None:
    assert set(EXPECTED) == set(SCENARIOS)


async def test_healthy_lab_has_no_problem_and_no_error(lab) -> None:  # type: ignore[no-untyped-def]
    findings, commands = await diagnose(lab())
    assert problems(findings) == set()
    assert {f.check for f in findings if f.status == "ok"} >= {
        "health", "auth_consistency", "functions", "signup_path", "rls_policies", "reproduce_rpc"}
    assert {f.check for f in findings if f.status == "skipped"} == {"monitoring_snapshot", "supabase_logs"}
    assert commands >= 10  # every statement is logged on the ticket


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
async def test_scenario_is_named_by_its_cause(lab, scenario: str) -> None:  # type: ignore[no-untyped-def]
    target = lab(scenario)
    before = checksum(target.database_url)
    findings, _ = await diagnose(target)
    assert EXPECTED[scenario] <= problems(findings), problems(findings)
    assert not [f for f in findings if f.status == "error"]
    # diagnosis (including the rolled-back sign-up reproduction) changes nothing
    assert checksum(target.database_url) == before


async def test_signup_failure_reports_sqlstate_message_and_context(lab) -> None:  # type: ignore[no-untyped-def]
    findings, _ = await diagnose(lab("subscription_fails"))
    signup = next(f for f in findings if f.data.get("code") == "signup_fails")
    assert signup.data["sqlstate"] == "23514"
    assert "subscriptions_status_check" in signup.data["message"]
    assert "create_free_subscription" in signup.data["context"]
    assert "Database error saving new user" in signup.title


async def test_findings_are_english_on_request(lab) -> None:  # type: ignore[no-untyped-def]
    findings, _ = await diagnose(lab("rpc_authenticated_only"), "en")
    rpc = next(f for f in findings if f.data.get("code") == "rpc_fails_for_role")
    assert rpc.title.startswith("RPC public.get_dashboard_stats() fails only as authenticated")
    assert rpc.data["sqlstate"] == "42501" and "service_role: ok" in rpc.evidence


async def test_unreachable_database_is_an_error_finding() -> None:
    target = SupabaseTarget(database_url="postgresql://x:pw@127.0.0.1:1/none?connect_timeout=2")
    findings, _ = await diagnose(target)
    assert {f.status for f in findings if f.check in ("health", "rls_policies")} == {"error"}
