"""The outcome matrix, host part: every fault scenario of both host labs (ours and
labs/hetzner_alt: sshd, PM2, Caddy) through the real command line, with the scenario's own ticket
and a neutral one (what each run must show: test_outcomes_supabase.py); where the run drafts a
repair, a person approves it, it is applied and validated, and the lab is proven healthy
independently of the agent."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from helpers.hetzner_lab import HetznerLab, start_lab
from helpers.outcomes import (
    NEUTRAL,
    TICKETS,
    Cause,
    Cli,
    Outcome,
    add_deployment_event,
    assert_outcome,
    cli_env,
)
from support_mcp.domain.targets import Targets
from support_mcp.labs.hetzner_alt import HetznerAltLab

pytestmark = pytest.mark.outcomes

# --- hetzner: one lab for the module, healed between runs ---------------------------------------

HETZNER = "hetzner-ops"


def _stale_proxy_config(lab: HetznerLab) -> Callable[[], None]:
    lab.inject_stale_proxy_config()
    return lambda: lab.as_user(["caddy", "reload", "--config", str(lab.caddyfile), "--adapter", "caddyfile"])


def _port_mismatch(lab: HetznerLab) -> Callable[[], None]:
    original = lab.inject_port_mismatch()

    def undo() -> None:
        lab.caddyfile.write_text(original)
        lab.as_user(["caddy", "reload", "--config", str(lab.caddyfile), "--adapter", "caddyfile"])
        lab.remove_caddy_backups()

    return undo


def _invalid_caddyfile(backup: bool) -> Callable[[HetznerLab], Callable[[], None]]:
    def inject(lab: HetznerLab) -> Callable[[], None]:
        lab.remove_caddy_backups()
        original = lab.inject_invalid_caddyfile(backup=backup)

        def undo() -> None:
            lab.caddyfile.write_text(original)
            lab.remove_caddy_backups()

        return undo
    return inject


def _caddy_down_invalid(lab: HetznerLab) -> Callable[[], None]:
    """Caddy did not come back after a broken edit of its Caddyfile (a backup by date is there)."""
    undo = _invalid_caddyfile(backup=True)(lab)
    lab.inject_caddy_down()
    return undo


def _stale_deploy(lab: HetznerLab) -> Callable[[], None]:
    lab.inject_stale_deploy()
    return lambda: os.utime(lab.frontend / ".next" / "BUILD_ID")  # the build is current again


def _then_nothing(inject: Callable[[HetznerLab], object]) -> Callable[[HetznerLab], Callable[[], None]]:
    """A fault that `HetznerLab.heal()` undoes by itself."""
    def apply(lab: HetznerLab) -> Callable[[], None]:
        inject(lab)
        return lambda: None
    return apply


# scenario -> (subject, customer message, inject returning its undo, the finding that names the cause)
HETZNER_FAULTS: dict[str, tuple[str, str, Callable[[HetznerLab], Callable[[], None]], Cause]] = {
    "crash_loop": ("Bot nicht erreichbar", "Seit 10 Minuten nur 502 Bad Gateway, pm2 zeigt errored?",
                   _then_nothing(HetznerLab.inject_crash_loop), Cause("pm2_status", {"restart_loop": True})),
    # a hand-made backup of the env file still holds the variable the app's error names: restore it
    "missing_supabase_url": ("Bot offline", "Die Seite zeigt 502 Bad Gateway.",
                             _then_nothing(lambda lab: lab.inject_missing_supabase_url(backup=True)),
                             Cause("pm2_logs", {"env_restore": lambda restore: [r["key"] for r in restore or ()]
                                                == ["SUPABASE_URL"]})),
    # no copy holds it: the value is the customer's, handed over with the evidence
    "missing_supabase_url_no_backup": ("Bot offline", "Die Seite zeigt 502 Bad Gateway.",
                                       _then_nothing(HetznerLab.inject_missing_supabase_url),
                                       Cause("pm2_logs", {"errors": lambda errors: any(
                                           "supabaseUrl is required" in e["message"] for e in errors or ())})),
    "stopped": ("502 Bad Gateway", "Seite offline, 502", _then_nothing(HetznerLab.inject_stopped),
                Cause("pm2_status", {"status": "stopped"})),
    "port_conflict": ("Bot offline", "Die Seite zeigt 502 Bad Gateway.",
                      _then_nothing(HetznerLab.inject_port_conflict), Cause("port_3000", {"conflict": True})),
    "port_conflict_root": ("Bot offline", "Die Seite zeigt 502 Bad Gateway.",
                           _then_nothing(lambda lab: lab.inject_port_conflict(owner="root")),
                           Cause("port_3000", {"conflict": True})),
    "caddy_down": ("Seite nicht erreichbar", "Die Seite lädt gar nicht mehr, Verbindung abgelehnt.",
                   _then_nothing(HetznerLab.inject_caddy_down), Cause("http_smoke", {"caddy_down": True})),
    "invalid_caddyfile": ("502 nach Caddy-Änderung", "Nach der Änderung am Proxy kommt 502 Bad Gateway.",
                          _invalid_caddyfile(backup=True), Cause("caddy_status", {"valid": False})),
    "invalid_caddyfile_no_backup": ("502 nach Caddy-Änderung", "Nach der Änderung am Proxy kommt 502 Bad Gateway.",
                                    _invalid_caddyfile(backup=False), Cause("caddy_status", {"valid": False})),
    "caddy_down_invalid_caddyfile": ("Seite weg nach Proxy-Änderung",
                                     "Nach der Änderung am Proxy lädt die Seite gar nicht mehr.", _caddy_down_invalid,
                                     Cause("caddy_status", {"valid": False})),
    "stale_deploy": ("Alte Version nach Deploy", "Nach dem Update sehe ich noch die alte Version.",
                     _stale_deploy, Cause("deploy_age", {"stale": True})),
    "health_degraded": ("Dashboard ohne Daten", "Die Seite öffnet, aber das Dashboard lädt nicht; der Health-Check "
                        "unter /api/health ist seit 9 Uhr rot.", _then_nothing(HetznerLab.inject_health_degraded),
                        Cause("health_path", {"unhealthy": True})),
    "stale_proxy_config": ("502 seit dem Proxy-Update", "Seit dem Update am Proxy nur 502, die App läuft laut PM2.",
                           _stale_proxy_config, Cause("http_smoke", {"proxy_error": True})),
    "failed_build": ("Fehler 500 nach Deploy", "Seit dem Deploy heute früh zeigt die Seite nur noch einen Fehler 500.",
                     _then_nothing(lambda lab: lab.inject_failed_build()), Cause("deploy_age", {"missing": True})),
    "memory_loop": ("Bot ständig kurz weg", "Alle paar Sekunden 502, dann geht es wieder, dann wieder 502.",
                    _then_nothing(HetznerLab.inject_memory_loop), Cause("pm2_status", {"memory_loop": True})),
    "port_mismatch": ("502 nach Port-Umstellung", "Seit der Umstellung am Server nur noch 502 Bad Gateway.",
                      _port_mismatch, Cause("caddy_upstream", {"mismatch": True})),
    "pm2_down": ("Nach Server-Neustart offline", "Seit dem Neustart des Servers heute Nacht nur 502 Bad Gateway.",
                 _then_nothing(HetznerLab.inject_pm2_down), Cause("pm2_status", {"no_daemon": True})),
}


# the repair each scenario's run drafts, on both host labs ([]: handed over or escalated, no host repair;
# a dict: per lab)
HETZNER_PLANS: dict[str, list[str] | dict[str, list[str]]] = {
    # no build: our lab has no releases, so it is built again; the release layout goes back to the
    # release before, which has its build (a restart onto no build is never drafted)
    "failed_build": {"hetzner": ["deploy"], "hetzner_alt": ["rollback"]},
    "crash_loop": ["config_fix"], "missing_supabase_url": ["config_fix"], "missing_supabase_url_no_backup": [],
    "stopped": ["pm2_restart"],
    "port_conflict": ["free_app_port"], "port_conflict_root": [], "caddy_down": ["caddy_start"],
    "invalid_caddyfile": ["caddy_restore"], "caddy_down_invalid_caddyfile": ["caddy_restore"], "invalid_caddyfile_no_backup": [], "stale_deploy": ["deploy"],
    "health_degraded": [], "stale_proxy_config": ["caddy_reload"], "port_mismatch": ["caddy_upstream"],
    "memory_loop": [],  # a leak: neither a restart nor a higher limit fixes it; escalated with PM2's own log lines
    "pm2_down": [],  # no daemon, no process list: escalated with the evidence (a restart would start an empty one)
}


@pytest.fixture(scope="module", params=["hetzner", "hetzner_alt"])
def hetzner_lab(request: pytest.FixtureRequest) -> Iterator[HetznerLab]:
    """Our host lab, then the one laid out as others do (labs/hetzner_alt), each for all faults."""
    lab = start_lab(kind=HetznerAltLab if request.param == "hetzner_alt" else HetznerLab)
    yield lab
    lab.stop()


@pytest.mark.parametrize("ticket", TICKETS)
@pytest.mark.parametrize("fault", list(HETZNER_FAULTS))
def test_hetzner_fault_is_named_through_the_cli(hetzner_lab: HetznerLab, fresh_dsn: str, fault: str,
                                                 ticket: str) -> None:
    subject, message, inject, cause = HETZNER_FAULTS[fault]
    undo = inject(hetzner_lab)
    try:
        cli = Cli(cli_env(fresh_dsn, Targets(hosts=(hetzner_lab.host_target(),))))
        deployed = (lambda ticket_id: add_deployment_event(fresh_dsn, ticket_id)) if fault == "stale_deploy" else None
        subject, message = (subject, message) if ticket == "scenario" else NEUTRAL
        lab = "hetzner_alt" if isinstance(hetzner_lab, HetznerAltLab) else "hetzner"
        outcome = cli.run_ticket((lab, fault, ticket), HETZNER, subject, message, before_run=deployed)
        assert_outcome(outcome, cause)
        plans = HETZNER_PLANS[fault]
        expected = plans[lab] if isinstance(plans, dict) else plans
        assert outcome.plans == expected, f"{outcome.lab}/{fault}: drafted {outcome.plans}"
        if outcome.plans and ticket == "scenario":
            _approve_apply_and_prove(cli, hetzner_lab, outcome)
    finally:
        undo()
        hetzner_lab.heal()


STABLE_S = 8.0  # after a repair: 200 through Caddy and on the health path, PM2's restart counter still


def _approve_apply_and_prove(cli: Cli, lab: HetznerLab, outcome: Outcome) -> None:
    """The agent's own plan, approved by a person, applied and validated through the CLI; then,
    independently of the agent, the lab itself for STABLE_S: 200 through Caddy and on the health
    path, the app online in PM2 with a restart counter that does not move."""
    where = f"{outcome.lab}/{outcome.scenario}"
    [plan] = cli.json("plans", "list", "--ticket", outcome.ticket_id)
    cli.json("plans", "approve", plan["id"], "--hash", plan["plan_hash"], "--approver", "Erika Muster")
    applied = cli.json("plans", "apply", plan["id"], "--hash", plan["plan_hash"])
    assert applied["status"] == "applied", f"{where}: {applied['status']}\n{applied.get('apply_output')}"
    validated = cli.json("plans", "validate", plan["id"])
    assert validated["plan"]["status"] == "validated", f"{where}: {validated['findings']}"
    health = lab.public_url.rstrip("/") + lab.health_path
    first = lab.pm2_state()
    deadline = time.monotonic() + STABLE_S
    while True:
        state = lab.pm2_state()
        assert state["status"] == "online" and state["restart_time"] == first["restart_time"], \
            f"{where}: not stable after the repair: {first} -> {state}"
        assert lab.http_status() == 200, f"{where}: {lab.http_status()} through Caddy after the repair"
        assert httpx.get(health, timeout=3.0).status_code == 200, f"{where}: health path not 200 after the repair"
        if time.monotonic() > deadline:
            break
        time.sleep(1.0)
    outcome.record_healed()


def test_every_host_lab_fault_is_run_here() -> None:
    hetzner = {name.removeprefix("inject_") for name in dir(HetznerLab) if name.startswith("inject_")}
    assert hetzner <= set(HETZNER_FAULTS), f"hetzner lab faults not run here: {hetzner - set(HETZNER_FAULTS)}"
    assert set(HETZNER_PLANS) == set(HETZNER_FAULTS), "a hetzner scenario without its expected repair"
