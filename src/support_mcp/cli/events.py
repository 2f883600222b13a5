"""`support-mcp events …`: what a CI pipeline reports (a deployment, with the time it happened)
and events on a ticket. Needs the database only: no agent, executor or knowledge base is loaded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.parsing import parse_instant, parse_uuid

from . import render
from .common import JsonOpt, console, read_at_file, run_database

if TYPE_CHECKING:
    from support_mcp.store.database import Database

events_app = typer.Typer(help="Automation events: deployments reported by CI, events on a ticket.",
                         no_args_is_help=True)

DEPLOYMENT_STATUSES = ("succeeded", "failed", "started")
MAX_PAYLOAD_BYTES = 64 * 1024


def parse_time(value: str | None) -> datetime:
    """An ISO 8601 time with its zone; none given: now."""
    return datetime.now(UTC) if value is None else parse_instant(value, "--at")


def parse_payload(value: str | None) -> dict[str, Any]:
    """A JSON object, given inline or as `@file`."""
    if value is None:
        return {}
    value = read_at_file(value)
    if len(value.encode()) > MAX_PAYLOAD_BYTES:
        raise InvalidInput(f"--payload is limited to {MAX_PAYLOAD_BYTES // 1024} KB")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--payload is not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("--payload must be a JSON object ({\"commit\": \"…\"})")
    return parsed


@events_app.command("add")
def events_add(
    event_type: Annotated[str, typer.Option("--type", help="`deployment`; with --ticket any event type.")],
    at: Annotated[str | None, typer.Option("--at", help="When it happened (ISO 8601 with zone); default now.")] = None,
    status: Annotated[str, typer.Option(help="For a deployment: succeeded, failed or started.")] = "succeeded",
    payload: Annotated[str | None, typer.Option(help="JSON object, or @file.")] = None,
    ticket: Annotated[str | None, typer.Option(help="Record it on this ticket instead.")] = None,
    key: Annotated[str | None, typer.Option("--idempotency-key", help="A retry with the same key is stored once.")]
    = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a deployment as CI reports it (no ticket needed), or an event on a ticket."""
    when, data = parse_time(at), parse_payload(payload)
    ticket_id = parse_uuid(ticket) if ticket else None
    if event_type == "deployment" and status not in DEPLOYMENT_STATUSES:
        raise InvalidInput(f"a deployment's status is one of {', '.join(DEPLOYMENT_STATUSES)}, not {status!r}")
    if ticket_id is None and event_type != "deployment":
        raise InvalidInput(f"without --ticket only `deployment` can be recorded, not {event_type!r}")

    async def work(db: Database) -> Any:
        from support_mcp.store.deployments import DeploymentStore
        from support_mcp.store.tickets import TicketStore

        if ticket_id is None:
            return await DeploymentStore(db).add(deployed_at=when, status=status, reported_by="cli",
                                                 payload=data, idempotency_key=key)
        # the deploy's own time travels in the payload: deploy_age reads it from there
        extra = {"deployed_at": when.isoformat()} if event_type == "deployment" else {}
        return await TicketStore(db).add_event(ticket_id, event_type=event_type, status=status,
                                               payload={**data, **extra}, idempotency_key=key)

    recorded = run_database(work)
    if json_out:
        render.print_json(console, recorded)
    elif ticket_id is None:
        console.print(f"recorded deployment {recorded.id}: {recorded.status} at "
                      f"{recorded.deployed_at:%Y-%m-%d %H:%M:%S} UTC")
    else:
        console.print(f"recorded {event_type} event {recorded.id} on ticket {ticket_id}")


@events_app.command("deployments")
def events_deployments(limit: Annotated[int, typer.Option(min=1, max=200)] = 10, json_out: JsonOpt = False) -> None:
    """The last deployments (CI reports and tickets' deployment events) as deploy_age sees them."""

    async def work(db: Database) -> Any:
        from support_mcp.store.deployments import DeploymentStore

        return await DeploymentStore(db).recent(limit)

    found = run_database(work)
    if json_out:
        render.print_json(console, found)
        return
    for d in found:
        console.print(f"{d.deployed_at:%Y-%m-%d %H:%M:%S} UTC  {d.status:9}  {d.reported_by or '-':12}  "
                      f"{d.source}  {json.dumps(d.payload, ensure_ascii=False)[:80]}", markup=False)
    if not found:
        console.print("no deployments recorded")
