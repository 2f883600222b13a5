"""`support-mcp demo`: the demo incidents as a support engineer watches them.

`crash-loop` runs a real incident on the hetzner lab (sshd + PM2 + Caddy on this machine): the
agent diagnoses over SSH, drafts and dry-runs the repair, a named person approves its hash, the
repair is applied and validated through Caddy. `cross-layer` runs a lead run on the combined lab
(`labs/stack`): the Next.js app under PM2 behind Caddy reads a Supabase-like database made in the
embedded server (reached through a loopback relay to its socket); a recursive RLS policy shows as
a digest on the dashboard, the frontend agent hands over to the analyst, whose repair restores the
policy. `local` runs the host basics on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console

from support_mcp.bootstrap import Services
from support_mcp.domain.errors import ExecutionError, SupportMCPError
from support_mcp.domain.models import Plan
from support_mcp.domain.targets import SupabaseTarget, Targets
from support_mcp.labs.hetzner import SETUP_SCRIPT, HetznerLab, start_lab
from support_mcp.labs.relay import SocketRelay
from support_mcp.labs.stack import (
    INITIAL_MIGRATION,
    STACK_SETUP,
    StackLab,
    create_stack_database,
    inject_database_fault,
    start_stack_lab,
)
from support_mcp.services.context import timeline
from support_mcp.services.demo import (
    DEPLOY_COMMIT,
    create_crash_loop_ticket,
    create_cross_layer_ticket,
    create_demo_ticket,
)
from support_mcp.services.runner import RunReport
from support_mcp.store.embedded import EmbeddedServer, start_embedded

from . import render

SCENARIOS = ("crash-loop", "cross-layer", "local")
STACK_DATABASE = "support_mcp_demo_stack"
CROSS_LAYER_FAULT = "recursive_policy"
APPROVAL_TTL_MINUTES = 15


def start_lab_or_explain(out: Console) -> tuple[HetznerLab | None, str | None]:
    """Start the hetzner lab; when it cannot start, say why and how to set it up (lab None, the reason)."""
    try:
        with out.status("Starte das Hetzner-Lab (sshd, PM2, Caddy) …", spinner="dots"):
            return start_lab(), None
    except ExecutionError as exc:
        reason = str(exc).splitlines()[0]
        out.print(f"[bold yellow]Hetzner-Lab nicht verfügbar:[/bold yellow] {reason}\n"
                  f"Einrichten mit `{SETUP_SCRIPT}` (als root). Die Demo läuft stattdessen mit "
                  "--scenario local (Host-Grunddaten dieses Rechners).", highlight=False)
        return None, reason


@dataclass
class CrossLayerLab:
    """The combined lab on the embedded server: the app's database, the relay to it, the lab."""

    embedded: EmbeddedServer
    relay: SocketRelay
    lab: StackLab
    database_dsn: str  # the Supabase-like database, as the analyst connects to it (the socket)
    work: Path

    def targets(self) -> Targets:
        """The three agents' targets: the project's migrations folder holds its initial schema."""
        migrations = self.work / "supabase" / "migrations"
        migrations.mkdir(parents=True, exist_ok=True)
        name, source = INITIAL_MIGRATION
        (migrations / name).write_bytes(source.read_bytes())
        supabase = SupabaseTarget(database_url=self.database_dsn, migrations_dir=migrations,
                                  drafts_dir=self.work / "tmp" / "sql")
        return self.lab.targets(supabase, self.work)

    def stop(self) -> None:
        for step in (self.lab.stop, self.relay.stop, self.embedded.stop):
            with contextlib.suppress(Exception):
                step()
        shutil.rmtree(self.work, ignore_errors=True)


def start_cross_layer_or_explain(out: Console, data_dir: Path) -> tuple[CrossLayerLab | None, str | None]:
    """The embedded server (in `data_dir`), the Supabase lab as a database in it, the relay the
    app reaches it through, and the combined lab; when any of it cannot start, say why."""
    embedded = relay = None
    try:
        with out.status("Starte das kombinierte Lab (eingebettete Datenbank, Next.js unter PM2 hinter Caddy) …",
                        spinner="dots"):
            embedded = start_embedded(data_dir / "pgdata")
            dsn = create_stack_database(embedded.dsn, STACK_DATABASE)
            info = psycopg.conninfo.conninfo_to_dict(embedded.dsn)
            relay = SocketRelay(Path(str(info["host"])) / f".s.PGSQL.{info.get('port') or 5432}")
            port = relay.start()
            lab = start_stack_lab(f"postgresql://postgres@127.0.0.1:{port}/{STACK_DATABASE}")
        work = Path(tempfile.mkdtemp(prefix="support-mcp-cross-layer-"))
        return CrossLayerLab(embedded, relay, lab, dsn, work), None
    except (SupportMCPError, OSError, psycopg.Error, ValueError) as exc:
        for part in (relay, embedded):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.stop()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        out.print(f"[bold yellow]Kombiniertes Lab nicht verfügbar:[/bold yellow] {reason}\n"
                  f"Einrichten mit `{SETUP_SCRIPT}` und `{STACK_SETUP}` (als root). Die Demo läuft stattdessen mit "
                  "--scenario local (Host-Grunddaten dieses Rechners).", highlight=False)
        return None, reason


def default_approver() -> str:
    """The OS user running the demo (the person the demo approves on behalf of)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "demo"


async def _playbook(s: Services, console: Console, ticket_id: Any, json_out: bool) -> tuple[Any, RunReport]:
    bundle = await s.context.bundle(ticket_id)
    result = await s.triage.triage_ticket(ticket_id)
    if not json_out:
        console.print(render.context_panel(bundle))
        console.print(f"[bold]Triage:[/bold] {result.primary}  [dim]({result.reason})[/dim]")
    with console.status("Playbook läuft …", spinner="dots") as status:
        def progress(step: str, state: str) -> None:
            status.update(f"Playbook: {step} ({state})")
        report = await s.runner.run(ticket_id, result.primary, progress=None if json_out else progress)
    return result, report


async def local_demo(s: Services, console: Console, *, json_out: bool, full: bool) -> dict[str, Any]:
    """The host basics (load, disk, memory) on this machine; the verdict is the machine's real state."""
    created = await create_demo_ticket(s.tickets)
    ticket_id = created.ticket.id
    if not json_out:
        console.rule("[bold]Support MCP · Demo-Incident (lokal)")
    result, report = await _playbook(s, console, ticket_id, json_out)
    entries = await timeline(s.tickets, ticket_id)
    if not json_out:
        console.print(render.timeline_view(entries, full=full))
        console.print(render.report_panel(report))
        console.print(f"Ticket: [bold]{ticket_id}[/bold] — `support-mcp tickets show {ticket_id}`")
    return {"scenario": "local", "ticket_id": ticket_id, "triage": result.reason, "report": report,
            "timeline": entries}


def _ask_approver(console: Console) -> str:
    try:
        return console.input("[bold]Plan freigeben? Name:[/bold] ").strip()
    except EOFError:
        return ""


async def crash_loop_demo(s: Services, console: Console, lab: HetznerLab, *, json_out: bool, full: bool,
                          approve_as: str | None) -> dict[str, Any]:
    """502 after a deploy that shipped an invalid setting: diagnosis over SSH, gated repair, validation."""
    created = await create_crash_loop_ticket(s.tickets)
    ticket_id = created.ticket.id
    if not json_out:
        console.rule("[bold]Support MCP · Demo-Incident: 502 nach dem Deploy")
    # The deploy the ticket talks about: a new build whose .env.production says APP_MODE=crash.
    # deploy_age reads the build's mtime in whole seconds: build in the second after the event.
    with console.status(f"Lab: Deploy {DEPLOY_COMMIT} mit fehlerhafter Konfiguration …", spinner="dots"):
        await asyncio.sleep(1.05 - time.time() % 1)
        await asyncio.to_thread(lab.rebuild)
        await asyncio.to_thread(lab.inject_crash_loop)
    before = await asyncio.to_thread(lab.http_status)
    if not json_out:
        console.print(f"[dim]Lab ({lab.public_url}): Deploy {DEPLOY_COMMIT} ausgerollt, .env.production enthält "
                      f"APP_MODE=crash → PM2-Crash-Loop; Caddy antwortet {before}.[/dim]", highlight=False)
    result, report = await _playbook(s, console, ticket_id, json_out)
    shown = await timeline(s.tickets, ticket_id)
    if not json_out:
        console.print(render.timeline_view(shown, full=full))
    plans = sorted((p for p in await s.repairs.list_plans(ticket_id) if p.run_id == report.run_id and p.dry_run_ok),
                   key=lambda p: p.created_at)
    out: dict[str, Any] = {"scenario": "crash-loop", "ticket_id": ticket_id, "triage": result.reason,
                           "lab": {"public_url": lab.public_url, "http_status_before": before}}
    plan: Plan | None = plans[0] if plans else None
    if plan is None:
        if not json_out:
            console.print("[bold yellow]Kein Reparaturplan vorgeschlagen[/bold yellow] — siehe Befunde.")
    else:
        out |= await _approve_apply_validate(s, console, plan, json_out=json_out, approve_as=approve_as)
    after = await asyncio.to_thread(lab.http_status)
    out["lab"]["http_status_after"] = after
    run = await s.runs.get_run(report.run_id)
    report = replace(report, checklist=dict(run.checklist))
    entries = await timeline(s.tickets, ticket_id)
    if not json_out:
        seen = set(shown)
        console.print(render.timeline_view([e for e in entries if e not in seen], full=full,
                                           title="Timeline (nach der Freigabe)"))
        console.print(f"Lab: {lab.public_url} antwortet jetzt {after} (vorher {before}).", highlight=False)
        console.print(render.report_panel(report))
        console.print(f"Ticket: [bold]{ticket_id}[/bold] — `support-mcp tickets show {ticket_id}` "
                      "(das Lab wird jetzt gestoppt)")
    return out | {"report": report, "timeline": entries}


async def cross_layer_demo(s: Services, console: Console, cl: CrossLayerLab, *, json_out: bool, full: bool,
                           approve_as: str | None) -> dict[str, Any]:
    """One ticket, two agents, one cause: a lead run from the dashboard's digest to the database."""
    ticket = await create_cross_layer_ticket(s.tickets)
    lab = cl.lab
    if not json_out:
        console.rule("[bold]Support MCP · Demo-Incident über Schichten: Fehlerseite im Dashboard")
    with console.status("Lab: eine Policy-Änderung an team_members, die ihre eigene Tabelle liest …", spinner="dots"):
        await asyncio.to_thread(inject_database_fault, cl.database_dsn, CROSS_LAYER_FAULT)
    before = await asyncio.to_thread(lab.dashboard_status)
    if not json_out:
        console.print(f"[dim]Lab ({lab.public_url}): Datenbank mit rekursiver RLS-Policy auf team_members; "
                      f"/dashboard antwortet {before}, / antwortet {await asyncio.to_thread(lab.http_status)}.[/dim]",
                      highlight=False)
    with console.status("Lead-Run läuft …", spinner="dots") as status:
        def progress(step: str, state: str) -> None:
            status.update(f"Lead-Run: {step} ({state})")
        lead = await s.lead.run(ticket.id, progress=None if json_out else progress)
    shown = await timeline(s.tickets, ticket.id)
    if not json_out:
        console.print(f"[bold]Triage:[/bold] {lead.triage}", highlight=False)
        console.print(render.timeline_view(shown, full=full))
        console.print(render.lead_panel(lead.conclusion, lead.note_id))
    out: dict[str, Any] = {"scenario": "cross-layer", "ticket_id": ticket.id, "triage": lead.triage,
                           "runs": [{"agent": r.agent, "run_id": r.run_id, "verdict": r.verdict} for r in lead.runs],
                           "lead": lead.conclusion.to_dict() | {"note_id": lead.note_id},
                           "lab": {"public_url": lab.public_url, "dashboard_status_before": before}}
    plans = sorted((p for p in await s.repairs.list_plans(ticket.id) if p.dry_run_ok), key=lambda p: p.created_at)
    if not plans:
        if not json_out:
            console.print("[bold yellow]Kein Reparaturplan vorgeschlagen[/bold yellow] — siehe Gesamtbefund.")
    else:
        out |= await _approve_apply_validate(s, console, plans[0], json_out=json_out, approve_as=approve_as)
    after = await asyncio.to_thread(lab.dashboard_status)
    out["lab"]["dashboard_status_after"] = after
    entries = await timeline(s.tickets, ticket.id)
    if not json_out:
        seen = set(shown)
        console.print(render.timeline_view([e for e in entries if e not in seen], full=full,
                                           title="Timeline (nach der Freigabe)"))
        console.print(f"Lab: {lab.public_url.rstrip('/')}{lab.dashboard_path} antwortet jetzt {after} "
                      f"(vorher {before}).", highlight=False)
        console.print(f"Ticket: [bold]{ticket.id}[/bold] — `support-mcp tickets show {ticket.id}` "
                      "(das Lab wird jetzt gestoppt)")
    return out | {"plans": [p.id for p in plans], "timeline": entries}


async def _approve_apply_validate(s: Services, console: Console, plan: Plan, *, json_out: bool,
                                  approve_as: str | None) -> dict[str, Any]:
    """The human gate: ask at a terminal, otherwise approve on behalf of the named person (and say so)."""
    if not json_out:
        console.print(render.plan_panel(plan))
    interactive = approve_as is None and not json_out and sys.stdin.isatty()
    if interactive:
        approver = _ask_approver(console)
    else:
        approver = approve_as or default_approver()
        if not json_out:
            console.print(f"[bold]Freigabe:[/bold] keine interaktive Eingabe — die Demo gibt den Plan "
                          f"[bold]im Namen von {approver}[/bold] frei (Plan-Hash {plan.plan_hash}, "
                          f"{APPROVAL_TTL_MINUTES} min gültig; anderer Name: --approve-as NAME).", highlight=False)
    result: dict[str, Any] = {"approval": {"approver": approver or None, "interactive": interactive,
                                           "on_behalf": not interactive}}
    if not approver:
        if not json_out:
            console.print("[bold yellow]Nicht freigegeben[/bold yellow] — nichts wurde geändert. Auf einem echten "
                          f"Host wartet der Plan auf Freigabe (`support-mcp plans approve {plan.id} --hash "
                          f"{plan.plan_hash} --approver NAME`); das Lab wird am Ende gestoppt.", highlight=False)
        return result | {"plan": await s.repairs.get(plan.id)}
    approval = await s.repairs.approve(plan.id, plan.plan_hash or "", approver, by=f"demo:{getpass.getuser()}",
                                       ttl_minutes=APPROVAL_TTL_MINUTES)
    result["approval"]["expires_at"] = approval.expires_at
    with console.status("Reparatur wird ausgeführt und validiert …", spinner="dots"):
        applied = await s.repairs.apply(plan.id, plan.plan_hash or "")
        findings: list[Any] = []
        if applied.status == "applied":
            applied, findings = await s.repairs.validate(plan.id)
    if not json_out:
        console.print(render.plan_result_panel(applied))
    return result | {"plan": applied, "validation": findings}
