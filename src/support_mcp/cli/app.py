"""The `support-mcp` command line: a thin adapter over the services built by bootstrap."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from support_mcp.domain.errors import InvalidInput, SupportMCPError
from support_mcp.domain.parsing import parse_agent, parse_uuid

from . import render
from .common import (
    JsonOpt,
    LangOpt,
    console,
    err_console,
    run_async,
    run_knowledge,
    run_services,
    settings_from_env,
)
from .events import events_app
from .plans import plans_app

if TYPE_CHECKING:  # commands import the services they run (support-mcp --help loads none of them)
    from support_mcp.bootstrap import KnowledgeServices, Services

INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a fault of Support MCP itself

app = typer.Typer(help="Support MCP: Tier-2 incident agents (MCP server, playbook runner, knowledge base).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database: migrations.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: sync, search, show.", no_args_is_help=True)
tickets_app = typer.Typer(help="Tickets: list, show, create, note.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(tickets_app, name="tickets")
app.add_typer(plans_app, name="plans")
app.add_typer(events_app, name="events")


@app.command()
def demo(
    language: LangOpt = None, json_out: JsonOpt = False,
    full: Annotated[bool, typer.Option("--full", help="Show notes untruncated.")] = False,
    scenario: Annotated[str, typer.Option(
        "--scenario", help="crash-loop: a real 502 incident on the hetzner lab, repaired after approval; "
                           "cross-layer: a lead run on the combined lab (Next.js under PM2 behind Caddy, its "
                           "Supabase-like database in the embedded server), from the dashboard's digest to an RLS "
                           "policy, repaired after approval; local: host basics on this machine.")] = "crash-loop",
    approve_as: Annotated[str | None, typer.Option(
        "--approve-as", help="Approve the repair plan as NAME without asking (default without a terminal: "
                             "the OS user running the demo).")] = None,
) -> None:
    """Run a real demo incident end to end on the embedded database (crash-loop: on the hetzner lab)."""
    from dataclasses import replace

    from support_mcp.cli import demo as demo_flow

    if scenario not in demo_flow.SCENARIOS:
        raise InvalidInput(f"--scenario must be one of {', '.join(demo_flow.SCENARIOS)}, not {scenario!r}")
    status_console = err_console if json_out else console
    settings = settings_from_env(language)
    lab, fallback = (demo_flow.start_lab_or_explain(status_console)
                     if scenario == "crash-loop" else (None, None))
    stack, stack_fallback = (demo_flow.start_cross_layer_or_explain(status_console, settings.data_dir)
                             if scenario == "cross-layer" else (None, None))
    fallback = fallback or stack_fallback
    try:
        if lab is not None:
            settings = replace(settings, targets=replace(settings.targets, hosts=(lab.host_target(),)))
        if stack is not None:
            # the store in the same embedded server unless one is configured (one server, not two)
            settings = replace(settings, targets=stack.targets(),
                               database_url=settings.database_url or stack.embedded.dsn)

        async def work(s: Services) -> dict[str, Any]:
            if stack is not None:
                return await demo_flow.cross_layer_demo(s, console, stack, json_out=json_out, full=full,
                                                        approve_as=approve_as)
            if lab is None:
                local = await demo_flow.local_demo(s, console, json_out=json_out, full=full)
                return local | ({"fallback_reason": fallback} if fallback else {})
            return await demo_flow.crash_loop_demo(s, console, lab, json_out=json_out, full=full,
                                                   approve_as=approve_as)

        out = run_services(work, settings=settings, sync_knowledge=True)
    finally:
        if lab is not None:
            lab.stop()
        if stack is not None:
            stack.stop()
    if json_out:
        render.print_json(console, out)


@app.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="Streamable HTTP instead of stdio.")] = False,
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8765,
) -> None:
    """Start the MCP server (stdio by default; --http for streamable HTTP with bearer tokens)."""
    from support_mcp.mcp.server import serve_http, serve_stdio

    try:
        settings = settings_from_env()
        if http:
            serve_http(settings, host=host, port=port)
        else:
            serve_stdio(settings)
    except SupportMCPError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}")
        raise typer.Exit(exc.exit_code) from None


@app.command()
def portal(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8766,
) -> None:
    """Start the internal portal (/intern): suggestions review, plan approval, ticket timelines.
    Sign-in uses the tokens of SUPPORT_MCP_HTTP_TOKENS."""
    import uvicorn

    from support_mcp.portal.app import portal_app

    settings = settings_from_env()
    if not settings.http_tokens:
        raise InvalidInput("the portal needs SUPPORT_MCP_HTTP_TOKENS ('identity=token,…') for sign-in")

    async def main() -> None:
        from support_mcp.bootstrap import open_services

        async with open_services(settings) as services:
            config = uvicorn.Config(portal_app(services), host=host, port=port, log_level="warning")
            await uvicorn.Server(config).serve()

    import asyncio

    asyncio.run(main())


@db_app.command("migrate")
def db_migrate(json_out: JsonOpt = False) -> None:
    """Apply pending migrations (idempotent); works on an existing Supabase database."""
    from support_mcp.bootstrap import open_database
    from support_mcp.store.migrate import migrate

    async def work() -> dict[str, Any]:
        async with open_database(settings_from_env()) as db:  # not migrated on opening: this command does it
            applied = await migrate(db)
            async with db.connection() as conn:
                cur = await conn.execute("select count(*) as n, max(applied_at) as last "
                                         "from support_mcp_schema_migrations")
                row = await cur.fetchone()
        return {"applied": applied, "total": row["n"] if row else 0,
                "last_applied_at": row["last"].isoformat() if row and row["last"] else None}

    out = run_async(work())
    if json_out:
        render.print_json(console, out)
    elif out["applied"]:
        console.print(f"{len(out['applied'])} Migration(en) angewendet: {', '.join(out['applied'])}")
    else:
        from datetime import datetime

        last = out["last_applied_at"]
        when = f"{datetime.fromisoformat(last):%Y-%m-%d %H:%M} UTC" if last else "—"
        console.print(f"Nichts ausstehend: {out['total']} Migrationen angewendet, die letzte am {when}")


@kb_app.command("sync")
def kb_sync(
    glob: Annotated[list[str] | None, typer.Option("--glob", "-g", help="Markdown glob (repeatable).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Ingest the playbook and the configured markdown folders; only changed documents are touched."""

    async def work(s: KnowledgeServices) -> Any:
        globs = tuple(glob or ()) or s.settings.knowledge_globs
        return await s.knowledge.sync(globs, include_playbook=s.settings.include_playbook)

    report = run_knowledge(work, sync_knowledge=False)
    if json_out:
        render.print_json(console, report)
        return
    console.print(f"Wissensbasis: {report.created} neu, {report.updated} geändert, {report.unchanged} unverändert, "
                  f"{report.removed} entfernt" + (f", [red]{len(report.failed)} nicht lesbar[/red]" if report.failed
                                                  else ""))
    for failed in report.failed:
        console.print(f"  [red]✗[/red] {failed}", markup=True)


@kb_app.command("search")
def kb_search(
    query: str,
    agent: Annotated[str | None, typer.Option(help="Only sections for this agent.")] = None,
    document: Annotated[str | None, typer.Option(help="Only this document (source).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
    json_out: JsonOpt = False,
) -> None:
    """Full-text search (German and English) over the knowledge base."""
    agent_name = parse_agent(agent) if agent else None

    async def work(s: KnowledgeServices) -> Any:
        return await s.knowledge.search(query, agent=agent_name, document=document, limit=limit)

    # Reads the index as the last sync left it (`kb sync`, every server start); a fresh database
    # is synced first, so the first search finds the playbook.
    hits = run_knowledge(work, sync_knowledge="if_empty")
    if json_out:
        render.print_json(console, hits)
        return
    for i, h in enumerate(hits, 1):
        console.print(f"[bold]{i}. {h.breadcrumb}[/bold]  [dim]{h.section_id} rank={h.rank:.3f}[/dim]")
        console.print(f"   {h.snippet}", markup=False)
    if not hits:
        console.print("no match")


@kb_app.command("show")
def kb_show(section_id: str, json_out: JsonOpt = False) -> None:
    """Print one knowledge section by its id."""
    sid = parse_uuid(section_id, "section id")

    async def work(s: KnowledgeServices) -> Any:
        return await s.knowledge.get_section(sid)

    section = run_knowledge(work, sync_knowledge=False)
    if json_out:
        render.print_json(console, section)
    else:
        console.print(f"[bold]{section.breadcrumb}[/bold]\n")
        console.print(section.body, markup=False)


@tickets_app.command("list")
def tickets_list(status: Annotated[str | None, typer.Option()] = None,
                 limit: Annotated[int, typer.Option(min=1, max=1000)] = 50, json_out: JsonOpt = False) -> None:
    """List tickets, newest activity first."""
    tickets = run_services(lambda s: s.tickets.list_tickets(status=status, limit=limit))
    if json_out:
        render.print_json(console, tickets)
    else:
        console.print(render.tickets_table(tickets))


@tickets_app.command("show")
def tickets_show(ticket: str, full: Annotated[bool, typer.Option("--full")] = False, json_out: JsonOpt = False) -> None:
    """Show a ticket's context and its timeline of messages and automation events."""
    from support_mcp.services.context import timeline

    ticket_id = parse_uuid(ticket)

    async def work(s: Services) -> Any:
        return await s.context.bundle(ticket_id), await timeline(s.tickets, ticket_id)

    bundle, entries = run_services(work)
    if json_out:
        render.print_json(console, {"context": bundle, "timeline": entries})
    else:
        console.print(render.context_panel(bundle))
        console.print(render.timeline_view(entries, full=full))


@tickets_app.command("create")
def tickets_create(
    subject: Annotated[str, typer.Option(help="Ticket subject.")],
    message: Annotated[str | None, typer.Option(help="First customer message.")] = None,
    customer: Annotated[str | None, typer.Option()] = None,
    priority: Annotated[str, typer.Option()] = "normal",
    json_out: JsonOpt = False,
) -> None:
    """Create a ticket, optionally with the customer's first message."""

    async def work(s: Services) -> Any:
        t = await s.tickets.create_ticket(subject=subject, customer=customer, priority=priority)
        if message:
            from support_mcp.domain.models import AuthorKind

            await s.tickets.add_message(t.id, body=message, author_kind=AuthorKind.CUSTOMER,
                                        author_name=customer, internal_only=False)
        return t

    t = run_services(work)
    if json_out:
        render.print_json(console, t)
    else:
        console.print(f"created ticket {t.id}")


@tickets_app.command("note")
def tickets_note(
    ticket: str,
    body: Annotated[str | None, typer.Option(help="Note text.")] = None,
    file: Annotated[Path | None, typer.Option(help="Read the note from a file.")] = None,
    author: Annotated[str, typer.Option()] = "cli",
    json_out: JsonOpt = False,
) -> None:
    """Add an internal note (internal_only = true, redacted) to a ticket."""
    ticket_id = parse_uuid(ticket)
    if (body is None) == (file is None):
        raise InvalidInput("give exactly one of --body or --file")
    if file is not None:
        try:
            body = file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read {file}: {exc}") from None
    assert body is not None
    note = run_services(lambda s: s.journal.note(ticket_id, body, agent=author, tags=["note"]))
    if json_out:
        render.print_json(console, note)
    else:
        console.print(f"note {note.id} added")


@app.command("triage")
def triage_cmd(ticket: str, json_out: JsonOpt = False) -> None:
    """Which Tier-2 agent should take the ticket, and why (ticket text is data, never obeyed)."""
    ticket_id = parse_uuid(ticket)

    async def work(s: Services) -> Any:
        return await s.triage.triage_ticket(ticket_id)

    result = run_services(work, sync_knowledge=True)
    if json_out:
        render.print_json(console, result.summary())
    else:
        console.print(f"[bold]{result.primary}[/bold]  (ranking: {', '.join(result.agents)})\n{result.reason}")


@app.command("run")
def run_cmd(
    ticket: Annotated[str, typer.Option("--ticket", "-t", help="Ticket id (UUID).")],
    agent: Annotated[str, typer.Option("--agent", "-a", help="supabase-analyst | hetzner-ops | frontend-diagnostics | "
                                       "auto (triage's agents in order of evidence, following hand-overs)")],
    language: LangOpt = None,
    queue: Annotated[bool, typer.Option("--queue", help="Only queue it for `support-mcp worker`.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run an agent's playbook on a ticket (resumes a crashed run; one run per ticket at a time)."""
    ticket_id = parse_uuid(ticket)
    if agent.strip().lower() == "auto":
        if queue:
            raise InvalidInput("--queue needs a named agent, not 'auto'")
        _run_auto(ticket_id, language, json_out)
        return
    agent_name = parse_agent(agent)
    if queue:
        async def enqueue(s: Services) -> Any:
            await s.tickets.get_ticket(ticket_id)
            return await s.runner.enqueue(ticket_id, agent_name)

        run_id = run_services(enqueue)
        if json_out:
            render.print_json(console, {"run_id": run_id, "status": "queued"})
        else:
            console.print(f"queued run {run_id}")
        return

    async def work(s: Services) -> Any:
        with console.status("Playbook läuft …") as status:
            return await s.runner.run(ticket_id, agent_name,
                                      progress=None if json_out else lambda st, x: status.update(f"{st} ({x})"))

    report = run_services(work, language=language, sync_knowledge=True)
    if json_out:
        render.print_json(console, report)
    else:
        console.print(render.report_panel(report))


def _run_auto(ticket_id: Any, language: str | None, json_out: bool) -> None:
    async def work(s: Services) -> Any:
        with console.status("Playbook läuft …") as status:
            return await s.lead.run(ticket_id, progress=None if json_out else lambda st, x: status.update(f"{st} ({x})"))

    out = run_services(work, language=language, sync_knowledge=True)
    if json_out:
        render.print_json(console, {"triage": out.triage, "ambiguous": out.ambiguous, "runs": out.runs,
                                    "lead": {**out.conclusion.to_dict(), "note_id": out.note_id,
                                             "escalated": out.escalated}})
        return
    console.print(f"Triage: {out.triage}")
    for report in out.runs:
        console.print(render.report_panel(report))
    console.print(render.lead_panel(out.conclusion, out.note_id))


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Work off the queue, then exit.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls of an empty queue.", min=0.1)] = 2.0,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per finished run (JSON lines), "
                                           "then the count.")] = False,
) -> None:
    """Run queued playbook runs; several workers (processes or hosts) share one database."""

    import asyncio

    async def work(s: Services) -> int:
        done = 0
        while True:
            report = await s.runner.work_once()
            if report is None:
                if once:
                    return done
                await asyncio.sleep(poll)
                continue
            done += 1
            if json_out:
                render.print_json_line(console, {"run_id": report.run_id, "ticket_id": report.ticket_id,
                                                 "agent": report.agent, "verdict": report.verdict,
                                                 "escalated": report.escalated})
            else:
                console.print(f"run {report.run_id} on ticket {report.ticket_id}: {report.verdict}"
                              + (" (escalated)" if report.escalated else ""))

    count = run_services(work, sync_knowledge=True)
    if json_out:
        render.print_json_line(console, {"runs_done": count})
    else:
        console.print(f"{count} runs done")


def main() -> None:
    """Console-script entry point; a caller's mistake prints a message, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except SupportMCPError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}")
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 -- the last handler: a bug is one line, not a traceback
        if os.environ.get("SUPPORT_MCP_DEBUG") == "1":
            raise
        from support_mcp.policy.redaction import redact

        message = redact(" ".join(str(exc).split()))[:300]
        err_console.print(f"[bold red]internal error:[/bold red] {type(exc).__name__}: {message} "
                          "(SUPPORT_MCP_DEBUG=1 shows the traceback)", markup=True, highlight=False)
        sys.exit(INTERNAL_ERROR_EXIT)
