"""Checks of the hetzner-ops-agent beyond the process and the proxy.

The app's own health endpoint through Caddy (`SUPPORT_MCP_HEALTH_PATH`, e.g. `/api/health`):
a page can answer 200 while the app behind it is degraded (its database unreachable), and only
the health endpoint says so. The links in the deploy folder: one that leads out of it is a
finding before any plan could be drafted on it. And Caddy's upstream against the port the app
listens on: a Caddyfile dialling another port answers 502 while app and Caddy both run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from support_mcp.agents.base import CheckContext
from support_mcp.agents.hetzner_ops import diagnostics
from support_mcp.agents.hetzner_ops import parsers as p
from support_mcp.agents.hetzner_ops.checks import _OpsCheck
from support_mcp.agents.hetzner_ops.layout import app_layout
from support_mcp.agents.hetzner_ops.paths import resolved_roots, resolver
from support_mcp.agents.hetzner_ops.texts import text
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.policy import host_commands as hc
from support_mcp.policy import host_diagnostics as hd


class HealthPathCheck(_OpsCheck):
    """GET <public URL><health path>: 2xx ok; 5xx the app says it is unhealthy; no answer: down."""

    name = "health_path"
    _title_key = "health.title"
    title = "Health-Endpunkt der App"
    tools: Sequence[str] = ("http",)

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang = ctx.language
        if not self.host.public_url or not self.host.health_path:
            return [self._finding(CheckStatus.SKIPPED, text(lang, "health.unset"), None, [])]
        answer = await diagnostics.http_check(self.host)
        data = {"url": answer.url, "status": answer.status, "path": self.host.health_path}
        evidence = [f"GET {answer.url} -> {answer.status if answer.status is not None else answer.error}",
                    answer.body.strip()]
        if answer.status is None:
            return [self._finding(CheckStatus.FAIL, text(lang, "health.down", url=answer.url, error=answer.error),
                                  None, evidence, {**data, "unreachable": True}, f"GET {answer.url}")]
        if answer.status in (502, 503, 504) and not await self._app_answers(answer.url):
            # Caddy cannot reach the app (its start page fails too): http_smoke says why
            return [self._finding(CheckStatus.SKIPPED, text(lang, "health.behind_proxy", url=answer.url,
                                                            status=answer.status), None, evidence, data)]
        if answer.status < 400:
            return [self._finding(CheckStatus.OK, text(lang, "health.ok", url=answer.url, status=answer.status),
                                  None, evidence, data, f"GET {answer.url}")]
        data["unhealthy"] = True
        return [self._finding(CheckStatus.FAIL, text(lang, "health.unhealthy", url=answer.url, status=answer.status),
                              None, evidence, data, f"GET {answer.url}")]


    async def _app_answers(self, health_url: str) -> bool:
        """Whether the app answers its start page through Caddy: then a 502/503/504 on the health
        path is the app's own word (many health endpoints say 503 when a dependency is down)."""
        root = await diagnostics.http_check(self.host, "/")
        return root.status is not None and root.status < 500 and root.url != health_url


MAX_LINKS = 200  # links resolved per run at most (node_modules/.bin alone holds dozens)


class DeployLinksCheck(_OpsCheck):
    """The symbolic links in the deploy folder, each resolved on the host: a link that leads out
    of it (`shared/rootlink → /`) is a `warn` finding naming the link and its target; links that
    stay inside (`current → releases/…`) are listed as fine."""

    name = "deploy_links"
    _title_key = "links.title"
    title = "Symbolische Links im Deploy-Ordner"
    tools: Sequence[str] = ("find", "sftp")

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang, op = ctx.language, hd.symlinks_under(self.host)
        result = await self._execute(ctx, op, allow_fail=True)
        if isinstance(result, Finding):
            return [result]
        if result.exit_code not in (0, 1) or (result.exit_code == 1 and not result.stdout.strip()):
            return [self._finding(CheckStatus.SKIPPED, text(lang, "links.unreadable"), op,
                                  result.stderr.splitlines()[:5])]
        links = [line for line in result.stdout.splitlines() if line.startswith("/")]
        try:
            roots = await resolved_roots(ctx, self.host)
            access = resolver(ctx, self.host)
        except ExecutionError as exc:
            return [self._finding(CheckStatus.SKIPPED, text(lang, "links.unreadable"), op, [str(exc)])]
        checked = links[:MAX_LINKS]
        targets = await access.realpaths(checked)  # one SFTP session for all of them
        outside = [f"{link} → {target}" for link, target in zip(checked, targets, strict=True)
                   if not roots.holds(target)]
        data = {"links": len(links), "checked": min(len(links), MAX_LINKS), "outside": outside}
        if outside:
            return [self._finding(CheckStatus.WARN, text(lang, "links.outside", count=len(outside),
                                                         first=outside[0]), op, outside, data)]
        return [self._finding(CheckStatus.OK, text(lang, "links.inside", count=len(links)), op, links[:10], data)]


_LOOPBACK = ("", "127.0.0.1", "localhost", "[::1]", "::1", "0.0.0.0")


class CaddyUpstreamCheck(_OpsCheck):
    """`caddy adapt` of the Caddyfile on disk: do its `reverse_proxy` upstreams on this host dial
    the port the app listens on (as PM2 says: its args or env PORT)? Skipped when the app's port
    was not found on the host (then a configured default would be compared, not the deploy)."""

    name = "caddy_upstream"
    _title_key = "upstream.title"
    title = "Caddy-Upstream und App-Port"
    tools: Sequence[str] = ("caddy", "pm2")

    async def check(self, ctx: CheckContext) -> list[Finding]:
        lang = ctx.language
        layout = await app_layout(ctx, self.host)
        if "app_port" not in layout.sources:
            reason = "no_daemon" if layout.no_daemon else "not_found"
            return [self._finding(CheckStatus.SKIPPED, text(lang, f"upstream.port_{reason}", app=self.host.app), None,
                                  list(layout.notes)[:5])]
        op = hc.caddy_adapt(self.host)
        result = await self._execute(ctx, op, allow_fail=True)
        if isinstance(result, Finding):
            return [result]
        if result.exit_code != 0:  # an invalid Caddyfile: caddy_status says so
            return [self._finding(CheckStatus.SKIPPED, text(lang, "upstream.unadaptable"), op,
                                  (result.stderr or result.stdout).splitlines()[-3:])]
        try:
            upstreams = p.parse_caddy_adapt(result.stdout)
        except InvalidInput as exc:
            return [self._parse_error(ctx, op, result, exc)]
        local = [u for u in upstreams if u.port is not None and u.dial.rpartition(":")[0] in _LOOPBACK]
        port = self.host.app_port
        data: dict[str, Any] = {"app_port": port, "port_source": layout.sources["app_port"],
                                "upstreams": [u.dial for u in upstreams]}
        evidence = [f"{u.dial} ({', '.join(u.hosts) or '*'}{''.join(u.paths)})" for u in upstreams]
        evidence.append(f"{self.host.app}: port {port} [{layout.sources['app_port']}]")
        if not local:
            return [self._finding(CheckStatus.SKIPPED, text(lang, "upstream.none_local", count=len(upstreams)), op,
                                  evidence, data)]
        pages = [u for u in local if not u.paths] or local  # the catch-all route serves the pages
        if any(u.port == port for u in pages):
            return [self._finding(CheckStatus.OK, text(lang, "upstream.ok", dial=pages[0].dial, port=port), op,
                                  evidence, data)]
        # the upstreams that serve the pages dial another port than the app's: Caddy answers 502
        wrong = sorted({u.dial for u in pages})
        data.update({"mismatch": True, "dials": wrong})
        return [self._finding(CheckStatus.FAIL, text(lang, "upstream.mismatch", dials=", ".join(wrong), port=port,
                                                     app=self.host.app, source=layout.sources["app_port"]),
                              op, evidence, data)]
