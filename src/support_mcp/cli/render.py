"""Rich rendering for the CLI: tables, the ticket timeline, run reports; JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # annotations only: rendering needs none of these modules loaded
    from support_mcp.domain.models import Plan, Ticket
    from support_mcp.services.context import ContextBundle, TimelineEntry
    from support_mcp.services.lead import LeadConclusion
    from support_mcp.services.runner import RunReport

_STATUS_STYLE = {"ok": "green", "warn": "yellow", "fail": "red", "error": "magenta", "skipped": "dim"}
_VERDICT_STYLE = {"confirmed": "bold green", "refuted": "bold yellow", "inconclusive": "bold magenta"}


def to_jsonable(value: Any) -> Any:
    """Domain objects, dataclasses and lists of them as plain JSON values."""
    if hasattr(value, "plan_hash") and hasattr(value, "steps"):  # a repair plan
        dumped = value.model_dump(mode="json")
        # What a repair writes (a config value, a file) may hold a secret: redacted like any note.
        return {**dumped, "params": _redacted(dumped["params"]), "steps": _redacted(dumped["steps"])}
    if hasattr(value, "model_dump"):  # a pydantic model
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _redacted(value: Any) -> Any:
    from support_mcp.policy.redaction import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    if isinstance(value, dict):  # a value is judged with its key: {"DB_PASSWORD": "x"} is a secret
        return {k: (redact(f"{k}={v}").partition("=")[2] if isinstance(v, str) else _redacted(v))
                for k, v in value.items()}
    return value


def print_json(console: Console, value: Any) -> None:
    console.print_json(json.dumps(to_jsonable(value), ensure_ascii=False))


def print_json_line(console: Console, value: Any) -> None:
    """One compact JSON object per line (JSON lines), for streams such as the worker's runs."""
    console.out(json.dumps(to_jsonable(value), ensure_ascii=False), highlight=False)


def tickets_table(tickets: Sequence[Ticket]) -> Table:
    table = Table(title="support_tickets")
    for col in ("id", "subject", "status", "priority", "customer", "assigned_agent", "updated"):
        table.add_column(col)
    for t in tickets:
        table.add_row(str(t.id), escape(t.subject), t.status, t.priority, escape(t.customer or ""),
                      t.assigned_agent or "", t.updated_at.strftime("%Y-%m-%d %H:%M"))
    return table


def context_panel(bundle: ContextBundle) -> Panel:
    t = bundle.ticket
    lines = [
        f"[bold]{escape(t.subject)}[/bold]  ({t.status}, {t.priority}, tier {t.tier})",
        f"customer: {escape(t.customer or '—')}   assigned_agent: {t.assigned_agent or '—'}",
        f"escalation_path: {' → '.join(t.escalation_path) or '—'}",
        "open support_automation_events: "
        + (", ".join(f"{e.event_type}" for e in bundle.open_events) or "—"),
        "",
        "[bold]Kundennachrichten[/bold]",
        *(f"  › {escape(m.body)}" for m in bundle.customer_messages),
    ]
    return Panel("\n".join(lines), title=f"Ticket {t.id}")


def timeline_view(entries: Sequence[TimelineEntry], *, full: bool = False, title: str = "Timeline") -> Group:
    """The ticket's history as a readable timeline: one header line per entry, body indented."""
    parts: list[Text] = [Text(title, style="bold underline")]
    for e in entries:
        if e.kind == "event":
            head = Text.assemble((e.at.strftime("%H:%M:%S.%f")[:-3], "dim"), "  ", ("⚡ ", "cyan"),
                                 (e.title, "cyan"), "  ", (e.who, "dim"))
            parts.append(head)
            if e.body:
                payload = e.body if full or len(e.body) <= 160 else e.body[:157] + "…"
                parts.append(Text("      " + payload, style="dim"))
            continue
        visibility = ("intern", "yellow") if e.internal_only else ("öffentlich", "bold green")
        head = Text.assemble((e.at.strftime("%H:%M:%S.%f")[:-3], "dim"), "  ", ("✉ ", "white"),
                             (e.who, "bold"), "  ", visibility,
                             (f"  [{', '.join(e.tags)}]" if e.tags else "", "magenta"))
        body = e.body if full else _shorten(e.body, 12, line_chars=240)
        parts.append(head)
        parts.append(Text("\n".join("      " + line for line in body.splitlines())))
    return Group(*parts)


def report_panel(report: RunReport) -> Panel:
    lines = [
        f"Hypothese: {escape(report.hypothesis.suspected_cause)}",
        f"Wissensbasis: {escape('; '.join(report.knowledge) or '—')}",
        f"Urteil: [{_VERDICT_STYLE.get(str(report.verdict), 'bold')}]{report.verdict}[/]"
        + ("  (eskaliert: manual_followup)" if report.escalated else ""),
    ]
    cause = report.conclusion.get("cause")
    if cause:
        label = "Neue Hypothese" if report.conclusion.get("revised") else "Ursache"
        lines.append(f"{label}: [bold]{escape(cause)}[/bold] — belegt durch "
                     f"{escape(', '.join(report.conclusion.get('evidence', [])))}")
    if report.handover_to:
        lines.append(f"Übergabe an: {report.handover_to}")
    if report.faults:
        lines.append(f"[red]Interne Fehler (Lauf fortgesetzt): {escape(', '.join(report.faults))}[/red]")
    lines += [
        "",
        "[bold]Befunde[/bold]",
    ]
    for f in report.findings:
        style = _STATUS_STYLE.get(str(f.status), "")
        lines.append(f"  [{style}]{str(f.status):7}[/] {escape(f.title)}" + (f" — {escape(f.detail)}" if f.detail else ""))
    lines += ["", "[bold]Checkliste (Abschnitt 6)[/bold]"]
    lines += [f"  \\[{'x' if done else ' '}] {escape(line)}" for line, done in report.checklist.items()]
    title = f"Lauf {report.run_id} · {report.agent}" + (" (fortgesetzt)" if report.resumed else "")
    return Panel("\n".join(lines), title=title)


def lead_panel(conclusion: LeadConclusion, note_id: object) -> Panel:
    """The lead run's conclusion as the note on the ticket says it."""
    from support_mcp.services.lead import render_lead

    return Panel(escape(render_lead(conclusion)), title=f"Gesamtbefund · Notiz {note_id}")


def plans_table(plans: Sequence[Plan]) -> Table:
    table = Table(title="repair_plans")
    for col in ("id", "ticket", "agent", "repair", "status", "hash", "created"):
        table.add_column(col)
    for p in plans:
        table.add_row(str(p.id), str(p.ticket_id)[:8], p.agent, p.repair, p.status, (p.plan_hash or "")[:12],
                      p.created_at.strftime("%Y-%m-%d %H:%M"))
    return table


def plan_panel(plan: Plan) -> Panel:
    lines = [f"[bold]{escape(plan.title)}[/bold]  ({plan.status}, {plan.agent}, repair {plan.repair})",
             f"Plan-Hash: {plan.plan_hash or '—'}   Trockentest ok: {plan.dry_run_ok}", "", "[bold]Schritte[/bold]"]
    lines += [f"  {i}. \\[{escape(s['kind'])} @ {escape(s['target'])}] {escape(s['display'])}"
              for i, s in enumerate(plan.steps, 1)]
    for title, body in (("Trockentest", plan.dry_run_output), ("Ausführung", plan.apply_output)):
        if body:
            lines += ["", f"[bold]{title}[/bold]", escape(_shorten(body, 30))]
    if plan.validation:
        lines += ["", "[bold]Validierung[/bold]"] + [f"  {escape(str(f['status']))}: {escape(f['title'])}"
                                                     for f in plan.validation]
    return Panel("\n".join(lines), title=f"Plan {plan.id}")


def plan_result_panel(plan: Plan) -> Panel:
    """After apply/validate: the plan's status, what ran and the validation (steps shown before)."""
    lines = [f"[bold]{escape(plan.title)}[/bold]  Status: [bold]{plan.status}[/bold]"]
    if plan.apply_output:
        lines += ["", "[bold]Ausführung[/bold]", escape(_shorten(plan.apply_output, 16, line_chars=160))]
    if plan.validation:
        lines += ["", "[bold]Validierung[/bold]"] + [f"  {escape(str(f['status']))}: {escape(f['title'])}"
                                                     for f in plan.validation]
    return Panel("\n".join(lines), title=f"Plan {plan.id} · Ergebnis")


def _shorten(body: str, max_lines: int, line_chars: int | None = None) -> str:
    lines = body.splitlines()
    if len(lines) <= max_lines and (line_chars is None or all(len(line) <= line_chars for line in lines)):
        return body
    if line_chars is not None:
        # one-line JSON (pm2 jlist) would otherwise fill the screen
        lines = [line if len(line) <= line_chars else f"{line[:line_chars]}… (+{len(line) - line_chars} Zeichen)"
                 for line in lines]
    if len(lines) <= max_lines:
        return "\n".join(lines)
    return "\n".join(lines[:max_lines] + [f"… (+{len(lines) - max_lines} Zeilen)"])
