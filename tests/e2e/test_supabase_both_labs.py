"""Issue 9, "Done when": both Supabase labs (labs/supabase, ours, and labs/supabase_cli, built
from the upstream Supabase schema) × every fault scenario. The supabase-analyst-agent's run names
the cause in a warn/fail finding with the right verdict, drafts the repair, whose dry-run passes;
a human approves it, it is applied and validated, and an independent SQL probe
(helpers.supabase_faults, no analyst code) sees the fault before the run and not after the
repair. A healthy clone of either lab on a neutral ticket: no warning, verdict refuted, no plan.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from e2e.test_supabase_incidents import INCIDENTS
from helpers.supabase_cli_lab import CLI, LABS, LabSpec
from helpers.supabase_faults import PROBES
from helpers.supabase_lab import drop_database
from support_mcp.bootstrap import Settings, open_services
from support_mcp.domain.models import AuthorKind, Finding, Plan, Verdict
from support_mcp.domain.targets import SupabaseTarget, Targets
from support_mcp.services.runner import RunReport

AGENT = "supabase-analyst-agent"
ALERTING = ("warn", "fail")
NEUTRAL = ("Problem gemeldet", "Kunde meldet ein Problem, bitte prüfen")

# The customer texts are INCIDENTS' (tests/e2e/test_supabase_incidents.py). Two of them name an
# object only our lab has (its RPC, its new table); the CLI lab's customer names their own.
CLI_TEXTS: dict[str, str] = {
    "rpc_authenticated_only": "supabase.rpc('get_my_bots') liefert permission denied (42501).",
    "table_without_rls": "Tabelle bot_webhooks ohne RLS, Datenleck über den anon key?",
}
# The finding code and the repair are INCIDENTS' for both labs: each CLI fault is the same kind
# of fault in that schema's terms (labs/supabase_cli/README.md, "Faults"), and issue 9 item 8 asks
# for "same cause named, same repair applied and validated". No code differs per lab.


def incident(spec: LabSpec, scenario: str) -> tuple[str, str, str]:
    """(customer message, finding code naming the cause, repair that fixes it) on `spec`."""
    message, code, repair = INCIDENTS[scenario]
    if spec is CLI:
        message = CLI_TEXTS.get(scenario, message)
    return message, code, repair


def findings_text(findings: Sequence[Finding]) -> str:
    return "; ".join(f"[{f.status}] {f.check}/{f.data.get('code', '-')}: {f.title}" for f in findings) or "none"


def tail(text: str | None, lines: int = 12) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:]) or "(no output)"


def plans_text(plans: Sequence[Plan]) -> str:
    return "; ".join(f"{p.repair}: {p.status}, dry_run_ok={p.dry_run_ok}" for p in plans) or "none"


def run_text(report: RunReport) -> str:
    conclusion = {k: report.conclusion.get(k) for k in ("verdict", "cause", "evidence_titles", "revised")}
    return (f"verdict={report.verdict}, conclusion={conclusion}, faults={report.faults}\n"
            f"  findings: {findings_text(report.findings)}")


@pytest.fixture(scope="module")
def templates() -> Iterator[dict[str, str]]:
    """Lab name -> template database, built on first use and dropped after the module."""
    made: dict[str, str] = {}
    yield made
    for name in made.values():
        drop_database(name)


@pytest.fixture
def lab(templates: dict[str, str], tmp_path: Path) -> Iterator[Callable[[LabSpec, str | None], SupabaseTarget]]:
    """`lab(spec, scenario)`: a clone of that lab with the fault injected (None: healthy) and the
    project's supabase/migrations folder holding the lab's initial schema."""
    made: list[str] = []

    def make(spec: LabSpec, scenario: str | None) -> SupabaseTarget:
        if spec.name not in templates:
            templates[spec.name] = spec.create_template()
        name, dsn = spec.clone(templates[spec.name], scenario)
        made.append(name)
        migrations = tmp_path / "supabase" / "migrations"
        migrations.mkdir(parents=True)
        shutil.copy(spec.initial_migration, migrations / "20250101000000_initial_schema.sql")
        return spec.target(dsn, migrations_dir=migrations, drafts_dir=tmp_path / "tmp" / "sql")

    yield make
    for name in made:
        drop_database(name)


CASES = [pytest.param(spec, scenario, id=f"{spec.name}-{scenario}") for spec in LABS for scenario in spec.scenarios]


def test_every_scenario_of_both_labs_has_a_probe_and_an_incident() -> None:
    for spec in LABS:
        assert set(PROBES[spec.name]) == set(spec.scenarios) == set(INCIDENTS), spec.name


@pytest.mark.parametrize("spec", LABS, ids=lambda spec: spec.name)
def test_probes_see_nothing_on_a_healthy_lab(lab: Callable[[LabSpec, str | None], SupabaseTarget],
                                             spec: LabSpec) -> None:
    dsn = lab(spec, None).database_url
    seen = [scenario for scenario, probe in sorted(PROBES[spec.name].items()) if probe(dsn)]
    assert seen == [], f"{spec.name}: the healthy lab looks like {seen}"


@pytest.mark.parametrize(("spec", "scenario"), CASES)
async def test_fault_is_named_repaired_and_gone(lab: Callable[[LabSpec, str | None], SupabaseTarget],
                                                fresh_dsn: str, spec: LabSpec, scenario: str) -> None:
    message, code, repair_name = incident(spec, scenario)
    probe = PROBES[spec.name][scenario]
    where = f"{spec.name}/{scenario}"
    target = lab(spec, scenario)
    assert probe(target.database_url), f"{where}: the injected fault is not visible to the independent probe"

    async with open_services(Settings(database_url=fresh_dsn, targets=Targets(supabase=target))) as s:
        ticket = await s.tickets.create_ticket(subject=message[:60], customer="acme")
        await s.tickets.add_message(ticket.id, body=message, author_kind=AuthorKind.CUSTOMER, internal_only=False)
        report = await s.runner.run(ticket.id, AGENT)

        named = [f for f in report.findings if f.data.get("code") == code and f.status in ALERTING]
        assert named, f"{where}: no warn/fail finding {code}. {run_text(report)}"
        evidence = report.conclusion.get("evidence_titles") or []
        revised_to_cause = bool(report.conclusion.get("revised")) and any(f.title in evidence for f in named)
        assert report.verdict == Verdict.CONFIRMED or revised_to_cause, \
            f"{where}: verdict not right (want confirmed, or revised naming {code}). {run_text(report)}"

        plans = await s.repairs.list_plans(ticket.id)
        plan = next((p for p in plans if p.repair == repair_name), None)
        assert plan is not None, f"{where}: no {repair_name} plan drafted; plans: {plans_text(plans)}. " \
                                 f"{run_text(report)}"
        assert plan.status == "dry_run" and plan.dry_run_ok and plan.plan_hash, \
            f"{where}: {repair_name} is {plan.status}, dry_run_ok={plan.dry_run_ok}; dry-run output:\n" \
            f"{tail(plan.dry_run_output)}"
        await s.repairs.approve(plan.id, plan.plan_hash, "Erika Muster", by="tier2-lead", ttl_minutes=15)
        applied = await s.repairs.apply(plan.id, plan.plan_hash)
        assert applied.status == "applied", f"{where}: {repair_name} is {applied.status} after apply:\n" \
                                            f"{tail(applied.apply_output)}"
        validated, checks = await s.repairs.validate(plan.id)
        assert validated.status == "validated", \
            f"{where}: {repair_name} is {validated.status} after validate: {findings_text(checks)}"

    assert not probe(target.database_url), \
        f"{where}: {repair_name} was validated, but the independent probe still sees the fault"


@pytest.mark.parametrize("spec", LABS, ids=lambda spec: spec.name)
async def test_healthy_lab_gives_no_warning(lab: Callable[[LabSpec, str | None], SupabaseTarget], fresh_dsn: str,
                                            spec: LabSpec) -> None:
    target = lab(spec, None)
    async with open_services(Settings(database_url=fresh_dsn, targets=Targets(supabase=target))) as s:
        subject, body = NEUTRAL
        ticket = await s.tickets.create_ticket(subject=subject, customer="acme")
        await s.tickets.add_message(ticket.id, body=body, author_kind=AuthorKind.CUSTOMER, internal_only=False)
        report = await s.runner.run(ticket.id, AGENT)
        plans = await s.repairs.list_plans(ticket.id)

    alerting = [f for f in report.findings if f.status in ALERTING]
    assert alerting == [], f"{spec.name} healthy: {len(alerting)} warn/fail findings: {findings_text(alerting)}"
    assert report.verdict == Verdict.REFUTED, f"{spec.name} healthy: {run_text(report)}"
    assert plans == [], f"{spec.name} healthy: plans drafted: {plans_text(plans)}"
