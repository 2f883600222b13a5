"""Deployments as the hetzner-ops deploy_age check sees them: CI reports without a ticket and the
tickets' `deployment` events, each at the time the deploy happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support_mcp.store.database import Database
from support_mcp.store.deployments import DeploymentStore, deployed_at
from support_mcp.store.tickets import TicketStore


def test_a_ticket_events_deploy_time_comes_from_its_payload() -> None:
    written = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert deployed_at({"deployed_at": "2026-12-04T07:00:00Z"}, written) == written - timedelta(hours=1)
    assert deployed_at({"at": "2026-12-04T08:30:00+01:00"}, written) == written - timedelta(minutes=30)
    # no zone, no time, not a time: when the event was written
    assert deployed_at({"deployed_at": "2026-12-04T07:00:00"}, written) == written
    assert deployed_at({"deployed_at": "gestern"}, written) == written
    assert deployed_at({}, written) == written


async def test_recent_merges_both_sources_by_deploy_time_and_a_retry_is_stored_once(db: Database) -> None:
    store = DeploymentStore(db)
    now = datetime.now(UTC)
    ci = await store.add(deployed_at=now - timedelta(hours=2), status="succeeded", reported_by="ci",
                         payload={"commit": "a1"}, idempotency_key="run-1")
    retried = await store.add(deployed_at=now - timedelta(hours=2), status="succeeded", reported_by="ci",
                              payload={"commit": "a1"}, idempotency_key="run-1")
    assert retried.id == ci.id
    tickets = TicketStore(db)
    ticket = await tickets.create_ticket(subject="Deploy", customer="acme")
    # a hook that posts an hour after its deploy: the event is newer, the deploy is not
    event = await tickets.add_event(ticket.id, event_type="deployment", status="succeeded",
                                    payload={"deployed_at": (now - timedelta(hours=3)).isoformat()})
    await tickets.add_event(ticket.id, event_type="note", status="info")

    found = await store.recent()
    assert [d.id for d in found] == [ci.id, event.id]
    assert found[1].source == "support_automation_events" and found[1].ticket_id == ticket.id
    assert abs((found[1].deployed_at - (now - timedelta(hours=3))).total_seconds()) < 1
