"""A small real repair and check for testing the repair gate without an agent's lab.

`SetConfigValue` rewrites `key=value` in a config file on this machine: real file I/O, a real diff
as dry-run, the file's sha256 as fingerprint. `DiskFull` reports a full disk, as the real disk
check does on a full machine (that check is tested on recorded output elsewhere).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, RepairStep
from support_mcp.domain.models import CheckStatus, Finding

AGENT = "hetzner-ops-agent"


class SetConfigValue:
    """Rewrites `key=value` in one file; proposed when a finding says the value is wrong."""

    name = "set_config_value"
    agent = AGENT
    title = "Konfigurationswert korrigieren"

    def __init__(self, path: Path) -> None:
        self.path = path

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        bad = [f for f in findings if f.status == CheckStatus.FAIL]
        return {"key": "PORT", "value": "3000"} if bad else None

    def _new_text(self, params: dict[str, Any]) -> str:
        lines = [f"{params['key']}={params['value']}" if line.startswith(f"{params['key']}=") else line
                 for line in self.path.read_text().splitlines()]
        return "\n".join(lines) + "\n"

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        return [RepairStep("file", "local", f"set {params['key']}={params['value']} in {self.path}",
                           {"path": str(self.path), **params})]

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        old = self.path.read_text()
        new = self._new_text(steps[0].payload)
        diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "before", "after"))
        return DryRun(ok=True, output=diff, fingerprint=await self.fingerprint(ctx, steps))

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        self.path.write_text(self._new_text(steps[0].payload))
        return ApplyResult(ok=True, output="written", changed=[f"{self.path}: PORT=3000"])

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        ok = f"{params['key']}={params['value']}" in self.path.read_text()
        return [Finding(check="config", status=CheckStatus.OK if ok else CheckStatus.FAIL, title="PORT")]


class DiskFull:
    """A check that reports what a full disk looks like (the real disk check is tested elsewhere)."""

    name, title, tools = "host.disk", "Festplatte", ("df",)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        return [Finding(check="host.disk", status=CheckStatus.FAIL, title="/ zu 96 % belegt")]
