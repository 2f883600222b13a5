"""The app's own health endpoint through Caddy (`SUPPORT_MCP_HEALTH_PATH`, e.g. `/api/health`):
a page can answer 200 while the app behind it is degraded (its database unreachable), and only
the health endpoint says so."""

from __future__ import annotations

from collections.abc import Sequence

from support_mcp.agents.base import CheckContext
from support_mcp.agents.hetzner_ops import diagnostics
from support_mcp.agents.hetzner_ops.checks import _OpsCheck
from support_mcp.agents.hetzner_ops.texts import text
from support_mcp.domain.models import CheckStatus, Finding


class HealthPathCheck(_OpsCheck):
    """GET <public URL><health path>: 2xx ok; 5xx the app says it is unhealthy; no answer: down."""

    name = "health_path"
    _title_key = "health.title"
    title = "Health-Endpunkt der App"
    tools: Sequence[str] = ("http",)

    async def run(self, ctx: CheckContext) -> list[Finding]:
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
        if answer.status in (502, 503, 504):  # Caddy cannot reach the app: http_smoke says why
            return [self._finding(CheckStatus.SKIPPED, text(lang, "health.behind_proxy", url=answer.url,
                                                            status=answer.status), None, evidence, data)]
        if answer.status < 400:
            return [self._finding(CheckStatus.OK, text(lang, "health.ok", url=answer.url, status=answer.status),
                                  None, evidence, data, f"GET {answer.url}")]
        data["unhealthy"] = True
        return [self._finding(CheckStatus.FAIL, text(lang, "health.unhealthy", url=answer.url, status=answer.status),
                              None, evidence, data, f"GET {answer.url}")]
