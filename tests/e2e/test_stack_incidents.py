"""Cross-layer incidents on the combined lab (labs/stack: the Next.js app reading the Supabase-like
database, under PM2 behind Caddy on the host lab's sshd host), each through the real command line:
a lead run (`support-mcp run --agent auto`) names the root cause in its layer with a chain of
findings from two agents, drafts the repair for the root cause, and after a person approves it
the page is healthy again."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from helpers.outcomes import Cli, add_deployment_event, cli_env
from helpers.stack_lab import StackDatabase, stack_targets
from support_mcp.agents.supabase_analyst.locks import HOLD_SECONDS
from support_mcp.labs.stack import StackLab, start_stack_lab

pytestmark = pytest.mark.hetzner_lab

SUPABASE = "supabase-analyst-agent"
HETZNER = "hetzner-ops-agent"
FRONTEND = "frontend-diagnostics-agent"
# the one repair each database fault's lead run drafts: the root cause's, not one per symptom
REPAIRS = {"recursive_policy": "restore_policy", "rpc_authenticated_only": "grant_table_privilege",
           "subscription_fails": "restore_function"}


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[StackLab, StackDatabase]]:
    db = StackDatabase.create()
    try:
        lab = start_stack_lab(db.dsn)
    except BaseException:
        db.drop()
        raise
    yield lab, db
    lab.stop()
    db.drop()


@pytest.fixture
def healthy_stack(stack: tuple[StackLab, StackDatabase]) -> Iterator[tuple[StackLab, StackDatabase]]:
    lab, db = stack
    yield lab, db
    db.reset()
    lab.heal()


def lead_run(cli: Cli, subject: str, message: str,
             before: Callable[[str], None] | None = None) -> tuple[str, dict[str, Any]]:
    """A lead run on a new ticket (`before` sees its id first); it leaves one conclusion note and
    one Tier-1 handover however many agents ran."""
    ticket = cli.json("tickets", "create", "--subject", subject, "--message", message, "--customer", "acme")["id"]
    if before is not None:
        before(ticket)
    out = cli.json("run", "--ticket", ticket, "--agent", "auto")
    tags = [t for e in cli.json("tickets", "show", ticket)["timeline"] if e["kind"] == "message" for t in e["tags"]]
    assert tags.count("lead_conclusion") == 1 and tags.count("tier1_handover") == 1, sorted(tags)
    return ticket, out


def approve_and_apply(cli: Cli, ticket: str) -> list[dict[str, Any]]:
    plans = cli.json("plans", "list", "--ticket", ticket)
    for plan in plans:
        cli.json("plans", "approve", plan["id"], "--hash", plan["plan_hash"], "--approver", "Erika Muster")
        applied = cli.json("plans", "apply", plan["id"], "--hash", plan["plan_hash"])
        assert applied["status"] == "applied", json.dumps(applied, default=str)[-3000:]
    return plans


def findings(out: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """What each run of a lead run found (agent, check, status, title), for a failure's message."""
    return [(run["agent"], f["check"], f["status"], f["title"]) for run in out["runs"] for f in run["findings"]
            if f["status"] in ("warn", "fail")]


def assert_chain(out: dict[str, Any], layer: str) -> None:
    lead = out["lead"]
    assert lead["cause"] and lead["layer"] == layer and lead["confirmed"], (lead, findings(out))
    agents = [link["agent"] for link in lead["chain"]]
    assert len(lead["chain"]) >= 2 and len(set(agents)) >= 2, lead["chain"]
    assert agents[-1] == layer, f"the chain does not end in the cause's layer: {agents}"
    assert all(link["notes"] for link in lead["chain"]), f"a link cites no command note: {lead['chain']}"


# database fault -> what the customer writes about the dashboard (a 500 with a digest in the app)
DASHBOARD_FAULTS: dict[str, tuple[str, str]] = {
    # a policy that queries its own table: every read of team_members fails with 42P17
    "recursive_policy": ("Dashboard zeigt Fehler", "Seit heute Mittag zeigt unser Dashboard nur noch 'Application "
                         "error: a server-side exception has occurred'. Die Startseite geht."),
    # a GRANT cleanup: the dashboard's RPC get_dashboard_stats() fails for signed-in users with 42501
    "rpc_authenticated_only": ("Statistiken weg", "Im Dashboard kommt statt der Statistiken nur noch eine Fehlerseite, "
                               "seit gestern Abend."),
}


@pytest.mark.parametrize("fault", list(DASHBOARD_FAULTS))
def test_a_database_fault_behind_the_dashboards_500_is_repaired_in_the_database(
        healthy_stack: tuple[StackLab, StackDatabase], fresh_dsn: str, tmp_path: Path, fault: str) -> None:
    lab, db = healthy_stack
    assert lab.dashboard_status() == 200
    db.reset(fault)
    assert lab.dashboard_status() == 500 and lab.http_status() == 200
    cli = Cli(cli_env(fresh_dsn, stack_targets(lab, db, tmp_path)))
    ticket, out = lead_run(cli, *DASHBOARD_FAULTS[fault])
    assert_chain(out, SUPABASE)
    plans = approve_and_apply(cli, ticket)
    assert [(p["agent"], p["repair"]) for p in plans] == [(SUPABASE, REPAIRS[fault])], plans
    assert lab.dashboard_status() == 200, "the dashboard is not healthy after the approved repair"


def test_a_broken_create_free_subscription_behind_failing_sign_ups_is_repaired_in_the_database(
        healthy_stack: tuple[StackLab, StackDatabase], fresh_dsn: str, tmp_path: Path) -> None:
    lab, db = healthy_stack
    db.reset("subscription_fails")
    assert lab.signup_status("vorher@example.com") == 500 and lab.http_status() == 200
    cli = Cli(cli_env(fresh_dsn, stack_targets(lab, db, tmp_path)))
    # what an operator sees: a 500 since a deploy (the words of a sign-up problem would send the
    # ticket to the analyst straight away)
    ticket, out = lead_run(cli, "Fehler 500 seit dem Deploy", "Seit dem Deploy heute früh endet das Onboarding "
                           "neuer Kunden mit einem Fehler 500, Bestandskunden merken nichts.")
    assert_chain(out, SUPABASE)
    plans = approve_and_apply(cli, ticket)
    assert [(p["agent"], p["repair"]) for p in plans] == [(SUPABASE, REPAIRS["subscription_fails"])], plans
    assert lab.signup_status("nachher@example.com") == 201, "sign-ups still fail after the approved repair"


def test_a_deploy_that_lost_a_database_setting_is_traced_from_the_browser_to_the_env_file(
        healthy_stack: tuple[StackLab, StackDatabase], fresh_dsn: str, tmp_path: Path) -> None:
    """A deploy wrote `.env.production` without DATABASE_URL: the app fails its env validation at
    start, PM2 gives up on it and the customer's browser gets a 502. The ticket speaks of an error
    page, so the frontend agent starts; the proxy's 502 hands over to the host agent, which finds the
    crash and the variable the app's error names, lost from the env file while yesterday's copy
    holds it. Its repair restores that one line from the copy (the value never in a note)."""
    lab, db = healthy_stack
    lab.inject_lost_setting("DATABASE_URL")
    assert lab.http_status() == 502
    cli = Cli(cli_env(fresh_dsn, stack_targets(lab, db, tmp_path)))
    ticket, out = lead_run(cli, "Dashboard zeigt Fehlerseite", "Seit dem Deploy heute Morgen zeigt das Dashboard im "
                           "Browser nur noch eine Fehlerseite, auch die Startseite lädt nicht.")
    assert [run["agent"] for run in out["runs"]] == [FRONTEND, HETZNER], findings(out)
    assert_chain(out, HETZNER)
    assert out["lead"]["chain"][0]["check"] == "frontend.smoke", out["lead"]["chain"]
    assert any(link["check"] == "pm2_logs" for link in out["lead"]["chain"]), out["lead"]["chain"]
    plans = approve_and_apply(cli, ticket)
    assert [(p["agent"], p["repair"]) for p in plans] == [(HETZNER, "config_fix")], plans
    assert lab.dashboard_status() == 200, "the dashboard is not back after the approved repair"
    password = urlsplit(lab.database_url).password
    assert password and lab.database_url in lab.env_file.read_text()
    leaked = [e["body"] for e in cli.json("tickets", "show", ticket)["timeline"] if password in e.get("body", "")]
    assert not leaked, f"the env file's password reached a ticket note: {leaked}"


def test_a_deploy_whose_build_did_not_run_calls_the_rpc_its_migration_renamed(
        healthy_stack: tuple[StackLab, StackDatabase], fresh_dsn: str, tmp_path: Path) -> None:
    """A deploy applied a migration renaming get_dashboard_stats() to get_dashboard_summary() and
    pulled the code that calls the new name, but its build step did not run: the running build
    still calls the old name, and the dashboard fails with 42883. Three layers: the frontend agent
    sees the digest naming the SQLSTATE, the analyst finds the applied rename in the newest
    migration (the database is right), the host agent finds the build older than the deployment;
    its repair builds and restarts, and the dashboard calls the new name."""
    lab, db = healthy_stack
    targets = stack_targets(lab, db, tmp_path)
    assert targets.supabase is not None and targets.supabase.migrations_dir is not None
    db.migrate(targets.supabase.migrations_dir, "rename_dashboard_stats",
               "alter function public.get_dashboard_stats() rename to get_dashboard_summary;\n")
    lab.inject_unbuilt_rename("get_dashboard_stats", "get_dashboard_summary")
    assert lab.dashboard_status() == 500 and lab.http_status() == 200
    cli = Cli(cli_env(fresh_dsn, targets))
    # the deploy pipeline reports the deployment as the customer's CI does (support_automation_events)
    ticket, out = lead_run(cli, "Dashboard kaputt nach Update", "Seit dem Update heute zeigt das Dashboard nur "
                           "'Application error: a server-side exception has occurred'.",
                           before=lambda ticket: add_deployment_event(fresh_dsn, ticket))
    assert [run["agent"] for run in out["runs"]] == [FRONTEND, SUPABASE, HETZNER], findings(out)
    assert_chain(out, HETZNER)
    checks = [(link["agent"], link["check"]) for link in out["lead"]["chain"]]
    assert (SUPABASE, "migration_renames") in checks and (HETZNER, "deploy_age") in checks, checks
    plans = approve_and_apply(cli, ticket)
    assert [(p["agent"], p["repair"]) for p in plans] == [(HETZNER, "deploy")], plans
    assert lab.dashboard_status() == 200, "the dashboard is not healthy after the approved build"


def test_a_forgotten_transaction_holding_a_table_lock_times_the_dashboard_out_and_is_ended(
        healthy_stack: tuple[StackLab, StackDatabase], fresh_dsn: str, tmp_path: Path) -> None:
    """Someone's psql session took an ACCESS EXCLUSIVE lock on team_members (an ALTER TABLE it
    never committed): every dashboard read waits until the app's statement timeout, the page
    answers 500 after seconds, and the database otherwise looks healthy. The frontend agent sees
    the digest's SQLSTATE 57014, the analyst names the session, its table and the waiting reads;
    its repair ends exactly that session and the dashboard reads again."""
    lab, db = healthy_stack
    holder = psycopg.connect(db.dsn, application_name="psql")
    try:
        holder.execute("lock table public.team_members in access exclusive mode")
        locked_at = time.monotonic()
        assert lab.dashboard_status() == 500 and lab.http_status() == 200
        time.sleep(max(0.0, HOLD_SECONDS + 1 - (time.monotonic() - locked_at)))  # held long enough to count
        cli = Cli(cli_env(fresh_dsn, stack_targets(lab, db, tmp_path)))
        ticket, out = lead_run(cli, "Dashboard hängt", "Das Dashboard lädt seit einer halben Stunde ewig und zeigt "
                               "dann 'Application error: a server-side exception has occurred'.")
        assert [run["agent"] for run in out["runs"]] == [FRONTEND, SUPABASE], findings(out)
        assert_chain(out, SUPABASE)
        checks = [(link["agent"], link["check"]) for link in out["lead"]["chain"]]
        assert (FRONTEND, "frontend.digest") in checks and (SUPABASE, "lock_holders") in checks, checks
        plans = approve_and_apply(cli, ticket)
        assert [(p["agent"], p["repair"]) for p in plans] == [(SUPABASE, "terminate_lock_holder")], plans
        assert lab.dashboard_status() == 200, "the dashboard does not read again after the approved repair"
        with pytest.raises(psycopg.OperationalError):
            holder.execute("select 1")
    finally:
        with contextlib.suppress(psycopg.Error):
            holder.close()


def test_a_host_fault_of_the_stack_ends_with_the_host_agent_alone(
        healthy_stack: tuple[StackLab, StackDatabase], fresh_dsn: str, tmp_path: Path) -> None:
    """A single-layer incident on the same stack: the app stopped in PM2, 502 at Caddy. The lead
    run ends with one agent, the host's, and its restart brings the dashboard back."""
    lab, db = healthy_stack
    lab.inject_stopped()
    assert lab.http_status() == 502
    cli = Cli(cli_env(fresh_dsn, stack_targets(lab, db, tmp_path)))
    ticket, out = lead_run(cli, "502 Bad Gateway", "Die Seite zeigt seit einer Stunde nur 502 Bad Gateway.")
    lead = out["lead"]
    assert [run["agent"] for run in out["runs"]] == [HETZNER], findings(out)
    assert lead["layer"] == HETZNER and lead["confirmed"], (lead, findings(out))
    plans = approve_and_apply(cli, ticket)
    assert [p["repair"] for p in plans] == ["pm2_restart"], plans
    assert lab.dashboard_status() == 200, "the dashboard is not back after the approved restart"
