"""The host-basics checks against this machine through the real LocalExecutor."""

from __future__ import annotations

import uuid

from support_mcp.agents.base import CheckContext
from support_mcp.agents.host_basics.checks import HOST_BASICS_CHECKS
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.executors.base import CommandResult
from support_mcp.executors.local import LocalExecutor
from support_mcp.policy.commands import Operation, validate_argv


async def test_host_basics_run_on_this_machine_and_every_command_is_recorded() -> None:
    recorded: list[tuple[str, Operation, CommandResult]] = []

    async def record(agent: str, op: Operation, result: CommandResult) -> None:
        recorded.append((agent, op, result))

    ctx = CheckContext(
        ticket_id=uuid.uuid4(), agent="hetzner-ops-agent", executors={"local": LocalExecutor()}, record=record
    )
    findings: list[Finding] = []
    for check in HOST_BASICS_CHECKS:
        produced = await check.run(ctx)
        assert produced, check.name
        assert all(f.check == check.name for f in produced)
        findings += produced

    assert {f.check for f in findings} == {"host.load", "host.disk", "host.memory"}
    for finding in findings:
        assert finding.status in (CheckStatus.OK, CheckStatus.WARN, CheckStatus.FAIL), finding
        assert finding.title and finding.evidence and finding.data
    load = next(f for f in findings if f.check == "host.load")
    assert load.data["cores"] >= 1 and load.data["load1"] >= 0
    memory = next(f for f in findings if f.check == "host.memory")
    assert 0 < memory.data["available_mib"] <= memory.data["total_mib"]

    programs = [op.argv[0] for _, op, _ in recorded]
    # The load check fetches `top` only when the load is high, which this machine may be.
    assert programs in (["nproc", "uptime", "df", "free"], ["nproc", "uptime", "top", "df", "free"])
    for agent, op, result in recorded:
        assert agent == "hetzner-ops-agent" and validate_argv(op.argv) == op.argv
        assert result.ok and result.argv == op.argv and not result.truncated
    assert ctx.results == [result for _, _, result in recorded]
