"""The conclusion comes from the findings: declared explanations confirm, refute or replace the
hypothesis, whatever the ticket said; the numbers in the texts are counted by status."""

from __future__ import annotations

import pytest

from support_mcp.agents.registry import EXPLANATIONS, checks_for, explanations_for, registered_check_names
from support_mcp.domain.models import AGENTS, CheckStatus, Finding, Verdict
from support_mcp.services.conclusion import UNDECLARED, conclude, count_findings
from support_mcp.services.triage import SYMPTOMS

HOST = "hetzner-ops-agent"


def f(check: str, status: str, title: str = "", **data: object) -> Finding:
    return Finding(check=check, status=CheckStatus(status), title=title or f"{check} {status}", data=dict(data))


CRASH_LOOP = [
    f("host.load", "ok"), f("host.disk", "ok"), f("host.memory", "ok"),
    f("pm2_status", "fail", "whatsapp-bot-builder errored, 15 restarts", restart_loop=True),
    f("pm2_logs", "warn", "invalid configuration APP_MODE=crash"),
    f("port_3000", "fail", "nothing listens on 3000"), f("http_smoke", "fail", "502", proxy_error=True),
    f("journal", "skipped", "no systemd"), f("deploy_age", "ok"),
]


def test_findings_that_explain_the_hypothesised_symptom_confirm_it_and_name_the_root_cause() -> None:
    c = conclude(CRASH_LOOP, explanations_for(HOST), "bad_gateway", agent=HOST)
    assert c.verdict == Verdict.CONFIRMED and not c.revised
    assert c.cause is not None and "Neustart-Schleife" in c.cause
    assert [x.check for x in c.evidence][:1] == ["pm2_status"]  # strongest explanation first
    assert {"pm2_logs", "port_3000", "http_smoke"} <= {x.check for x in c.evidence}


def test_a_wrong_hypothesis_is_refuted_and_the_findings_name_the_new_one() -> None:
    c = conclude(CRASH_LOOP, explanations_for(HOST), "resource_pressure", agent=HOST)
    assert c.verdict == Verdict.REFUTED and c.revised
    assert c.symptom == "bad_gateway" and "Neustart-Schleife" in (c.cause or "")


def test_a_neutral_ticket_gets_the_cause_the_findings_name() -> None:
    c = conclude(CRASH_LOOP, explanations_for(HOST), None, agent=HOST)
    assert c.verdict == Verdict.CONFIRMED and "Neustart-Schleife" in (c.cause or "")


def test_the_root_cause_outweighs_its_symptoms() -> None:
    findings = [f("pm2_status", "fail", "errored"), f("http_smoke", "fail", "502", proxy_error=True),
                f("port_3000", "fail", "held by node (PID 4242)", conflict=True)]
    c = conclude(findings, explanations_for(HOST), "bad_gateway", agent=HOST)
    assert c.evidence[0].check == "port_3000" and "EADDRINUSE" in (c.cause or "")


def test_healthy_checks_refute_and_checks_that_could_not_run_leave_it_open() -> None:
    healthy = [f("pm2_status", "ok"), f("port_3000", "ok"), f("http_smoke", "ok"), f("journal", "skipped")]
    assert conclude(healthy, explanations_for(HOST), "bad_gateway", agent=HOST).verdict == Verdict.REFUTED
    blind = [f("pm2_status", "error", "ssh refused"), f("http_smoke", "ok")]
    c = conclude(blind, explanations_for(HOST), "bad_gateway", agent=HOST)
    assert c.verdict == Verdict.INCONCLUSIVE and c.cause is None
    skipped = [f("pm2_status", "skipped"), f("http_smoke", "skipped")]
    assert conclude(skipped, explanations_for(HOST), "bad_gateway", agent=HOST).verdict == Verdict.INCONCLUSIVE


def test_a_fail_no_rule_declares_is_still_evidence() -> None:
    c = conclude([f("brand_new_check", "fail", "something broke")], explanations_for(HOST), None, agent=HOST)
    assert c.verdict == Verdict.CONFIRMED and c.symptom == UNDECLARED and c.cause == "something broke"


def test_a_cause_in_another_layer_hands_over() -> None:
    log = f("pm2_logs", "warn", "Error: supabaseUrl is required.")
    c = conclude([log, f("http_smoke", "fail", "502", proxy_error=True)], explanations_for(HOST), "bad_gateway",
                 agent=HOST)
    assert c.handover_to == "supabase-analyst-agent" and c.evidence[0] is log
    digest = f("frontend.digest", "fail", "digest 123")
    digest = digest.model_copy(update={"evidence": ["error: infinite recursion detected in policy for relation"]})
    c = conclude([digest], explanations_for("frontend-diagnostics-agent"), "runtime_digest",
                 agent="frontend-diagnostics-agent")
    assert c.handover_to == "supabase-analyst-agent"


def test_english_causes_on_request() -> None:
    c = conclude(CRASH_LOOP, explanations_for(HOST), "bad_gateway", agent=HOST, language="en")
    assert c.cause is not None and "restart loop" in c.cause


@pytest.mark.parametrize("agent", AGENTS)
def test_every_rule_names_a_known_symptom_and_check_of_its_agent(agent: str) -> None:
    symptoms = {s.key for s in SYMPTOMS}
    own = {s.key for s in SYMPTOMS if s.agent == agent}
    checks = {c.name for c in checks_for(agent)} | registered_check_names()
    for rule in EXPLANATIONS[agent]:
        assert rule.symptom in symptoms and rule.check in checks, rule
        assert rule.cause["de"] and rule.cause["en"]
    # every symptom triage can route to this agent is explained by at least one of its rules
    assert own <= {r.symptom for r in EXPLANATIONS[agent]}


def test_counts_are_by_status_and_say_when_everything_was_skipped() -> None:
    assert count_findings(CRASH_LOOP) == "3 Fehler, 1 Warnung, 4 ok, 1 übersprungen"
    assert count_findings(CRASH_LOOP, "en") == "3 failures, 1 warning, 4 ok, 1 skipped"
    skipped = [f("health", "skipped", "Supabase nicht konfiguriert."), f("functions", "skipped",
                                                                          "Supabase nicht konfiguriert.")]
    assert count_findings(skipped) == "keine Befunde: alle 2 Prüfungen übersprungen (Supabase nicht konfiguriert)"
    assert count_findings(skipped, "en").startswith("no findings: all 2 checks skipped")
    assert count_findings([]) == "keine Befunde"


def test_a_busy_host_does_not_outweigh_a_crash_loop_seen_by_four_checks() -> None:
    busy = [f("host.load", "warn", "load 1.2 per core"), *CRASH_LOOP[1:]]
    c = conclude(busy, explanations_for(HOST), None, agent=HOST)
    assert c.symptom == "bad_gateway" and c.evidence[0].check == "pm2_status"
    loaded = [f("host.load", "fail", "load 2.5 per core"), f("pm2_status", "fail", "stopped"),
              f("port_3000", "fail", "free"), f("http_smoke", "fail", "502", proxy_error=True)]
    assert conclude(loaded, explanations_for(HOST), None, agent=HOST).symptom == "bad_gateway"


def test_a_host_under_real_pressure_names_the_pressure() -> None:
    pressure = [f("host.disk", "fail", "96 %"), f("host.memory", "fail", "4 %"), f("host.load", "fail", "3.9"),
                f("http_smoke", "fail", "502", proxy_error=True)]
    assert conclude(pressure, explanations_for(HOST), None, agent=HOST).symptom == "resource_pressure"


def test_a_loaded_cpu_does_not_outweigh_a_502_seen_through_caddy() -> None:
    findings = [f("host.load", "fail", "load 2.4 per core"), f("pm2_status", "ok"), f("port_3000", "ok"),
                f("http_smoke", "fail", "502", proxy_error=True)]
    c = conclude(findings, explanations_for(HOST), None, agent=HOST)
    assert c.symptom == "bad_gateway" and c.evidence[0].check == "http_smoke"
