"""Checks of the hetzner-ops-agent beyond the process and the proxy.

The app's own health endpoint through Caddy (`SUPPORT_MCP_HEALTH_PATH`, e.g. `/api/health`):
a page can answer 200 while the app behind it is degraded (its database unreachable), and only
the health endpoint says so. And the links in the deploy folder: one that leads out of it is a
finding before any plan could be drafted on it."""

from __future__ import annotations

from collections.abc import Sequence

from support_mcp.agents.base import CheckContext
from support_mcp.agents.hetzner_ops import diagnostics
from support_mcp.agents.hetzner_ops.checks import _OpsCheck
from support_mcp.agents.hetzner_ops.paths import resolved_roots, resolver
from support_mcp.agents.hetzner_ops.texts import text
from support_mcp.domain.errors import ExecutionError
from support_mcp.domain.models import CheckStatus, Finding
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
