"""The typed diagnostic operations on the real lab host (issue 10, item 7): every valid call of
the corpus that the lab can answer runs over SSH and is recorded; grep, du, the port check, the
Caddy log tail and the health path return what the host holds; the health check tells a
degraded app from a healthy one while the page itself still answers 200."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers.hetzner_lab import HetznerLab, check_context
from support_mcp.agents.hetzner_ops import diagnostics
from support_mcp.agents.hetzner_ops.checks import HttpSmokeCheck
from support_mcp.agents.hetzner_ops.health_checks import HealthPathCheck
from support_mcp.domain.errors import PolicyViolation
from support_mcp.domain.models import CheckStatus
from support_mcp.executors.ssh import SSHExecutor

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hetzner_ops"
VALID: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "valid_host_calls.yaml").read_text("utf-8"))
LAB_ROOT = "/var/www/whatsapp-bot-builder"


def _on_lab(healthy: HetznerLab, value: Any) -> Any:
    """The corpus names production paths; on the lab they live under its own root."""
    if isinstance(value, str) and value.startswith(LAB_ROOT):
        return str(healthy.deploy_root) + value[len(LAB_ROOT):]
    return str(healthy.caddyfile) if value == "/etc/caddy/Caddyfile" else value


async def test_the_valid_calls_run_on_the_lab_and_land_on_the_ticket(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    host = dataclasses.replace(healthy.host_target(), caddy_log=healthy.root / "caddy-access.log")
    (healthy.root / "caddy-access.log").write_text('{"level":"error","msg":"dial tcp 127.0.0.1:3000"}\n')
    (healthy.root / "caddy-access.log").chmod(0o644)
    ctx, recorder = check_context(ssh)
    ran = 0
    for entry in VALID:
        params = {k: _on_lab(healthy, v) for k, v in entry["params"].items()}
        if entry["op"] == "journal" and params["unit"] in host.units:
            await diagnostics.journal(ctx, host, **params)  # no journald on the lab: runs, exits non-zero
        elif entry["op"] == "grep_file" and Path(params["path"]).exists():
            await diagnostics.grep(ctx, host, params["path"], params["pattern"],
                                   max_matches=params.get("max_matches", 100))
        elif entry["op"] == "disk_usage" and Path(params["path"]).exists():
            await diagnostics.disk_usage(ctx, host, params["path"])
        elif entry["op"] == "port_listeners":
            await diagnostics.port(ctx, host, params["port"])
        elif entry["op"] == "caddy_log_tail":
            await diagnostics.caddy_log(ctx, host, lines=params.get("lines", 200))
        else:
            continue
        ran += 1
    assert ran >= 15 and len(recorder.commands) == ran


async def test_grep_du_port_and_caddy_log_show_what_the_host_holds(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    host = dataclasses.replace(healthy.host_target(), caddy_log=healthy.root / "caddy-access.log")
    (healthy.root / "caddy-access.log").write_text("line one\nupstream dial tcp refused\n")
    (healthy.root / "caddy-access.log").chmod(0o644)
    ctx, _ = check_context(ssh)
    found = await diagnostics.grep(ctx, host, str(healthy.frontend / ".env.production"), "APP_MODE")
    line = healthy.default_env.splitlines().index("APP_MODE=production") + 1
    assert found.exit_code == 0 and f"{line}:APP_MODE=production" in found.stdout
    usage = await diagnostics.disk_usage(ctx, host)
    assert usage.exit_code == 0 and str(Path(os.path.realpath(healthy.frontend)).parent if healthy.frontend.is_symlink() else healthy.frontend) in usage.stdout
    listening = await diagnostics.port(ctx, host)
    assert f":{healthy.app_port}" in listening.stdout, listening.stdout + listening.stderr
    free = await diagnostics.port(ctx, host, 1)
    assert free.stdout.strip() == ""
    tail = await diagnostics.caddy_log(ctx, host, lines=1)
    assert tail.stdout == "upstream dial tcp refused\n"


async def test_grep_through_a_link_out_of_the_deploy_folder_is_refused(healthy: HetznerLab, ssh: SSHExecutor) -> None:
    link = healthy.deploy_root / "etc-link"
    healthy.as_user(["ln", "-sfn", "/etc", str(link)])
    try:
        ctx, recorder = check_context(ssh)
        with pytest.raises(PolicyViolation, match="symbolic link"):
            await diagnostics.grep(ctx, healthy.host_target(), str(link / "passwd"), "root")
        assert recorder.commands == []
    finally:
        link.unlink()


async def test_the_health_path_tells_a_degraded_app_from_a_healthy_one(healthy: HetznerLab,
                                                                      ssh: SSHExecutor) -> None:
    ctx, _ = check_context(ssh)
    host = healthy.host_target()
    [ok] = await HealthPathCheck(host).run(ctx)
    assert ok.status == CheckStatus.OK and ok.data["status"] == 200
    healthy.inject_health_degraded()
    [bad] = await HealthPathCheck(host).run(ctx)
    # our app says 500, the second lab's 503 (what many health endpoints answer): both the app's own word
    assert bad.status == CheckStatus.FAIL and bad.data["unhealthy"] and bad.data["status"] in (500, 503)
    assert ('"database":"unreachable"' in "".join(bad.evidence)  # each app's own body is the evidence
            or '"db":"timeout"' in "".join(bad.evidence))
    [page] = await HttpSmokeCheck(host).run(ctx)
    assert page.status == CheckStatus.OK  # the page alone says nothing is wrong
    unset = dataclasses.replace(host, health_path=None)
    [skipped] = await HealthPathCheck(unset).run(ctx)
    assert skipped.status == CheckStatus.SKIPPED and "SUPPORT_MCP_HEALTH_PATH" in skipped.title
