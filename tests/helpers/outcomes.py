"""What a lab incident looks like through the real command line: the CLI's environment built from
the lab's targets (and checked against `Settings.from_env`), one ticket run end to end as
subprocesses, and what came out of it — report, note tags, drafted plans — optionally appended as
one JSON line to `SUPPORT_MCP_OUTCOMES_FILE` (the README's outcome table is rendered from it)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from helpers.processes import BIN, clean_env
from support_mcp.bootstrap.settings import Settings
from support_mcp.domain.targets import Targets

NEUTRAL = ("Problem gemeldet", "Kunde meldet ein Problem, bitte prüfen")
OUTCOMES_FILE = "SUPPORT_MCP_OUTCOMES_FILE"
RUN_TIMEOUT_S = 600
ALERTING = ("warn", "fail")
TICKETS = ("scenario", "neutral")  # each scenario runs with its own customer text and a neutral one


def cli_env(database_url: str, targets: Targets) -> dict[str, str]:
    """This machine's environment without SUPPORT_MCP_*, plus the settings that describe `targets`;
    raises when the CLI would read other targets from it than the lab's."""
    env: dict[str, str] = {"SUPPORT_MCP_DATABASE_URL": database_url, "COLUMNS": "200"}
    if (sb := targets.supabase) is not None:
        env |= {"SUPPORT_MCP_SUPABASE_DB_URL": sb.database_url,
                "SUPPORT_MCP_SUPABASE_PROFILES_TABLE": sb.profiles_table,
                "SUPPORT_MCP_SUPABASE_SUBSCRIPTIONS_TABLE": sb.subscriptions_table}
        env |= {f"SUPPORT_MCP_SUPABASE_{k}": str(v) for k, v in
                (("MIGRATIONS_DIR", sb.migrations_dir), ("DRAFTS_DIR", sb.drafts_dir)) if v is not None}
    for host in targets.hosts:
        env |= {"SUPPORT_MCP_HOST": host.host, "SUPPORT_MCP_HOST_NAME": host.name, "SUPPORT_MCP_SSH_PORT": str(host.port),
                "SUPPORT_MCP_SSH_USER": host.user, "SUPPORT_MCP_SSH_KEY": str(host.key_path),
                "SUPPORT_MCP_SSH_KNOWN_HOSTS": str(host.known_hosts_path), "SUPPORT_MCP_APP": host.app,
                "SUPPORT_MCP_APP_PORT": str(host.app_port), "SUPPORT_MCP_DEPLOY_ROOT": str(host.deploy_root),
                "SUPPORT_MCP_PUBLIC_URL": str(host.public_url), "SUPPORT_MCP_CADDYFILE": str(host.caddyfile)}
        if host.health_path:
            env["SUPPORT_MCP_HEALTH_PATH"] = host.health_path
    if (fe := targets.frontend) is not None:
        env |= {"SUPPORT_MCP_FRONTEND_DIR": str(fe.source_dir), "SUPPORT_MCP_CHROMIUM": str(fe.chromium_path),
                "SUPPORT_MCP_FRONTEND_PAGES": ",".join(fe.pages), "SUPPORT_MCP_FRONTEND_RESTART_TARGET": fe.restart_target}
        env |= {f"SUPPORT_MCP_FRONTEND_{k}": str(v) for k, v in (
            ("URL", fe.base_url), ("DEPLOY_DIR", fe.deploy_dir), ("SERVER_LOG", fe.server_log),
            ("WORKSPACE_DIR", fe.workspace_dir), ("PM2_APP", fe.pm2_app), ("PM2_HOME", fe.pm2_home)) if v is not None}
    seen = Settings.from_env(env).targets
    if seen != targets:
        raise AssertionError(f"the CLI would see other targets than the lab's:\n{seen}\n!=\n{targets}")
    return clean_env(**env)


def add_deployment_event(database_url: str, ticket_id: str) -> None:
    """A `deployment` event as the CI writes it into the playbook's table (the CLI has no command
    for it); deploy_age compares `.next/BUILD_ID` with the newest one."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("insert into support_automation_events (ticket_id, agent, event_type, status, payload) "
                     "values (%s, 'ci', 'deployment', 'succeeded', %s)", (ticket_id, Jsonb({"commit": "4f2a9c1"})))


@dataclass(frozen=True)
class Cause:
    """The finding that names a scenario's cause: its check (None: any), warn or fail, and data
    values (a callable value is a predicate on that data field)."""

    check: str | None
    data: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, finding: Mapping[str, Any]) -> bool:
        data = finding.get("data") or {}
        return (finding.get("status") in ALERTING and self.check in (None, finding.get("check"))
                and all(v(data.get(k)) if callable(v) else data.get(k) == v for k, v in self.data.items()))


@dataclass
class Outcome:
    """One ticket through `support-mcp run`: exit code, stderr, the JSON report, the tags of the
    ticket's notes (`tickets show --json`) and the drafted repairs (`plans list --json`)."""

    lab: str
    scenario: str
    ticket: str  # "scenario" | "neutral"
    exit: int
    stderr: str
    report: dict[str, Any]
    tags: set[str]
    plans: list[str]
    ticket_id: str = ""

    @property
    def conclusion(self) -> dict[str, Any]:
        return self.report.get("conclusion") or {}

    def finding_for(self, cause: Cause) -> dict[str, Any] | None:
        return next((f for f in self.report.get("findings", []) if cause.matches(f)), None)

    def summary(self) -> list[tuple[str, str, str]]:
        return [(f["check"], f["status"], f["title"]) for f in self.report.get("findings", [])]

    def record_healed(self) -> None:
        """Append that this run's plan, approved and applied, left the target healthy."""
        if path := os.environ.get(OUTCOMES_FILE):
            with Path(path).open("a", encoding="utf-8") as out:
                out.write(json.dumps({"lab": self.lab, "scenario": self.scenario, "ticket": self.ticket,
                                      "healed": True}) + "\n")

    def record(self) -> None:
        """Append this run to SUPPORT_MCP_OUTCOMES_FILE when that is set."""
        path = os.environ.get(OUTCOMES_FILE)
        if not path:
            return
        line = {"lab": self.lab, "scenario": self.scenario, "ticket": self.ticket,
                "verdict": self.report.get("verdict"), "cause": self.conclusion.get("cause"),
                "evidence": self.conclusion.get("evidence"), "plans": self.plans,
                "escalated": self.report.get("escalated"), "handover_to": self.report.get("handover_to"),
                "exit": self.exit}
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def assert_outcome(outcome: Outcome, cause: Cause) -> None:
    """Items 1-3 (exit, cause finding, notes of 1.5 and 1.6 or 5), then 4 (the conclusion)."""
    where = f"{outcome.lab}/{outcome.scenario} ({outcome.ticket} ticket)"
    assert outcome.exit == 0, f"{where}: exit {outcome.exit}\n{outcome.stderr[-3000:]}"
    assert "Traceback" not in outcome.stderr, f"{where}: traceback on stderr\n{outcome.stderr[-3000:]}"
    finding = outcome.finding_for(cause)
    assert finding is not None, f"{where}: no warn/fail finding {cause}: {outcome.summary()}"
    assert "next_steps" in outcome.tags, f"{where}: no next steps (1.5): {sorted(outcome.tags)}"
    assert outcome.tags & {"tier1_handover", "manual_followup"}, \
        f"{where}: neither a Tier-1 handover (1.6) nor a manual follow-up (5): {sorted(outcome.tags)}"
    conclusion = outcome.conclusion
    assert conclusion.get("cause"), f"{where}: the run's conclusion names no cause: {conclusion or 'missing'}"
    assert finding["check"] in conclusion.get("evidence", []), \
        f"{where}: {finding['check']} is not evidence of the conclusion {conclusion}"


class Cli:
    """`support-mcp …` as a subprocess with a fixed environment."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN), *args], env=self.env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S, check=False)

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        if done.returncode != 0:
            raise AssertionError(f"support-mcp {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
        return json.loads(done.stdout)

    def run_ticket(self, where: tuple[str, str, str], agent: str, subject: str, message: str,
                   before_run: Callable[[str], None] | None = None) -> Outcome:
        """Create the ticket with the customer's message, run `agent` on it, collect what it left."""
        lab, scenario, ticket = where
        ticket_id = self.json("tickets", "create", "--subject", subject, "--message", message,
                              "--customer", "acme")["id"]
        if before_run is not None:
            before_run(ticket_id)
        run = self("run", "--ticket", ticket_id, "--agent", agent, "--json")
        report = json.loads(run.stdout) if run.returncode == 0 and run.stdout.strip() else {}
        timeline = self.json("tickets", "show", ticket_id)["timeline"]
        tags = {t for entry in timeline if entry["kind"] == "message" for t in entry["tags"]}
        plans = [p["repair"] for p in self.json("plans", "list", "--ticket", ticket_id)]
        outcome = Outcome(lab, scenario, ticket, run.returncode, run.stderr, report, tags, plans, ticket_id)
        outcome.record()
        return outcome


def render_table(lines: list[dict[str, Any]]) -> str:
    """The README's outcome table: one row per scenario, its own ticket beside the neutral one."""
    runs = {(o["lab"], o["scenario"], o["ticket"]): o for o in lines if "healed" not in o}
    healed = {(o["lab"], o["scenario"], o["ticket"]) for o in lines if o.get("healed")}

    def cell(o: dict[str, Any] | None) -> str:
        if o is None:
            return "—"
        if o["exit"] != 0:
            return f"exit {o['exit']}"
        end = ("hand-over → " + o["handover_to"].removesuffix("-agent") if o.get("handover_to")
               else "escalated" if o["escalated"] else "Tier 1")
        plans = ", ".join(f"`{p}`" for p in o["plans"]) or "no plan"
        after = " · healthy after approval" if (o["lab"], o["scenario"], o["ticket"]) in healed else ""
        return f"{o['verdict']}: {o['cause'] or '—'} · {plans} · {end}{after}"

    rows = ["| lab | scenario | its own ticket | neutral ticket |", "|---|---|---|---|"]
    for lab, scenario in dict.fromkeys((k[0], k[1]) for k in runs):
        rows.append(f"| {lab} | `{scenario}` | {cell(runs.get((lab, scenario, 'scenario')))} | "
                    f"{cell(runs.get((lab, scenario, 'neutral')))} |")
    return "\n".join(rows)


if __name__ == "__main__":
    import sys

    print(render_table([json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]))
