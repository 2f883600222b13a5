"""The `support-mcp` command line: a thin adapter over the services built by bootstrap."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.errors import InvalidInput, SupportMCPError
from support_mcp.domain.models import AuthorKind, parse_agent, parse_uuid

from . import render

T = TypeVar("T")

app = typer.Typer(help="Support MCP: Tier-2 incident agents (MCP server, playbook runner, knowledge base).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database: migrations.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: sync, search, show.", no_args_is_help=True)
tickets_app = typer.Typer(help="Tickets: list, show, create, note.", no_args_is_help=True)
plans_app = typer.Typer(help="Repair plans: draft, dry-run, approve, apply, validate.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(tickets_app, name="tickets")
app.add_typer(plans_app, name="plans")

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
LangOpt = Annotated[str | None, typer.Option("--language", "-l", help="Text language for notes: de (default) or en.")]


def _settings(language: str | None = None) -> Settings:
    settings = Settings.from_env()
    if language is not None:
        if language not in ("de", "en"):
            raise InvalidInput(f"--language must be 'de' or 'en', not {language!r}")
        from dataclasses import replace

        settings = replace(settings, language=language)  # type: ignore[arg-type]
    return settings


def _run(work: Callable[[Services], Awaitable[T]], *, language: str | None = None,
         sync_knowledge: bool = False, settings: Settings | None = None) -> T:
    """Open the services, run `work`, and turn our errors into a message and an exit code."""

    async def main() -> T:
        async with open_services(settings or _settings(language), sync_knowledge=sync_knowledge) as services:
            return await work(services)

    try:
        return asyncio.run(main())
    except SupportMCPError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}")
        raise typer.Exit(exc.exit_code) from None


@app.command()
def demo(
    language: LangOpt = None, json_out: JsonOpt = False,
    full: Annotated[bool, typer.Option("--full", help="Show notes untruncated.")] = False,
    scenario: Annotated[str, typer.Option(
        "--scenario", help="crash-loop: a real 502 incident on the hetzner lab, repaired after approval; "
                           "local: host basics on this machine.")] = "crash-loop",
    approve_as: Annotated[str | None, typer.Option(
        "--approve-as", help="Approve the repair plan as NAME without asking (default without a terminal: "
                             "the OS user running the demo).")] = None,
) -> None:
    """Run a real demo incident end to end on the embedded database (crash-loop: on the hetzner lab)."""
    from dataclasses import replace

    from support_mcp.cli import demo as demo_flow

    if scenario not in demo_flow.SCENARIOS:
        raise InvalidInput(f"--scenario must be one of {', '.join(demo_flow.SCENARIOS)}, not {scenario!r}")
    lab, fallback = (demo_flow.start_lab_or_explain(err_console if json_out else console)
                     if scenario == "crash-loop" else (None, None))
    try:
        settings = _settings(language)
        if lab is not None:
            settings = replace(settings, targets=replace(settings.targets, hosts=(lab.host_target(),)))

        async def work(s: Services) -> dict[str, Any]:
            if lab is None:
                local = await demo_flow.local_demo(s, console, json_out=json_out, full=full)
                return local | ({"fallback_reason": fallback} if fallback else {})
            return await demo_flow.crash_loop_demo(s, console, lab, json_out=json_out, full=full,
                                                   approve_as=approve_as)

        out = _run(work, settings=settings, sync_knowledge=True)
    finally:
        if lab is not None:
            lab.stop()
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
        settings = _settings()
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

    settings = _settings()
    if not settings.http_tokens:
        raise InvalidInput("the portal needs SUPPORT_MCP_HTTP_TOKENS ('identity=token,…') for sign-in")

    async def main() -> None:
        async with open_services(settings) as services:
            config = uvicorn.Config(portal_app(services), host=host, port=port, log_level="warning")
            await uvicorn.Server(config).serve()

    asyncio.run(main())


@db_app.command("migrate")
def db_migrate(json_out: JsonOpt = False) -> None:
    """Apply pending migrations (idempotent); works on an existing Supabase database."""
    from support_mcp.store.migrate import migrate

    async def work(s: Services) -> list[str]:
        return await migrate(s.db)  # open_services migrated already; this reports "up to date"

    applied = _run(work)
    if json_out:
        render.print_json(console, {"applied": applied})
    else:
        console.print("database up to date" + (f"; applied {', '.join(applied)}" if applied else ""))


@kb_app.command("sync")
def kb_sync(
    glob: Annotated[list[str] | None, typer.Option("--glob", "-g", help="Markdown glob (repeatable).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Ingest the playbook and the configured markdown folders; only changed documents are touched."""

    async def work(s: Services) -> Any:
        globs = tuple(glob or ()) or s.settings.knowledge_globs
        return await s.knowledge.sync(globs, include_playbook=s.settings.include_playbook)

    report = _run(work)
    if json_out:
        render.print_json(console, report)
    else:
        console.print(report)


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

    async def work(s: Services) -> Any:
        return await s.knowledge.search(query, agent=agent_name, document=document, limit=limit)

    hits = _run(work, sync_knowledge=True)
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

    async def work(s: Services) -> Any:
        return await s.knowledge.get_section(sid)

    section = _run(work)
    if json_out:
        render.print_json(console, section)
    else:
        console.print(f"[bold]{section.breadcrumb}[/bold]\n")
        console.print(section.body, markup=False)


@tickets_app.command("list")
def tickets_list(status: Annotated[str | None, typer.Option()] = None,
                 limit: Annotated[int, typer.Option(min=1, max=1000)] = 50, json_out: JsonOpt = False) -> None:
    """List tickets, newest activity first."""
    tickets = _run(lambda s: s.tickets.list_tickets(status=status, limit=limit))
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

    bundle, entries = _run(work)
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
            await s.tickets.add_message(t.id, body=message, author_kind=AuthorKind.CUSTOMER,
                                        author_name=customer, internal_only=False)
        return t

    t = _run(work)
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
    note = _run(lambda s: s.journal.note(ticket_id, body, agent=author, tags=["note"]))
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

    result = _run(work, sync_knowledge=True)
    if json_out:
        render.print_json(console, result)
    else:
        console.print(f"[bold]{result.primary}[/bold]  (ranking: {', '.join(result.agents)})\n{result.reason}")


@app.command("run")
def run_cmd(
    ticket: Annotated[str, typer.Option("--ticket", "-t", help="Ticket id (UUID).")],
    agent: Annotated[str, typer.Option("--agent", "-a", help="supabase-analyst | hetzner-ops | frontend-diagnostics")],
    language: LangOpt = None,
    queue: Annotated[bool, typer.Option("--queue", help="Only queue it for `support-mcp worker`.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run an agent's playbook on a ticket (resumes a crashed run; one run per ticket at a time)."""
    ticket_id = parse_uuid(ticket)
    agent_name = parse_agent(agent)
    if queue:
        async def enqueue(s: Services) -> Any:
            await s.tickets.get_ticket(ticket_id)
            return await s.runner.enqueue(ticket_id, agent_name)

        run_id = _run(enqueue)
        if json_out:
            render.print_json(console, {"run_id": run_id, "status": "queued"})
        else:
            console.print(f"queued run {run_id}")
        return

    async def work(s: Services) -> Any:
        with console.status("Playbook läuft …") as status:
            return await s.runner.run(ticket_id, agent_name,
                                      progress=None if json_out else lambda st, x: status.update(f"{st} ({x})"))

    report = _run(work, language=language, sync_knowledge=True)
    if json_out:
        render.print_json(console, report)
    else:
        console.print(render.report_panel(report))


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Work off the queue, then exit.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls of an empty queue.", min=0.1)] = 2.0,
) -> None:
    """Run queued playbook runs; several workers (processes or hosts) share one database."""

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
            console.print(f"run {report.run_id} on ticket {report.ticket_id}: {report.verdict}"
                          + (" (escalated)" if report.escalated else ""))

    count = _run(work, sync_knowledge=True)
    console.print(f"{count} runs done")


def _print_plan(plan: Any, json_out: bool) -> None:
    if json_out:
        render.print_json(console, plan)
    else:
        console.print(render.plan_panel(plan))


@plans_app.command("list")
def plans_list(ticket: Annotated[str | None, typer.Option("--ticket", "-t")] = None, json_out: JsonOpt = False) -> None:
    """List repair plans (of one ticket, or all), newest first."""
    ticket_id = parse_uuid(ticket) if ticket else None
    plans = _run(lambda s: s.repairs.list_plans(ticket_id))
    if json_out:
        render.print_json(console, plans)
    else:
        console.print(render.plans_table(plans))


@plans_app.command("show")
def plans_show(plan: str, json_out: JsonOpt = False) -> None:
    """Show a plan: steps exactly as they would run, dry-run output, hash, status."""
    plan_id = parse_uuid(plan, "plan id")
    _print_plan(_run(lambda s: s.repairs.get(plan_id)), json_out)


@plans_app.command("draft")
def plans_draft(
    ticket: Annotated[str, typer.Option("--ticket", "-t")],
    agent: Annotated[str, typer.Option("--agent", "-a")],
    repair: Annotated[str, typer.Option("--repair", "-r", help="Repair name (see `plans repairs`).")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p",
                                                    help="key=value or key=@file (repeatable).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Draft a repair plan and dry-run it; nothing changes until a human approves its hash."""
    ticket_id, agent_name = parse_uuid(ticket), parse_agent(agent)
    params: dict[str, str] = {}
    for item in param or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--param takes key=value or key=@file, not {item!r}")
        if value.startswith("@"):  # e.g. patch=@hotfix.diff
            try:
                value = Path(value[1:]).read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"cannot read {value[1:]}: {exc}") from None
        params[key.strip()] = value

    async def work(s: Services) -> Any:
        plan = await s.repairs.draft(ticket_id, agent_name, repair, params)
        return await s.repairs.dry_run(plan.id)

    _print_plan(_run(work), json_out)


@plans_app.command("repairs")
def plans_repairs(agent: Annotated[str, typer.Option("--agent", "-a")], json_out: JsonOpt = False) -> None:
    """The repairs an agent can plan for the configured targets."""
    agent_name = parse_agent(agent)

    async def work(s: Services) -> Any:
        return [{"repair": r.name, "title": r.title} for r in s.repairs.available(agent_name)]

    found = _run(work)
    if json_out:
        render.print_json(console, found)
    else:
        for r in found or [{"repair": "—", "title": "no repairs for this agent yet"}]:
            console.print(f"{r['repair']}: {r['title']}")


@plans_app.command("approve")
def plans_approve(
    plan: str,
    plan_hash: Annotated[str, typer.Option("--hash", help="The plan hash shown by the dry-run.")],
    approver: Annotated[str, typer.Option(help="Your name; recorded on the ticket.")],
    ttl: Annotated[int, typer.Option(help="Minutes the approval stays valid.", min=1, max=1440)] = 30,
    json_out: JsonOpt = False,
) -> None:
    """Approve exactly this plan hash for a limited time."""
    plan_id = parse_uuid(plan, "plan id")
    approval = _run(lambda s: s.repairs.approve(plan_id, plan_hash, approver, ttl_minutes=ttl))
    if json_out:
        render.print_json(console, approval)
    else:
        console.print(f"approved by {approval.approver} until {approval.expires_at:%Y-%m-%d %H:%M} UTC")


@plans_app.command("apply")
def plans_apply(plan: str, plan_hash: Annotated[str, typer.Option("--hash")], json_out: JsonOpt = False) -> None:
    """Apply an approved plan (refused without approval of this hash or when the target changed)."""
    plan_id = parse_uuid(plan, "plan id")
    _print_plan(_run(lambda s: s.repairs.apply(plan_id, plan_hash)), json_out)


@plans_app.command("validate")
def plans_validate(plan: str, json_out: JsonOpt = False) -> None:
    """Re-run the reproduction after a repair."""
    plan_id = parse_uuid(plan, "plan id")
    validated, findings = _run(lambda s: s.repairs.validate(plan_id))
    if json_out:
        render.print_json(console, {"plan": validated, "findings": findings})
    else:
        console.print(render.plan_panel(validated))


def main() -> None:
    """Console-script entry point; a caller's mistake prints a message, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except SupportMCPError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}")
        sys.exit(exc.exit_code)
