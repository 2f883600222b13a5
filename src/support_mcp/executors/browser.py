"""Headless Chromium for the frontend smoke test: open a page, record console errors and failed
requests, save a screenshot. Playwright for Python drives Debian's `/usr/bin/chromium` through
`executable_path` (no browser download), with a fresh user-data folder per visit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import ExecutionError

CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
DEFAULT_TIMEOUT_S = 30.0
MAX_EVENTS = 200  # console lines and failed requests kept per visit


@dataclass(frozen=True)
class FailedRequest:
    url: str
    resource_type: str  # script, stylesheet, image, font, document, fetch, ...
    status: int | None  # None: failed without a response (blocked by CSP, refused)
    reason: str


@dataclass(frozen=True)
class PageVisit:
    """What the browser saw: the document status, console errors, failed requests, the screenshot."""

    url: str
    status: int | None
    title: str
    console_errors: tuple[str, ...]
    failed_requests: tuple[FailedRequest, ...]
    page_errors: tuple[str, ...]  # uncaught exceptions in the page
    body_text: str
    screenshot_path: Path | None
    screenshot_sha256: str | None
    duration_ms: float
    started_at: datetime
    error: str | None = None  # navigation failed (timeout, refused)
    loaded_requests: tuple[str, ...] = field(default_factory=tuple)
    error_stacks: tuple[str, ...] = field(default_factory=tuple)  # each uncaught exception with its stack


class BrowserExecutor:
    """Visits pages in headless Chromium; one browser per visit, so visits share no state."""

    def __init__(self, chromium_path: Path = Path("/usr/bin/chromium"), *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 clock: Clock = utc_now) -> None:
        self.chromium_path = chromium_path
        self.timeout_s = timeout_s
        self._clock = clock

    async def visit(self, url: str, screenshot_path: Path | None = None) -> PageVisit:
        """Open `url`, wait for the network to settle (bounded), collect what went wrong."""
        try:
            from playwright.async_api import ConsoleMessage, Request, Response, async_playwright
            from playwright.async_api import Error as PlaywrightError
        except ImportError as exc:
            raise ExecutionError(f"playwright for Python is not installed: {exc}") from None
        if not self.chromium_path.exists():
            raise ExecutionError(f"chromium not found at {self.chromium_path}")
        started_at, start = self._clock(), time.monotonic()
        console: list[str] = []
        page_errors: list[str] = []
        stacks: list[str] = []
        failed: list[FailedRequest] = []
        loaded: list[str] = []
        status: int | None = None
        title = body = ""
        shot_sha: str | None = None
        error: str | None = None
        timeout_ms = self.timeout_s * 1000
        with tempfile.TemporaryDirectory(prefix="support-mcp-chromium-") as profile:
            try:
                async with async_playwright() as pw:
                    context = await pw.chromium.launch_persistent_context(
                        profile, executable_path=str(self.chromium_path), headless=True, args=list(CHROMIUM_ARGS),
                        timeout=timeout_ms, viewport={"width": 1280, "height": 800},
                    )
                    try:
                        page = await context.new_page()
                        def on_console(message: ConsoleMessage) -> None:
                            # The browser asks for /favicon.ico by itself; a site without one is no
                            # fault of the page (an icon the page links is judged by the assets check).
                            source = urlsplit(str((message.location or {}).get("url") or "")).path
                            if message.type == "error" and len(console) < MAX_EVENTS and source != "/favicon.ico":
                                console.append(message.text)

                        def on_page_error(exc: PlaywrightError) -> None:
                            page_errors.append(str(exc)[:500])
                            if len(stacks) < MAX_EVENTS:
                                stacks.append((exc.stack or str(exc))[:4000])

                        def on_request_failed(request: Request) -> None:
                            if len(failed) < MAX_EVENTS:
                                failed.append(FailedRequest(request.url, request.resource_type, None,
                                                            request.failure or "failed"))

                        def on_response(response: Response) -> None:
                            if len(loaded) < MAX_EVENTS:
                                loaded.append(response.url)
                            if response.status >= 400 and len(failed) < MAX_EVENTS:
                                failed.append(FailedRequest(response.url, response.request.resource_type,
                                                            response.status, response.status_text))

                        page.on("console", on_console)
                        page.on("pageerror", on_page_error)
                        page.on("requestfailed", on_request_failed)
                        page.on("response", on_response)
                        try:
                            response = await page.goto(url, wait_until="load", timeout=timeout_ms)
                            status = response.status if response else None
                            with contextlib.suppress(PlaywrightError):
                                await page.wait_for_load_state("networkidle", timeout=min(timeout_ms, 5000))
                        except PlaywrightError as exc:
                            error = str(exc).splitlines()[0][:300]
                            # Chromium refuses an error answer without a body (a proxy's bare 502)
                            # as ERR_HTTP_RESPONSE_CODE_FAILURE: the status is the document's answer
                            status = next((f.status for f in failed if f.url.rstrip("/") == url.rstrip("/") and f.status is not None
                                           and f.resource_type == "document"), None)
                        title = await page.title()
                        body = (await page.inner_text("body"))[:4000] if error is None else ""
                        if screenshot_path is not None:
                            screenshot_path.parent.mkdir(parents=True, exist_ok=True)
                            png = await page.screenshot(path=str(screenshot_path), full_page=True)
                            shot_sha = hashlib.sha256(png).hexdigest()
                    finally:
                        await asyncio.wait_for(context.close(), timeout=10)
            except PlaywrightError as exc:
                raise ExecutionError(f"chromium could not open {url}: {str(exc).splitlines()[0]}") from exc
            except TimeoutError as exc:
                raise ExecutionError(f"chromium did not close within 10 s after visiting {url}") from exc
        return PageVisit(
            url=url, status=status, title=title, console_errors=tuple(console), failed_requests=tuple(failed),
            page_errors=tuple(page_errors), body_text=body,
            screenshot_path=screenshot_path if shot_sha else None, screenshot_sha256=shot_sha,
            duration_ms=(time.monotonic() - start) * 1000.0, started_at=started_at, error=error,
            loaded_requests=tuple(loaded), error_stacks=tuple(stacks),
        )
