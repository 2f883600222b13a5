"""The hetzner-ops lab for the tests: the lab itself lives in `support_mcp.labs.hetzner` (the demo
starts it too); here only what the tests add on top: a recording CheckContext and a deploy event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from support_mcp.agents.base import CheckContext
from support_mcp.domain.models import Deployment
from support_mcp.executors.base import CommandResult
from support_mcp.executors.ssh import SSHExecutor
from support_mcp.labs.hetzner import (
    APP,
    LAB_SOURCES,
    LAB_USER,
    REPO,
    TARGET,
    HetznerLab,
    ensure_user,
    free_port,
    start_lab,
    wait_until,
)
from support_mcp.policy.commands import Operation

__all__ = ["APP", "LAB_SOURCES", "LAB_USER", "REPO", "TARGET", "HetznerLab", "Recorder", "check_context",
           "deployment_event", "ensure_user", "free_port", "start_lab", "wait_until"]


@dataclass
class Recorder:
    """Collects what a CheckContext records (the runner logs the same on the ticket)."""

    commands: list[tuple[str, ...]] = field(default_factory=list)

    async def __call__(self, agent: str, op: Operation, result: CommandResult) -> None:
        self.commands.append(tuple(result.argv))


def check_context(executor: SSHExecutor, *, language: str = "de",
                  deploy_events: list[Deployment] | None = None) -> tuple[CheckContext, Recorder]:
    recorder = Recorder()

    async def events() -> list[Deployment]:
        return list(deploy_events or [])

    ctx = CheckContext(ticket_id=uuid.uuid4(), agent="hetzner-ops-agent", executors={TARGET: executor},
                       record=recorder, language=language,  # type: ignore[arg-type]
                       deploy_events=events)
    return ctx, recorder


def deployment_event(at: datetime) -> Deployment:
    return Deployment(id=uuid.uuid4(), deployed_at=at, status="succeeded", source="support_mcp_deployments",
                      reported_by="ci", payload={"commit": "4f2a9c1"})
