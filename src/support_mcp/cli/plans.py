"""`support-mcp plans …`: repair plans from draft to validation (the gate is in services)."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.parsing import parse_agent, parse_uuid

if TYPE_CHECKING:
    from support_mcp.bootstrap import Services

from . import render
from .common import JsonOpt, console, read_at_file, run_services

plans_app = typer.Typer(help="Repair plans: draft, dry-run, approve, apply, validate.", no_args_is_help=True)


def _print_plan(plan: Any, json_out: bool) -> None:
    if json_out:
        render.print_json(console, plan)
    else:
        console.print(render.plan_panel(plan))


@plans_app.command("list")
def plans_list(ticket: Annotated[str | None, typer.Option("--ticket", "-t")] = None, json_out: JsonOpt = False) -> None:
    """List repair plans (of one ticket, or all), newest first."""
    ticket_id = parse_uuid(ticket) if ticket else None
    plans = run_services(lambda s: s.repairs.list_plans(ticket_id))
    if json_out:
        render.print_json(console, plans)
    elif not plans:
        console.print("no repair plans" + (f" for ticket {ticket_id}" if ticket_id else ""))
    else:
        console.print(render.plans_table(plans))


@plans_app.command("show")
def plans_show(plan: str, json_out: JsonOpt = False) -> None:
    """Show a plan: steps exactly as they would run, dry-run output, hash, status."""
    plan_id = parse_uuid(plan, "plan id")
    _print_plan(run_services(lambda s: s.repairs.get(plan_id)), json_out)


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
        params[key.strip()] = read_at_file(value)  # e.g. patch=@hotfix.diff

    async def work(s: Services) -> Any:
        plan = await s.repairs.draft(ticket_id, agent_name, repair, params)
        return await s.repairs.dry_run(plan.id)

    _print_plan(run_services(work), json_out)


@plans_app.command("repairs")
def plans_repairs(agent: Annotated[str, typer.Option("--agent", "-a")], json_out: JsonOpt = False) -> None:
    """The repairs an agent can plan for the configured targets."""
    agent_name = parse_agent(agent)

    async def work(s: Services) -> Any:
        return [{"repair": r.name, "title": r.title} for r in s.repairs.available(agent_name)]

    found = run_services(work)
    if json_out:
        render.print_json(console, found)
    else:
        for r in found:
            console.print(f"{r['repair']}: {r['title']}")
        if not found:
            console.print(f"no repairs for {agent_name}: it has no configured target "
                          "(README: Configure real targets)")


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
    by = f"cli:{getpass.getuser()}"  # the person at this shell, as the machine knows them
    approval = run_services(lambda s: s.repairs.approve(plan_id, plan_hash, approver, by=by, ttl_minutes=ttl))
    if json_out:
        render.print_json(console, approval)
    else:
        console.print(f"approved by {approval.approver} until {approval.expires_at:%Y-%m-%d %H:%M} UTC")


@plans_app.command("apply")
def plans_apply(plan: str, plan_hash: Annotated[str, typer.Option("--hash")], json_out: JsonOpt = False) -> None:
    """Apply an approved plan (refused without approval of this hash or when the target changed)."""
    plan_id = parse_uuid(plan, "plan id")
    _print_plan(run_services(lambda s: s.repairs.apply(plan_id, plan_hash)), json_out)


@plans_app.command("validate")
def plans_validate(plan: str, json_out: JsonOpt = False) -> None:
    """Re-run the reproduction after a repair."""
    plan_id = parse_uuid(plan, "plan id")
    validated, findings = run_services(lambda s: s.repairs.validate(plan_id))
    if json_out:
        render.print_json(console, {"plan": validated, "findings": findings})
    else:
        console.print(render.plan_panel(validated))
