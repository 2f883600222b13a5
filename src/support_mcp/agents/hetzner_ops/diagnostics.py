"""The hetzner-ops-agent's diagnostic operations for a person or an MCP client (issue 10, item 7):
each builds a typed operation (`policy.host_diagnostics`), resolves any path on the target first
(`paths`), runs it through the check context (so it lands on the ticket as a command note) and
returns the result. The HTTP health check asks the app through Caddy like `HealthPathCheck`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from support_mcp.agents.base import CheckContext
from support_mcp.agents.hetzner_ops.layout import found_host
from support_mcp.agents.hetzner_ops.paths import resolved_path
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.targets import HostTarget
from support_mcp.executors.base import CommandResult
from support_mcp.policy import host_diagnostics as hd

HTTP_TIMEOUT_S = 10.0


async def journal(ctx: CheckContext, host: HostTarget, unit: str, *, since_minutes: Any = 30, lines: Any = 200,
                  grep: str | None = None) -> CommandResult:
    return await ctx.execute(hd.journal(host, unit, since_minutes=since_minutes, lines=lines, grep=grep))


async def caddy_log(ctx: CheckContext, host: HostTarget, *, lines: Any = 200) -> CommandResult:
    if host.caddy_log is None:
        raise InvalidInput(f"no Caddy log file is configured for {host.name!r} (SUPPORT_MCP_CADDY_LOG)")
    path = str(host.caddy_log)
    return await ctx.execute(hd.caddy_log_tail(host, path, lines=lines))


async def grep(ctx: CheckContext, host: HostTarget, path: str, pattern: str, *,
               max_matches: Any = 100) -> CommandResult:
    real, roots = await resolved_path(ctx, host, path)
    return await ctx.execute(hd.grep_file(host, real, pattern, max_matches=max_matches, resolved=roots))


async def disk_usage(ctx: CheckContext, host: HostTarget, path: str | None = None) -> CommandResult:
    real, roots = await resolved_path(ctx, host, path or str(host.deploy_root))
    return await ctx.execute(hd.disk_usage(host, real, resolved=roots))


async def port(ctx: CheckContext, host: HostTarget, number: Any = None) -> CommandResult:
    """Who listens on `number`, by default on the app's port as found on the host (layout.py)."""
    if number is None:
        number = (await found_host(ctx, host)).app_port
    return await ctx.execute(hd.port_listeners(host, number))


async def resolve(ctx: CheckContext, host: HostTarget, path: str) -> str:
    """Where `path` really is on the host (refused when a link leads out of the deploy folder)."""
    real, _ = await resolved_path(ctx, host, path)
    return real


@dataclass(frozen=True)
class HttpAnswer:
    url: str
    status: int | None
    body: str
    error: str | None = None


async def http_check(host: HostTarget, path: str | None = None) -> HttpAnswer:
    """GET <public URL><path> through Caddy (the configured health path by default)."""
    if not host.public_url:
        raise InvalidInput(f"no public URL is configured for {host.name!r} (SUPPORT_MCP_PUBLIC_URL)")
    chosen = path if path is not None else host.health_path
    if chosen is None:
        raise InvalidInput(f"no health path is configured for {host.name!r} (SUPPORT_MCP_HEALTH_PATH); name one")
    url = host.public_url.rstrip("/") + hd.checked_health_path(chosen)
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        return HttpAnswer(url, None, "", f"{type(exc).__name__}: {exc}")
    return HttpAnswer(url, response.status_code, response.text[:500])
