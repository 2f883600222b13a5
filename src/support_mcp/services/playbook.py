"""The playbook as executable data: each heading and numbered step of the document, and each
checklist line of its section 6, mapped to what the runner or an agent check does for it.

`tests/unit/services/test_playbook_mapping.py` parses the bundled playbook and fails when a
heading, step or checklist line has no entry here, so an edited playbook cannot drift silently
from what the agents do. Entries not yet carried out name the issue that will (`planned`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

from support_mcp.domain.models import AgentName, Run

PLAYBOOK_RESOURCE = "tier2_incident_playbook.md"

# Runner steps, in order (services/runner.py).
RUNNER_STEPS = (
    "context", "knowledge", "hypothesis", "checks", "verdict", "repair", "communication", "suggestion",
)


@dataclass(frozen=True)
class StepMapping:
    """A numbered bold step (`1. **Kontext sichern**`) under a heading of the playbook."""

    heading: str
    step: str
    runner_step: str | None = None
    checks: tuple[str, ...] = ()
    planned: str | None = None  # the issue that will implement it


@dataclass(frozen=True)
class ChecklistItem:
    """A line of section 6. It is ticked when every requirement holds:
    `check:<name>` ran without error, `step:<name>` completed, `plan:applied`, `verdict:confirmed`."""

    agent: AgentName
    line: str
    requires: tuple[str, ...]


HEADINGS: Mapping[str, str] = {
    "Tier‑2 Incident Playbook – Support MCP": "the document; ingested into the knowledge base",
    "1. Gemeinsame Leitplanken": "runner skeleton shared by every agent",
    "2. Supabase Analyst Agent – Strategy": "agent supabase-analyst-agent",
    "2.1 Diagnose": "supabase-analyst-agent checks",
    "2.2 Reparatur": "supabase-analyst-agent repair plans",
    "2.3 Kommunikation": "runner step communication",
    "3. Hetzner Ops Agent – Strategy": "agent hetzner-ops-agent",
    "3.1 Diagnose": "hetzner-ops-agent checks",
    "3.2 Reparatur": "hetzner-ops-agent repair plans",
    "3.3 Kommunikation": "runner step communication",
    "4. Frontend Diagnostics Agent – Strategy": "agent frontend-diagnostics-agent",
    "4.1 Diagnose": "frontend-diagnostics-agent checks",
    "4.2 Reparatur": "frontend-diagnostics-agent repair plans",
    "4.3 Kommunikation": "runner step communication",
    "5. Eskalation & Übergabe": "journal: escalate, external_research, hand_over_to_human",
    "6. Checklisten (Kurzfassung)": "CHECKLISTS below; state kept per run",
    "Supabase Analyst": "checklist of supabase-analyst-agent",
    "Hetzner Ops": "checklist of hetzner-ops-agent",
    "Frontend Diagnostics": "checklist of frontend-diagnostics-agent",
    "7. Aktualisierung": "knowledge suggestions reviewed in /intern",
}

_S1, _S5 = "1. Gemeinsame Leitplanken", "5. Eskalation & Übergabe"
STEPS: tuple[StepMapping, ...] = (
    StepMapping(_S1, "Kontext sichern", runner_step="context"),
    StepMapping(_S1, "Wissensbasis konsultieren", runner_step="knowledge"),
    StepMapping(_S1, "Hypothese formulieren", runner_step="hypothesis"),
    StepMapping(_S1, "Analyse durchführen", runner_step="checks"),
    StepMapping(_S1, "Fix oder nächste Schritte dokumentieren", runner_step="communication"),
    StepMapping(_S1, "Weitergabe an Tier\u202f1", runner_step="communication"),  # narrow no-break space as in the document
    StepMapping("2.1 Diagnose", "Health Check", runner_step="checks",
                checks=("health", "monitoring_snapshot", "supabase_logs")),
    StepMapping("2.1 Diagnose", "Sitzungen & Auth", runner_step="checks",
                checks=("auth_consistency", "functions", "signup_path")),
    StepMapping("2.1 Diagnose", "RLS & Policies", runner_step="checks", checks=("rls_policies",)),
    StepMapping("2.1 Diagnose", "Fehlermeldungen reproduzieren", runner_step="checks",
                checks=("reproduce_rpc", "signup_path")),
    # Supabase repairs are migrations: drafted + dry-run by the runner, applied after approval.
    StepMapping("2.2 Reparatur", "SQL/Migration vorbereiten", runner_step="repair"),
    StepMapping("2.2 Reparatur", "Trockentest", runner_step="repair"),
    StepMapping("2.2 Reparatur", "Ausführen", runner_step="repair"),
    StepMapping("2.2 Reparatur", "Validieren", runner_step="repair"),
    # Over SSH on the configured HostTarget (without one, host basics run on the local machine).
    StepMapping("3.1 Diagnose", "Systemstatus", runner_step="checks",
                checks=("host.load", "host.disk", "host.memory", "journal")),
    StepMapping("3.1 Diagnose", "PM2 & Services", runner_step="checks",
                checks=("pm2_status", "pm2_logs", "caddy_status", "journal")),
    StepMapping("3.1 Diagnose", "Netzwerk", runner_step="checks", checks=("port_3000", "firewall", "http_smoke")),
    StepMapping("3.1 Diagnose", "Deploy-Pipeline", runner_step="checks", checks=("deploy_age",)),
    StepMapping("3.2 Reparatur", "Gezielte Neustarts", runner_step="repair"),  # pm2_restart, caddy_reload
    StepMapping("3.2 Reparatur", "Konfigurations-Fix", runner_step="repair"),  # config_fix
    StepMapping("3.2 Reparatur", "Deployment", runner_step="repair"),  # deploy
    StepMapping("4.1 Diagnose", "Build Errors", runner_step="checks", checks=("frontend.build", "frontend.digest")),
    StepMapping("4.1 Diagnose", "Lint/Test", runner_step="checks", checks=("frontend.lint", "frontend.test")),
    StepMapping("4.1 Diagnose", "Assets & CSP", runner_step="checks", checks=("frontend.csp", "frontend.headers", "frontend.assets")),
    StepMapping("4.2 Reparatur", "Hotfix vorbereiten", runner_step="repair"),  # frontend.hotfix_deploy
    StepMapping("4.2 Reparatur", "Deployment Steps", runner_step="repair"),
    StepMapping("4.2 Reparatur", "Verifikation", runner_step="checks", checks=("frontend.smoke",)),
    StepMapping(_S5, "Nicht lösbar?", runner_step="communication"),
    StepMapping(_S5, "Externe Recherche", runner_step=None, planned=None),
    StepMapping(_S5, "Hand-over an menschliches Team", runner_step="communication"),
)

CHECKLISTS: tuple[ChecklistItem, ...] = (
    ChecklistItem("supabase-analyst-agent", "Auth/Profiles konsistent?", ("check:auth_consistency",)),
    ChecklistItem("supabase-analyst-agent", "Policies + Funktionen geprüft?",
                  ("check:rls_policies", "check:functions")),
    ChecklistItem("supabase-analyst-agent", "SQL-Script vorbereitet, getestet, ausgeführt?", ("plan:applied",)),
    ChecklistItem("supabase-analyst-agent", "Erfolg + Datenvalidierung dokumentiert?",
                  ("plan:validated", "step:communication")),
    ChecklistItem("hetzner-ops-agent", "CPU/RAM/Disk ok?", ("check:host.load", "check:host.memory", "check:host.disk")),
    ChecklistItem("hetzner-ops-agent", "Logs auf Fehler geprüft?", ("check:pm2_logs",)),
    ChecklistItem("hetzner-ops-agent", "Dienste gezielt neu gestartet?", ("plan:applied",)),
    ChecklistItem("hetzner-ops-agent", "Änderungen & Ergebnisse protokolliert?",
                  ("step:checks", "step:communication")),
    ChecklistItem("frontend-diagnostics-agent", "Build/Lint erneut ausgeführt?", ("check:frontend.build", "check:frontend.lint")),
    ChecklistItem("frontend-diagnostics-agent", "Fehlerursache identifiziert (Datei/Chunk)?",
                  ("check:frontend.build", "verdict:confirmed")),
    ChecklistItem("frontend-diagnostics-agent", "Fix implementiert + deployt?", ("plan:applied",)),
    ChecklistItem("frontend-diagnostics-agent", "Frontend Smoke-Test dokumentiert?", ("check:frontend.smoke",)),
)


def checklist_for(agent: str) -> tuple[ChecklistItem, ...]:
    return tuple(item for item in CHECKLISTS if item.agent == agent)


def evaluate_checklist(
    agent: str,
    *,
    checks_ok: Iterable[str],
    steps_done: Iterable[str],
    plan_states: Iterable[str] = (),
    verdict: str | None = None,
) -> dict[str, bool]:
    """Which checklist lines of `agent` hold, from what the run did."""
    facts = {f"check:{c}" for c in checks_ok} | {f"step:{s}" for s in steps_done}
    facts |= {f"plan:{p}" for p in plan_states}
    if verdict:
        facts.add(f"verdict:{verdict}")
    return {item.line: all(req in facts for req in item.requires) for item in checklist_for(agent)}


# --- reading the document ------------------------------------------------------------------------
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
_BOLD_STEP = re.compile(r"^\d+\.\s+\*\*(.+?)\*\*")
_CHECKLIST = re.compile(r"^- \[[ xX]\]\s+(.+?)\s*$")


def playbook_text() -> str:
    return (resources.files("support_mcp") / "knowledge_data" / PLAYBOOK_RESOURCE).read_text("utf-8")


@dataclass(frozen=True)
class PlaybookOutline:
    headings: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]  # (heading, bold step)
    checklist: tuple[tuple[str, str], ...]  # (checklist heading, line)


def outline(markdown: str) -> PlaybookOutline:
    """Headings, numbered bold steps and checklist lines of a playbook (code fences skipped)."""
    headings: list[str] = []
    steps: list[tuple[str, str]] = []
    checklist: list[tuple[str, str]] = []
    current = ""
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if m := _HEADING.match(line):
            current = m.group(2)
            headings.append(current)
        elif m := _BOLD_STEP.match(line.strip()):
            steps.append((current, m.group(1)))
        elif m := _CHECKLIST.match(line.strip()):
            checklist.append((current, m.group(1)))
    return PlaybookOutline(tuple(headings), tuple(steps), tuple(checklist))


_CHECKLIST_HEADING_AGENT: Mapping[str, AgentName] = {
    "Supabase Analyst": "supabase-analyst-agent",
    "Hetzner Ops": "hetzner-ops-agent",
    "Frontend Diagnostics": "frontend-diagnostics-agent",
}


def unmapped(markdown: str) -> list[str]:
    """Everything in the document that the mapping above does not cover (empty when in sync)."""
    doc = outline(markdown)
    problems = [f"heading: {h}" for h in doc.headings if h not in HEADINGS]
    known_steps = {(s.heading, s.step) for s in STEPS}
    problems += [f"step: {h} › {s}" for h, s in doc.steps if (h, s) not in known_steps]
    known_lines = {(i.agent, i.line) for i in CHECKLISTS}
    for heading, line in doc.checklist:
        agent = _CHECKLIST_HEADING_AGENT.get(heading)
        if agent is None or (agent, line) not in known_lines:
            problems.append(f"checklist: {heading} › {line}")
    return problems


_AGENT_SECTION: Mapping[str, str] = {
    "supabase-analyst-agent": "2. Supabase Analyst Agent – Strategy",
    "hetzner-ops-agent": "3. Hetzner Ops Agent – Strategy",
    "frontend-diagnostics-agent": "4. Frontend Diagnostics Agent – Strategy",
}


def top_sections(markdown: str) -> dict[str, str]:
    """The document's `## ` sections by heading, each with its full text (subsections included)."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = [line]
        elif current is not None:
            if line.strip() == "---":
                continue
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def strategy_prompt(agent: str, markdown: str | None = None) -> str:
    """The agent's strategy: playbook section 1, the agent's own section, and section 5."""
    sections = top_sections(markdown or playbook_text())
    own = _AGENT_SECTION[agent]
    checklist = [f"- [ ] {i.line}" for i in checklist_for(agent)]
    return "\n\n".join([
        sections["1. Gemeinsame Leitplanken"],
        sections[own],
        sections["5. Eskalation & Übergabe"],
        "## Checkliste\n" + "\n".join(checklist),
    ])


def checklist_for_run(run: Run, plan_states: Iterable[str] = ()) -> dict[str, bool]:
    """The checklist of a stored run, re-evaluated with the states its repair plans reached."""
    steps = {s.name: s.output for s in run.steps if s.status == "done"}
    findings = steps.get("checks", {}).get("findings", [])
    return evaluate_checklist(
        run.agent,
        checks_ok=[f["check"] for f in findings if f["status"] not in ("error", "skipped")],
        steps_done=steps.keys(),
        plan_states=plan_states,
        verdict=str(run.verdict) if run.verdict else None,
    )
