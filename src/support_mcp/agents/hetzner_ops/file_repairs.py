"""The hetzner-ops repairs that change files in the deploy folder (playbook 3.2 items 2 and 3):
a configuration fix with a timestamped backup, and a rebuild + restart of the deployed app."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from typing import Any

from support_mcp.agents.base import ApplyResult, CheckContext, DryRun, Repair, RepairStep
from support_mcp.agents.hetzner_ops import checks as c
from support_mcp.agents.hetzner_ops.env_files import backup_value, same_folder_backup
from support_mcp.agents.hetzner_ops.paths import resolved_path, resolved_roots
from support_mcp.agents.hetzner_ops.repairs import (
    MAX_CONFIG_BYTES,
    CaddyReloadRepair,
    HostRepair,
    Pm2RestartRepair,
    _bad,
    command_step,
    config_hint,
    digest,
    file_access,
    has_systemd,
    step_operation,
)
from support_mcp.agents.hetzner_ops.texts import text
from support_mcp.domain.clock import utc_now
from support_mcp.domain.errors import Conflict, InvalidInput, PolicyViolation
from support_mcp.domain.models import Finding
from support_mcp.domain.targets import HostTarget
from support_mcp.policy import host_commands as hc
from support_mcp.policy.redaction import redact


def _set_keys(content: str, values: dict[str, str]) -> str:
    """Set KEY=VALUE lines of a dotenv file (replace the line, or append it)."""
    lines, done = content.splitlines(), set()
    for i, line in enumerate(lines):
        key = line.split("=", 1)[0].strip()
        if "=" in line and key in values:
            lines[i] = f"{key}={values[key]}"
            done.add(key)
    lines += [f"{k}={v}" for k, v in values.items() if k not in done]
    return "\n".join(lines) + "\n"


class ConfigFixRepair(HostRepair):
    """Change one file under the deploy folder (or the Caddyfile): params `{path, set: {KEY: VALUE}}`
    for dotenv files or `{path, content}`. Backup first, diff on the ticket, restore on failure."""

    name = "config_fix"
    title = "Konfigurations-Fix (mit Backup)"

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        return config_hint(findings)

    async def _current(self, ctx: CheckContext, path: str) -> str:
        data = await file_access(ctx, self.host).read_file(path, MAX_CONFIG_BYTES)
        if data is None:
            raise InvalidInput(f"{path} does not exist on {self.host.name!r}")
        return data.decode("utf-8")

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        requested, values, sources = _config_params(params)  # checked before anything is read
        path, roots = await resolved_path(ctx, self.host, requested)  # links resolved on the host
        before = await self._current(ctx, path)
        if sources is not None:
            values = await self._backup_values(ctx, path, sources)
        after = str(params["content"]) if values is None else _set_keys(before, values)
        diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), path, path))
        backup = hc.checked_path(self.host, f"{path}.bak-{utc_now().strftime('%Y%m%dT%H%M%SZ')}", roots)
        # The plan (its row, every client, the ticket) holds the edit and the redacted diff, never
        # the file: an env file's other secrets stay on the host. Apply re-reads the file, checks it
        # is the one the diff was made from, and writes exactly the content that was hashed.
        edit: dict[str, Any] = {"set_from": sources} if sources is not None else \
            {"set": values} if values is not None else {"content": str(params["content"])}
        steps = [command_step(self.host, hc.copy_file(self.host, path, backup, roots)),
                 RepairStep(kind="file", target=self.host.name, display=redact(diff) or f"(no change to {path})",
                            payload={"path": path, "requested": requested, **edit, "backup": backup,
                                     "before_sha256": _sha256(before), "after_sha256": _sha256(after)})]
        if path in (str(self.host.caddyfile), roots.caddyfile) and params.get("start_caddy"):
            # Caddy is down: its admin API is gone, so no reload can load the file; validate, then start
            from support_mcp.agents.hetzner_ops.caddy_repairs import (
                CaddyStartRepair,  # it imports this module
            )

            steps += [command_step(self.host, hc.caddy_validate(self.host)),
                      *await CaddyStartRepair(self.host).plan(ctx, {})]
        elif path in (str(self.host.caddyfile), roots.caddyfile):
            steps += await CaddyReloadRepair(self.host).plan(ctx, {})
        else:
            steps += await Pm2RestartRepair(self.host).plan(ctx, {})
        return steps

    async def _backup_values(self, ctx: CheckContext, path: str, sources: dict[str, str]) -> dict[str, str]:
        """The values `{KEY: backup}` names, each read from that backup of `path` (a timestamped
        copy in the same folder; the value stays on the host and in the file, never in the plan)."""
        values = {}
        for key, backup in sources.items():
            if not same_folder_backup(backup, path):
                raise PolicyViolation(f"config_fix: {backup!r} is not a backup of {path!r}")
            value = backup_value(await self._current(ctx, backup), key)
            if value is None:
                raise Conflict(f"{backup} holds no value for {key}; draft the plan again")
            values[key] = value
        return values

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        file_step = next(s for s in steps if s.kind == "file")
        git = await self._git_status(ctx)
        out = ["would run:", *(f"  {s.display}" for s in steps if s.kind == "command"), "", "diff:",
               file_step.display, "", f"git status: {git}"]
        fingerprint = await self.fingerprint(ctx, steps)
        expected = digest(self.name, file_step.payload["path"], file_step.payload["before_sha256"])
        return DryRun(ok=fingerprint == expected, output="\n".join(out), fingerprint=fingerprint)

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        """Where the requested path resolves now and what that file holds: a link swapped since
        the dry-run (or an edited file) changes it, and apply is refused."""
        payload = next(s for s in steps if s.kind == "file").payload
        try:
            path, _ = await resolved_path(ctx, self.host, payload.get("requested", payload["path"]))
        except PolicyViolation as exc:
            return digest(self.name, "escapes", str(exc))
        return digest(self.name, path, hashlib.sha256((await self._current(ctx, path)).encode()).hexdigest())

    async def _git_status(self, ctx: CheckContext) -> str:
        ok, out = await self._run(ctx, hc.git_status(self.host, str(self.host.deploy_root)))
        return out if ok else "no git repository (git status failed)"

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        outputs, file_step = [f"git status: {await self._git_status(ctx)}"], None
        for step in steps:
            if step.kind == "file":
                file_step = step
                content = await self.approved_content(ctx, step.payload)
                await file_access(ctx, self.host).write_file(step.payload["path"], content.encode())
                outputs.append(f"wrote {step.payload['path']}:\n{step.display}")
                continue
            ok, out = await self._run(ctx, step_operation(step))
            outputs.append(out)
            if not ok:
                return await self._restore(ctx, steps, file_step, outputs)
        if file_step is not None and file_step.payload["path"] != str(self.host.caddyfile) \
                and file_step.payload.get("requested") != str(self.host.caddyfile) \
                and not await self._settled(ctx):
            return await self._restore(ctx, steps, file_step, outputs)
        return ApplyResult(ok=True, output="\n".join(outputs), changed=[s.payload["path"] for s in steps
                                                                          if s.kind == "file"])

    async def approved_content(self, ctx: CheckContext, payload: dict[str, Any]) -> str:
        """The new content, made again from what the plan holds; refused unless it is byte for
        byte what was drafted (same file before, same content after)."""
        if "set" in payload:
            before = await self._current(ctx, payload["path"])
            if _sha256(before) != payload["before_sha256"]:
                raise Conflict(f"{payload['path']} changed since the plan was drafted; draft it again")
            after = _set_keys(before, {str(k): str(v) for k, v in payload["set"].items()})
        elif "set_from" in payload:
            before = await self._current(ctx, payload["path"])
            if _sha256(before) != payload["before_sha256"]:
                raise Conflict(f"{payload['path']} changed since the plan was drafted; draft it again")
            after = _set_keys(before, await self._backup_values(ctx, payload["path"], dict(payload["set_from"])))
        elif "content_from" in payload:
            after = await self._current(ctx, payload["content_from"])
        else:
            after = str(payload["content"])
        if "after_sha256" in payload and _sha256(after) != payload["after_sha256"]:
            raise Conflict(f"the content for {payload['path']} is not the one approved; draft the plan again")
        return after

    async def _restore(self, ctx: CheckContext, steps: Sequence[RepairStep], file_step: RepairStep | None,
                       outputs: list[str]) -> ApplyResult:
        if file_step is not None:
            path, backup = file_step.payload["path"], file_step.payload["backup"]
            _, out = await self._run(ctx, hc.copy_file(self.host, backup, path, await resolved_roots(ctx, self.host)))
            outputs += [out, text(ctx.language, "repair.restored", path=path, backup=backup)]
            after = steps[steps.index(file_step) + 1:]
            for step in after:
                _, out = await self._run(ctx, step_operation(step))
                outputs.append(out)
        return ApplyResult(ok=False, output="\n".join(outputs))


class DeployRepair(HostRepair):
    """`npm install --legacy-peer-deps`, `npm run build`, `npm prune --omit=dev` (each exit code
    logged), restart. The playbook writes `npm install --omit=dev … && npm run build`; the build of
    a TypeScript project needs its devDependencies, so they are installed for the build and pruned
    after it (the combined lab, a TypeScript app, showed it: Next.js then fetches TypeScript itself)."""

    name = "deploy"
    title = "Neu bauen und ausliefern"

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        stale = [f for f in _bad(findings, "deploy_age") if f.data.get("stale") or f.data.get("missing")]
        if any(f.data.get("previous_release") for f in stale):
            return None  # the release before has a build: roll back to it rather than build the failed one again
        return {"reason": "stale" if stale[0].data.get("stale") else "missing"} if stale else None

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        return [command_step(self.host, hc.npm_install(self.host)), command_step(self.host, hc.npm_build(self.host)),
                command_step(self.host, hc.npm_prune(self.host)), command_step(self.host, hc.pm2_restart(self.host))]

    async def _build_stat(self, ctx: CheckContext) -> str:
        result = await ctx.execute(hc.build_id_stat(self.host))
        return (result.stdout or result.stderr).strip()

    async def dry_run(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> DryRun:
        _, git = await self._run(ctx, hc.git_status(self.host, str(self.host.deploy_root)))
        out = ["would run (in this order, stopping at the first failure):", *(f"  {s.display}" for s in steps), "",
               f"current build: {await self._build_stat(ctx)}", git]
        return DryRun(ok=True, output="\n".join(out), fingerprint=await self.fingerprint(ctx, steps))

    async def fingerprint(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> str:
        return digest(self.name, await self._build_stat(ctx))

    async def apply(self, ctx: CheckContext, steps: Sequence[RepairStep]) -> ApplyResult:
        ok, outputs = await self._run_steps(ctx, steps)
        if not ok:
            return ApplyResult(ok=False, output="\n".join(outputs))
        settled = await self._settled(ctx)
        return ApplyResult(ok=settled, output="\n".join(outputs), changed=["build", f"pm2:{self.host.app}"])

    async def validate(self, ctx: CheckContext, params: dict[str, Any]) -> list[Finding]:
        return [*await c.DeployAgeCheck(self.host).run(ctx), *await super().validate(ctx, params)]


def hetzner_repairs(host: HostTarget) -> tuple[Repair, ...]:
    """The repairs the hetzner-ops-agent may propose on `host` (most specific first)."""
    # caddy_repairs builds on ConfigFixRepair above, so it can only be imported once this module is.
    from support_mcp.agents.hetzner_ops.caddy_repairs import (
        CaddyRestoreRepair,
        CaddyStartRepair,
        CaddyUpstreamRepair,
    )
    from support_mcp.agents.hetzner_ops.port_repairs import FreeAppPortRepair
    from support_mcp.agents.hetzner_ops.releases import RollbackRepair

    return (CaddyRestoreRepair(host), ConfigFixRepair(host), RollbackRepair(host), DeployRepair(host), FreeAppPortRepair(host),
            Pm2RestartRepair(host), CaddyStartRepair(host), CaddyUpstreamRepair(host), CaddyReloadRepair(host))


__all__ = ["ConfigFixRepair", "DeployRepair", "hetzner_repairs", "has_systemd"]


def _pairs(name: str, raw: object) -> dict[str, str]:
    """A mapping, or from the command line `KEY=VALUE` pairs separated by commas."""
    if isinstance(raw, str):
        pairs = [item.partition("=") for item in raw.split(",") if item.strip()]
        if not pairs or any(not sep for _, sep, _ in pairs):
            raise InvalidInput(f"config_fix `{name}` takes KEY=VALUE pairs separated by commas, not {raw!r}")
        raw = {key.strip(): value for key, _, value in pairs}
    if not isinstance(raw, dict) or not raw:
        raise InvalidInput("config_fix needs `set` (KEY=VALUE, …), `set_from` (KEY=<backup>, …) or `content`")
    values = {str(k): str(v) for k, v in raw.items()}
    if any(not k or not k.replace("_", "").isalnum() or "\n" in v or "\r" in v for k, v in values.items()):
        raise InvalidInput("config_fix: keys are letters, digits and '_', values are one line")
    return values


def _config_params(params: dict[str, Any]) -> tuple[str, dict[str, str] | None, dict[str, str] | None]:
    """`{path, set}`, `{path, set_from}` or `{path, content}`; `set` is a mapping or, from the
    command line (`--param set=PORT=3000,HOST=0.0.0.0`), `KEY=VALUE` pairs separated by commas;
    `set_from` maps keys to a backup of the file to take each value from. Returns the path, the
    values to set and the backups to take values from (both None: `content` replaces the file)."""
    path = params.get("path")
    if not isinstance(path, str) or not path.strip():
        raise InvalidInput("config_fix needs `path`: the file to change (e.g. --param path=/var/www/app/.env)")
    given = [k for k in ("set", "set_from", "content") if k in params]
    if len(given) > 1:
        raise InvalidInput(f"config_fix takes one of `set`, `set_from` or `content`, not {' and '.join(given)}")
    if "content" in params:
        return path, None, None
    if "set_from" in params:
        sources = _pairs("set_from", params["set_from"])
        if any(not v.startswith("/") for v in sources.values()):
            raise InvalidInput("config_fix `set_from` names each key's backup by its absolute path")
        return path, None, sources
    return path, _pairs("set", params.get("set")), None


def _sha256(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()
