"""HTTP probes for the frontend checks: one GET with a timeout and a body cap, never raising on a
failed request (a refused connection is a response with `error` set, judged by the caller)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from support_mcp.domain.clock import Clock, utc_now

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_BODY_BYTES = 2_097_152
MAX_REDIRECTS = 5
USER_AGENT = "support-mcp-frontend-diagnostics/0.1"


@dataclass(frozen=True)
class HttpResponse:
    """What one GET returned: status and headers (lower-case names), the capped body, or the error."""

    url: str
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    duration_ms: float = 0.0
    started_at: datetime | None = None
    error: str | None = None  # connection refused, timeout, invalid URL

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class HttpClient:
    """GET-only client with bounded time and bounded memory. `transport` lets tests swap in a real
    alternative (httpx.MockTransport over recorded responses) instead of a live server."""

    def __init__(
        self,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._timeout = httpx.Timeout(timeout_s)
        self._max_body = max_body_bytes
        self._transport = transport
        self._clock = clock

    async def get(self, url: str) -> HttpResponse:
        """GET `url` (following up to MAX_REDIRECTS redirects); errors become `error`, not exceptions."""
        started_at = self._clock()
        start = time.monotonic()
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS,
                transport=self._transport, headers={"user-agent": USER_AGENT}, trust_env=False,
            ) as client, client.stream("GET", url) as response:
                body = bytearray()
                truncated = False
                async for chunk in response.aiter_bytes():
                    room = self._max_body - len(body)
                    if len(chunk) > room:
                        body += chunk[:room]
                        truncated = True
                        break
                    body += chunk
                return HttpResponse(
                    url=str(response.url), status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=bytes(body), truncated=truncated,
                    duration_ms=(time.monotonic() - start) * 1000.0, started_at=started_at,
                )
        except httpx.HTTPError as exc:
            return HttpResponse(url=url, status=None, duration_ms=(time.monotonic() - start) * 1000.0,
                                started_at=started_at, error=f"{type(exc).__name__}: {exc}".strip())
        except ValueError as exc:  # httpx.InvalidURL subclasses ValueError on some versions
            return HttpResponse(url=url, status=None, started_at=started_at, error=f"invalid URL: {exc}")
