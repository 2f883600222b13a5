"""MCP tools of the hetzner-ops-agent for diagnosis by hand (issue 10, item 7): journald with a
search, Caddy's log, a fixed-string search and disk usage under the deploy folder, who listens on
a port, the app's health path, where a path really leads. Scope `host:diagnose` (the agent and
the Tier-2 lead); every parameter is validated by the typed operations, every command lands on
the ticket, and everything the host returns is redacted and fenced."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field

from support_mcp.agents.hetzner_ops import diagnostics
from support_mcp.bootstrap import Services
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import parse_uuid
from support_mcp.domain.targets import HostTarget
from support_mcp.executors.base import CommandResult
from support_mcp.policy import scopes
from support_mcp.policy.fencing import fence
from support_mcp.policy.redaction import prepare_output

from . import outputs
from .tooling import TicketId, dump, me, tool

_MAX_OUTPUT = 65_536
Lines = Annotated[int, Field(strict=True, ge=1, le=2000, description="How many lines (1-2000).")]


class HostTools:
    s: Services

    def _host(self, ticket_id: str) -> tuple[Any, HostTarget]:
        agent = me().acting_agent("hetzner-ops-agent")
        if agent != "hetzner-ops-agent":
            raise InvalidInput("host tools act as the hetzner-ops-agent")
        hosts = self.s.settings.targets.hosts
        if not hosts:
            raise InvalidInput("no host is configured (SUPPORT_MCP_HOST)")
        return self.s.contexts(parse_uuid(ticket_id), agent, f"mcp:{uuid.uuid4()}"), hosts[0]

    @tool(scopes.HOST_DIAGNOSE, "Journal of a unit, with a search", read_only=True)
    async def host_journal(
        self, ticket_id: TicketId,
        unit: Annotated[str, Field(description="A configured unit (the app or 'caddy').")],
        since_minutes: Annotated[int, Field(strict=True, ge=1, le=10080, description="Minutes back (1-10080).")] = 30,
        lines: Lines = 200,
        grep: Annotated[str | None, Field(description="Text to find (matched literally).", max_length=200)] = None,
    ) -> str:
        """`journalctl -u UNIT --since -N min --lines N [--grep TEXT]` on the host."""
        ctx, host = self._host(ticket_id)
        return _shown(await diagnostics.journal(ctx, host, unit, since_minutes=since_minutes, lines=lines, grep=grep))

    @tool(scopes.HOST_DIAGNOSE, "Caddy's log file", read_only=True)
    async def host_caddy_log(self, ticket_id: TicketId, lines: Lines = 200) -> str:
        """The last lines of Caddy's configured log file (SUPPORT_MCP_CADDY_LOG)."""
        ctx, host = self._host(ticket_id)
        return _shown(await diagnostics.caddy_log(ctx, host, lines=lines))

    @tool(scopes.HOST_DIAGNOSE, "Search a file under the deploy folder", read_only=True)
    async def host_grep(
        self, ticket_id: TicketId,
        path: Annotated[str, Field(description="An absolute file path under the deploy folder.")],
        pattern: Annotated[str, Field(description="Text to find (fixed string, not a regex).", max_length=200)],
        max_matches: Annotated[int, Field(strict=True, ge=1, le=500)] = 100,
    ) -> str:
        """`grep -F -n -m N -e TEXT -- FILE` (links resolved on the host; none may lead out)."""
        ctx, host = self._host(ticket_id)
        return _shown(await diagnostics.grep(ctx, host, path, pattern, max_matches=max_matches))

    @tool(scopes.HOST_DIAGNOSE, "Disk usage under the deploy folder", read_only=True)
    async def host_du(
        self, ticket_id: TicketId,
        path: Annotated[str | None, Field(description="A folder under the deploy folder; default: the folder.")] = None,
    ) -> str:
        """`du -k -x --max-depth=1 -- FOLDER`."""
        ctx, host = self._host(ticket_id)
        return _shown(await diagnostics.disk_usage(ctx, host, path))

    @tool(scopes.HOST_DIAGNOSE, "Who listens on a port", read_only=True)
    async def host_port(
        self, ticket_id: TicketId,
        port: Annotated[int | None, Field(strict=True, ge=1, le=65535, description="TCP port; default: the app's.")] = None,
    ) -> str:
        """`ss -H -tlnp sport = :PORT`: the listening socket and its process, if any."""
        ctx, host = self._host(ticket_id)
        return _shown(await diagnostics.port(ctx, host, port))

    @tool(scopes.HOST_DIAGNOSE, "HTTP check of a path through Caddy", read_only=True)
    async def host_http_check(
        self, ticket_id: TicketId,
        path: Annotated[str | None, Field(description="A path such as /api/health; default: the configured "
                                                      "health path.", max_length=400)] = None,
    ) -> str:
        """GET <public URL><path>: status and the start of the body."""
        _, host = self._host(ticket_id)
        answer = await diagnostics.http_check(host, path)
        head = {"url": answer.url, "status": answer.status, "error": answer.error}
        return dump(head) + "\n" + fence(prepare_output(answer.body, _MAX_OUTPUT)[0], "http-body")

    @tool(scopes.HOST_DIAGNOSE, "Where a path really leads", read_only=True, output=outputs.ResolvedPath)
    async def host_resolve_path(
        self, ticket_id: TicketId,
        path: Annotated[str, Field(description="An absolute path under the deploy folder or the Caddyfile.")],
    ) -> str:
        """The path with every symbolic link resolved on the host; refused when a link leads out."""
        ctx, host = self._host(ticket_id)
        return dump({"path": path, "resolved": await diagnostics.resolve(ctx, host, path)})


def _shown(result: CommandResult) -> str:
    head = {"command": list(result.argv), "exit_code": result.exit_code, "timed_out": result.timed_out,
            "truncated": result.truncated}
    out, cut = prepare_output(result.stdout + ("\n" + result.stderr if result.stderr else ""), _MAX_OUTPUT)
    return dump({**head, "capped": cut}) + "\n" + fence(out, "host-output")
