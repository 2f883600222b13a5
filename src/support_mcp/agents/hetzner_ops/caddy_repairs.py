"""The hetzner-ops repairs of Caddy itself (playbook 3.2): start a Caddy that is down, and restore
the last Caddyfile backup that validates when the Caddyfile on disk is broken.

- `caddy_start`: `systemctl start caddy`, or without systemd `caddy start --config <Caddyfile>
  --adapter caddyfile`; the dry-run only runs `caddy validate` (nothing is started)
- `caddy_restore`: a `config_fix` of the Caddyfile whose new content is the newest
  `<Caddyfile>.bak-<ts>` that passes `caddy validate` (the check found it; the dry-run validates it
  again): backup of the broken file, the diff, restore, `caddy validate`, reload — or, when Caddy
  is down (no admin API to reload through), `caddy validate` and start
- `caddy_upstream`: a `config_fix` of the Caddyfile that points its upstream at the port the app
  listens on (as PM2 has it), when Caddy dials another one
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from typing import Any

import httpx

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, RepairStep
from support_mcp.agents.hetzner_ops import checks as c
from support_mcp.agents.hetzner_ops import parsers as p
from support_mcp.agents.hetzner_ops.file_repairs import ConfigFixRepair
from support_mcp.agents.hetzner_ops.paths import resolved_path, resolved_roots
from support_mcp.agents.hetzner_ops.repairs import (
    MAX_CONFIG_BYTES,
    HostRepair,
    _bad,
    command_step,
    digest,
    file_access,
    has_systemd,
)
from support_mcp.agents.hetzner_ops.texts import text
from support_mcp.domain.errors import Conflict, InvalidInput, PolicyViolation
from support_mcp.domain.models import Finding
from support_mcp.policy import host_commands as hc


class CaddyStartRepair(HostRepair):
    """Start Caddy when nothing answers on the public URL and the Caddyfile on disk is valid."""

    name = "caddy_start"
    title = "Caddy starten"

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        down = any(f.data.get("caddy_down") for f in _bad(findings, "http_smoke"))
        valid = any(f.check == "caddy_status" and f.data.get("valid") for f in findings)
        return {"unit": "caddy"} if down and valid else None

    async def _systemd(self, ctx: CheckContext) -> bool:
        return self.host.systemd if self.host.systemd is not None else await has_systemd(ctx, self.host)

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        start = hc.systemctl_start(self.host, "caddy") if await self._systemd(ctx) else hc.caddy_start(self.host)
        return [command_step(self.host, start)]

    async def _running(self, ctx: CheckContext) -> bool | None:
        """Is Caddy up? With systemd: the unit is active; without: something listens on the port of
        the public URL (the lab's and most hosts' only listener there is Caddy)."""
        if await self._systemd(ctx):
            result = await ctx.execute(hc.systemctl_status(self.host, "caddy"))
            try:
                return p.parse_systemctl_status(result.stdout).active == "active"
            except InvalidInput:
                return None
        if not self.host.public_url:
            return None
        url = httpx.URL(self.host.public_url)
        port = url.port or (443 if url.scheme == "https" else 80)
        result = await ctx.execute(hc.ss_listening(self.host))
        try:
            return any(s.port == port and s.netid == "tcp" for s in p.parse_ss(result.stdout))
        except InvalidInput:
            return None

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        ok, out = await self._run(ctx, hc.caddy_validate(self.host))
        running = await self._running(ctx)
        lines = ["would run:", *(s.display for s in steps), "", out, "",
                 text(ctx.language, "repair.caddy_running", running=running)]
        if running:
            lines.append(text(ctx.language, "repair.caddy_already_running"))
        return DryRun(ok=ok and running is False, output="\n".join(lines),
                      fingerprint=await self.fingerprint(ctx, steps))

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        caddyfile = (await resolved_roots(ctx, self.host)).caddyfile
        data = await file_access(ctx, self.host).read_file(caddyfile, MAX_CONFIG_BYTES)
        return digest(self.name, hashlib.sha256(data or b"").hexdigest(), await self._running(ctx))

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        ok, outputs = await self._run_steps(ctx, steps)
        if not ok:
            return ApplyResult(ok=False, output="\n".join(outputs))
        return ApplyResult(ok=True, output="\n".join(outputs), changed=["caddy"])


class CaddyRestoreRepair(ConfigFixRepair):
    """Restore the newest Caddyfile backup that validates: params `{backup}` (found by the check)."""

    name = "caddy_restore"
    title = "Letzte gültige Caddy-Konfiguration wiederherstellen"

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        down = any(f.data.get("caddy_down") for f in _bad(findings, "http_smoke"))
        for finding in _bad(findings, "caddy_status"):
            if finding.data.get("valid") is False and finding.data.get("last_valid_backup"):
                # with Caddy down the restored file is validated and Caddy started, not reloaded
                return {"backup": str(finding.data["last_valid_backup"]), **({"start": True} if down else {})}
        return None  # no backup validates: nothing to restore, the run goes to a human

    async def _backup(self, ctx: CheckContext, params: dict[str, Any]) -> str:
        backup = hc.checked_path(self.host, str(params["backup"]))
        if not hc.is_caddy_backup(self.host, backup):
            raise PolicyViolation(f"caddy_restore: {backup!r} is not a backup of {self.host.caddyfile}")
        resolved, _ = await resolved_path(ctx, self.host, backup)
        return resolved

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        backup = await self._backup(ctx, params)
        content = await self._current(ctx, backup)
        steps = await super().plan(ctx, {"path": str(self.host.caddyfile), "content": content,
                                         "start_caddy": bool(params.get("start"))})
        file_step = next(s for s in steps if s.kind == "file")
        if file_step.payload["backup"] == backup:
            # the broken file's backup would overwrite the one to restore (same second)
            raise InvalidInput(f"caddy_restore: {backup} was written this second; draft the plan again")
        # The row names the backup to copy, not its content (apply reads it and checks the hash).
        payload = {k: v for k, v in file_step.payload.items() if k != "content"}
        restored = dataclasses.replace(file_step, payload={**payload, "content_from": backup, "restore_from": backup,
                                                           "restore_sha256": hashlib.sha256(content.encode()).hexdigest()})
        return [restored if s is file_step else s for s in steps]

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        file_step = next(s for s in steps if s.kind == "file")
        backup = file_step.payload["restore_from"]
        valid, validation = await self._run(ctx, hc.caddy_validate(self.host, backup))
        fingerprint = await self.fingerprint(ctx, steps)
        unchanged = fingerprint == digest(self.name, file_step.payload["before_sha256"],
                                          file_step.payload["restore_sha256"])
        out = ["would run:", *(f"  {s.display}" for s in steps if s.kind == "command"), "",
               f"restore {backup} -> {file_step.payload['path']}; diff:", file_step.display, "",
               f"candidate: {validation}"]
        if not valid:
            out.append(text(ctx.language, "repair.backup_invalid", backup=backup))
        return DryRun(ok=valid and unchanged, output="\n".join(out), fingerprint=fingerprint)

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        file_step = next(s for s in steps if s.kind == "file")
        current = await self._current(ctx, file_step.payload["path"])
        candidate = await self._current(ctx, file_step.payload["restore_from"])
        return digest(self.name, hashlib.sha256(current.encode()).hexdigest(),
                      hashlib.sha256(candidate.encode()).hexdigest())

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        return [*await c.CaddyCheck(self.host).run(ctx), *await super().validate(ctx, params)]


__all__ = ["CaddyRestoreRepair", "CaddyStartRepair"]


def _dial_pattern(dial: str) -> re.Pattern[str]:
    """`dial` (`127.0.0.1:3001`, `localhost:3001`) as a Caddyfile writes an upstream: with or
    without the host and a scheme, never as a part of a longer address or port."""
    host, _, port = dial.rpartition(":")
    hosts = "|".join(re.escape(h) for h in dict.fromkeys((host, "127.0.0.1", "localhost", "[::1]")) if h)
    return re.compile(r"(?<![\w.:\[\]-])((?:https?://)?(?:" + hosts + r")?):" + re.escape(port) + r"(?![\w.:-])")


class CaddyUpstreamRepair(ConfigFixRepair):
    """Point the Caddyfile's upstream at the port the app listens on: params `{dials: [..], port}`
    (the check found both; the deploy — PM2's args or env PORT — says which port is right, and the
    app answers there). A config_fix of the Caddyfile: backup, diff, `caddy validate`, reload."""

    name = "caddy_upstream"
    title = "Caddy-Upstream auf den App-Port setzen"

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        app_listens = any(f.check == "port_3000" and f.status == "ok" for f in findings)
        for finding in _bad(findings, "caddy_upstream"):
            if finding.data.get("mismatch") and app_listens:
                return {"dials": list(finding.data["dials"]), "port": int(finding.data["app_port"])}
        return None

    def _edit(self, before: str, dials: Sequence[str], port: int) -> str:
        after = before
        for dial in dials:
            after, count = _dial_pattern(str(dial)).subn(lambda m: f"{m[1]}:{port}", after)
            if not count:
                raise InvalidInput(f"caddy_upstream: {dial} is not written in {self.host.caddyfile}")
        return after

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        dials, port = params.get("dials"), params.get("port")
        if not isinstance(dials, list) or not dials or not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidInput("caddy_upstream needs `dials` (the upstreams to change) and `port` (the app's)")
        caddyfile = (await resolved_roots(ctx, self.host)).caddyfile
        after = self._edit(await self._current(ctx, caddyfile), [str(d) for d in dials], port)
        steps = await super().plan(ctx, {"path": str(self.host.caddyfile), "content": after})
        # The row names the edit, not the file (apply makes it again from the file as it is then).
        file_step = next(s for s in steps if s.kind == "file")
        payload = {k: v for k, v in file_step.payload.items() if k != "content"}
        edited = dataclasses.replace(file_step, payload={**payload, "dials": [str(d) for d in dials], "port": port})
        return [edited if s is file_step else s for s in steps]

    async def approved_content(self, ctx: CheckContext, payload: dict[str, Any]) -> str:
        before = await self._current(ctx, payload["path"])
        if hashlib.sha256(before.encode()).hexdigest() != payload["before_sha256"]:
            raise Conflict(f"{payload['path']} changed since the plan was drafted; draft it again")
        after = self._edit(before, payload["dials"], int(payload["port"]))
        if hashlib.sha256(after.encode()).hexdigest() != payload["after_sha256"]:
            raise Conflict(f"the content for {payload['path']} is not the one approved; draft the plan again")
        return after

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        from support_mcp.agents.hetzner_ops.health_checks import CaddyUpstreamCheck

        return [*await CaddyUpstreamCheck(self.host).run(ctx), *await super().validate(ctx, params)]
