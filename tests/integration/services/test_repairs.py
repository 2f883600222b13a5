"""The gate around every repair: draft → dry-run → hash → approval → apply → validate.

The repair here is a small real one (it rewrites a key in a config file on this machine), so
that the gate itself is tested without any agent's lab; the agents' repairs are tested on their labs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers.repairs import AGENT, DiskFull, SetConfigValue
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.errors import Conflict, InvalidInput, PolicyViolation


class Clock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> Any:
        return self.now


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / ".env.production"
    path.write_text("NODE_ENV=production\nPORT=3001\n")
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def services(fresh_dsn: str, config: Path, clock: Clock) -> AsyncIterator[Services]:
    async with open_services(
        Settings(database_url=fresh_dsn), clock=clock, checks=lambda agent: [DiskFull()],
        repairs=lambda agent: [SetConfigValue(config)] if agent == AGENT else [],
    ) as s:
        yield s


async def _dry_run_plan(s: Services) -> Any:
    ticket = await s.tickets.create_ticket(subject="Port falsch")
    plan = await s.repairs.draft(ticket.id, AGENT, "set_config_value", {"key": "PORT", "value": "3000"})
    return await s.repairs.dry_run(plan.id)


async def test_approved_plan_applies_and_validates(services: Services, config: Path) -> None:
    plan = await _dry_run_plan(services)
    assert plan.status == "dry_run" and plan.dry_run_ok and len(plan.plan_hash) == 64
    assert "-PORT=3001" in plan.dry_run_output and "+PORT=3000" in plan.dry_run_output
    assert config.read_text() == "NODE_ENV=production\nPORT=3001\n"  # the dry-run changed nothing
    await services.repairs.approve(plan.id, plan.plan_hash, "Max Mustermann", by="tier2-lead", ttl_minutes=15)
    applied = await services.repairs.apply(plan.id, plan.plan_hash)
    assert applied.status == "applied" and "PORT=3000" in config.read_text()
    validated, findings = await services.repairs.validate(plan.id)
    assert validated.status == "validated" and findings[0].status == "ok"
    tags = [t for m in await services.tickets.messages(plan.ticket_id, limit=50) for t in m.tags]
    assert tags == ["repair_plan", "repair_dry_run", "repair_approval", "repair_applied", "repair_validation"]


async def test_nothing_runs_without_approval(services: Services, config: Path) -> None:
    plan = await _dry_run_plan(services)
    with pytest.raises(PolicyViolation, match="needs an approval"):
        await services.repairs.apply(plan.id, plan.plan_hash)
    assert "PORT=3001" in config.read_text()


async def test_approval_names_the_exact_hash(services: Services, config: Path) -> None:
    plan = await _dry_run_plan(services)
    with pytest.raises(Conflict, match="hash mismatch"):
        await services.repairs.approve(plan.id, "0" * 64, "Max", by="tier2-lead")
    await services.repairs.approve(plan.id, plan.plan_hash, "Max", by="tier2-lead")
    with pytest.raises(PolicyViolation, match="hash mismatch"):
        await services.repairs.apply(plan.id, "f" * 64)
    with pytest.raises(InvalidInput):
        await services.repairs.approve(plan.id, plan.plan_hash, "  ", by="tier2-lead")
    assert "PORT=3001" in config.read_text()


async def test_expired_approval_is_refused(services: Services, config: Path, clock: Clock) -> None:
    plan = await _dry_run_plan(services)
    await services.repairs.approve(plan.id, plan.plan_hash, "Max", by="tier2-lead", ttl_minutes=5)
    clock.now += timedelta(minutes=6)
    with pytest.raises(PolicyViolation, match="no valid approval"):
        await services.repairs.apply(plan.id, plan.plan_hash)
    assert "PORT=3001" in config.read_text()


async def test_changed_target_since_dry_run_is_refused(services: Services, config: Path) -> None:
    plan = await _dry_run_plan(services)
    await services.repairs.approve(plan.id, plan.plan_hash, "Max", by="tier2-lead")
    config.write_text("NODE_ENV=production\nPORT=3001\nDEBUG=1\n")  # someone edited it meanwhile
    with pytest.raises(Conflict, match="changed since the dry-run"):
        await services.repairs.apply(plan.id, plan.plan_hash)
    assert "DEBUG=1" in config.read_text() and "PORT=3001" in config.read_text()


async def test_an_approval_is_used_once(services: Services, config: Path) -> None:
    plan = await _dry_run_plan(services)
    await services.repairs.approve(plan.id, plan.plan_hash, "Max", by="tier2-lead")
    await services.repairs.apply(plan.id, plan.plan_hash)
    with pytest.raises(PolicyViolation):
        await services.repairs.apply(plan.id, plan.plan_hash)


async def test_runner_drafts_and_dry_runs_a_proposed_plan(services: Services, config: Path) -> None:
    ticket = await services.tickets.create_ticket(subject="Server langsam, Festplatte voll")
    report = await services.runner.run(ticket.id, AGENT)
    assert report.verdict == "confirmed"
    plans = await services.repairs.list_plans(ticket.id)
    assert len(plans) == 1 and plans[0].status == "dry_run" and plans[0].run_id == report.run_id
    notes = "\n".join(m.body for m in await services.tickets.messages(ticket.id, limit=100))
    assert f"plans approve {plans[0].id} --hash {plans[0].plan_hash}" in notes
    assert "PORT=3001" in config.read_text()  # proposed and dry-run only
    assert report.checklist["Dienste gezielt neu gestartet?"] is False
    await services.repairs.approve(plans[0].id, plans[0].plan_hash, "Max", by="tier2-lead")
    await services.repairs.apply(plans[0].id, plans[0].plan_hash)
    run = await services.runs.get_run(report.run_id)
    assert run.checklist["Dienste gezielt neu gestartet?"] is True
    assert run.checklist["CPU/RAM/Disk ok?"] is False  # host.load and host.memory did not run
