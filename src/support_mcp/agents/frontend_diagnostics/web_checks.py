"""Frontend checks of playbook 4.1 "Assets & CSP" and 4.2 "Verifikation" against the running app:
the CSP `next.config.js` declares against the served header and the page's resources, every asset
the page loads, and a headless-Chromium smoke test with a screenshot for the ticket."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support_mcp.agents.base import CheckContext
from support_mcp.agents.frontend_diagnostics import bundles, parsers, web
from support_mcp.agents.frontend_diagnostics.checks import FrontendCheck, hotfix_hint
from support_mcp.agents.frontend_diagnostics.session import (
    Failed,
    error_finding,
    http_get,
    lines,
)
from support_mcp.agents.frontend_diagnostics.texts import text
from support_mcp.domain.errors import ExecutionError, InvalidInput
from support_mcp.domain.models import CheckStatus, Finding
from support_mcp.executors.base import CommandResult
from support_mcp.executors.browser import BrowserExecutor, PageVisit
from support_mcp.policy import npm_commands
from support_mcp.policy.commands import Operation


async def _page_assets(check: FrontendCheck, ctx: CheckContext, title: str) -> list[tuple[str, list[web.Asset]]]:
    """Each configured page with what it loads; an unreachable page is a Failed error finding."""
    found = []
    for url in check.session.page_urls():
        response = await http_get(ctx, check.session.http, url)
        if response.status is None:
            raise Failed(error_finding(check.name, text(ctx.language, "error.http", title=title, url=url,
                                                        error=response.error), None, []))
        found.append((url, web.page_assets(response.text(), url)))
    return found


# Where a Next.js app sets its CSP when not in next.config's headers(): its middleware (Next 16: proxy).
CSP_SOURCES = tuple(f"{folder}{name}.{ext}" for folder in ("", "src/") for name in ("proxy", "middleware")
                    for ext in ("ts", "js", "mjs"))


def csp_source(workspace: Path) -> str | None:
    """The middleware/proxy file of the project that sets a Content-Security-Policy header, if any."""
    for rel in CSP_SOURCES:
        path = workspace / rel
        if path.is_file() and "content-security-policy" in path.read_text(errors="replace")[:200_000].lower():
            return rel
    return None


class CspCheck(FrontendCheck):
    """The CSP of `next.config.*` (read by a node subprocess in the workspace) — or, when the
    config declares none, of the project's middleware/proxy file — against the live response
    header, and which resource of the page the served policy blocks; findings name the file."""

    name = "frontend.csp"
    tools: Sequence[str] = ("node", "curl")
    _key = "csp.title"
    title = text("de", _key)
    needs_url = True

    async def _run(self, ctx: CheckContext, title: str) -> list[Finding]:
        lang = ctx.language
        workspace = await self.session.workspace(ctx, self.name, title)
        output = await self.session.next_headers(ctx, self.name, title)
        try:
            declared = web.csp_from_next_headers(output)
        except InvalidInput as exc:
            raise Failed(error_finding(self.name, text(lang, "error.parse", title=title),
                                       npm_commands.read_next_headers(str(workspace.path)), [str(exc)])) from None
        config = _config_name(output)
        if declared is None:  # not in next.config: the middleware/proxy may set it per request
            config = csp_source(workspace.path) or config
        findings: list[Finding] = []
        checked = 0
        for url in self.session.page_urls():
            response = await http_get(ctx, self.session.http, url)
            if response.status is None:
                raise Failed(error_finding(self.name, text(lang, "error.http", title=title, url=url,
                                                           error=response.error), None, []))
            live = response.header("content-security-policy")
            if declared is None and live is None:
                findings.append(Finding(check=self.name, status=CheckStatus.WARN,
                                        title=text(lang, "csp.missing", config=config), data={"page": url}))
                continue
            if declared is not None and live is not None and web.parse_csp(declared) != web.parse_csp(live):
                findings.append(Finding(check=self.name, status=CheckStatus.WARN,
                                        title=text(lang, "csp.differs", config=config),
                                        evidence=[f"{config}: {declared}", f"response: {live}"],
                                        data={"declared": declared, "live": live, "page": url}))
            policy = web.parse_csp(live or declared or "")
            for asset in web.page_assets(response.text(), url):
                checked += 1
                if web.allows(policy, asset.kind, asset.url, url):
                    continue
                directive = web.governing_directive(policy, asset.kind) or "?"
                findings.append(Finding(
                    check=self.name, status=CheckStatus.FAIL,
                    title=text(lang, "csp.blocked", kind=asset.kind, url=asset.reference, directive=directive),
                    detail=text(lang, "csp.blocked_detail", page=url, sources=" ".join(policy.get(directive, ())),
                                config=config),
                    evidence=[f"Content-Security-Policy: {live or declared}"],
                    data={"page": url, "asset": asset.url, "kind": asset.kind, "directive": directive,
                          "allowed": list(policy.get(directive, ())), "declared": declared, "live": live,
                          "file": config},
                ))
        if findings:
            return findings
        return [Finding(check=self.name, status=CheckStatus.OK, title=text(lang, "csp.ok", count=checked, config=config),
                        evidence=[f"Content-Security-Policy: {declared}"], data={"declared": declared})]


def _config_name(output: str) -> str:
    """The config file the header reader loaded (`next.config.mjs`, …), `next.config.js` by default."""
    try:
        name = json.loads(output).get("config")
    except (ValueError, AttributeError):
        return "next.config.js"
    return name if isinstance(name, str) and name.startswith("next.config.") else "next.config.js"


class HeadersCheck(FrontendCheck):
    """Every header `headers()` of next.config declares against the live response of each page; a
    header missing or different is explained by the deployed build's `.next/routes-manifest.json`
    (where `next build` baked the headers in): not there → the running build is older than the
    config (`stale_build`, a rebuild and deploy fixes it); there → lost on the way (a proxy)."""

    name = "frontend.headers"
    tools: Sequence[str] = ("node", "curl")
    _key = "headers.title"
    title = text("de", _key)
    needs_url = True

    async def _run(self, ctx: CheckContext, title: str) -> list[Finding]:
        lang = ctx.language
        target = self.session.target
        assert target is not None
        output = await self.session.next_headers(ctx, self.name, title)
        config = _config_name(output)
        try:
            rules = json.loads(output).get("headers") or []
        except (ValueError, AttributeError):
            rules = []
        built = _deployed_build(target.deploy_dir)
        missing: dict[str, dict[str, Any]] = {}
        count = 0
        for url in self.session.page_urls():
            path = urlsplit(url).path or "/"
            declared = web.declared_headers(rules, path)
            if not declared:
                continue
            count = max(count, len(declared))
            response = await http_get(ctx, self.session.http, url)
            if response.status is None:
                raise Failed(error_finding(self.name, text(lang, "error.http", title=title, url=url,
                                                           error=response.error), None, []))
            in_build = web.declared_headers(built["rules"], path) if built else {}
            for name in web.header_differences(declared, response.headers):
                entry = missing.setdefault(name, {"name": declared[name][0], "declared": declared[name][1],
                                                  "live": response.header(name), "pages": [],
                                                  "in_build": name in in_build
                                                  and not web.header_differences({name: declared[name]},
                                                                                 {name: in_build[name][1]})})
                entry["pages"].append(url)
        if not rules:
            return [Finding(check=self.name, status=CheckStatus.OK, title=text(lang, "headers.none", config=config),
                            data={"file": config, "declared": 0})]
        if not missing:
            return [Finding(check=self.name, status=CheckStatus.OK,
                            title=text(lang, "headers.ok", count=count, config=config,
                                       pages=len(self.session.page_urls())), data={"file": config, "declared": count})]
        evidence = [f"{e['name']}: {config}: {e['declared']!r}, live: {e['live']!r}" for e in missing.values()]
        data: dict[str, Any] = {"file": config, "headers": list(missing.values())}
        findings = []
        stale = [e["name"] for e in missing.values() if built and not e["in_build"]]
        lost = [e["name"] for e in missing.values() if built and e["in_build"]]
        if stale:
            source = target.source_dir / config
            changed = _mtime(source)
            findings.append(Finding(
                check=self.name, status=CheckStatus.FAIL,
                title=text(lang, "headers.stale", config=config, names=", ".join(stale)),
                detail=text(lang, "headers.stale_detail", config=config, changed=changed or "?",
                            build_id=built["build_id"] if built else "?", built=built["built"] if built else "?"),
                evidence=evidence, data={**data, "kind": "stale_build", "build_id": built["build_id"] if built else None,
                                         "built_at": built["built"] if built else None, "config_changed_at": changed}))
        if lost:
            findings.append(Finding(check=self.name, status=CheckStatus.WARN,
                                    title=text(lang, "headers.lost", config=config, names=", ".join(lost)),
                                    evidence=evidence, data={**data, "kind": "header_lost"}))
        if not built:
            findings.append(Finding(check=self.name, status=CheckStatus.WARN,
                                    title=text(lang, "headers.missing", config=config,
                                               names=", ".join(e["name"] for e in missing.values())),
                                    evidence=evidence, data={**data, "kind": "header_missing"}))
        return findings


def _deployed_build(deploy_dir: Path | None) -> dict[str, Any] | None:
    """The header rules, BUILD_ID and build time of the deployed `.next`; None when not readable."""
    if deploy_dir is None:
        return None
    try:
        manifest = json.loads((deploy_dir / ".next" / "routes-manifest.json").read_text("utf-8"))
        build_id = (deploy_dir / ".next" / "BUILD_ID").read_text("utf-8").strip()[:100]
    except (OSError, ValueError):
        return None
    rules = manifest.get("headers") if isinstance(manifest, dict) else None
    return {"rules": rules if isinstance(rules, list) else [], "build_id": build_id,
            "built": _mtime(deploy_dir / ".next" / "BUILD_ID")}


def _mtime(path: Path) -> str | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except OSError:
        return None


class AssetsCheck(FrontendCheck):
    """Every script, stylesheet, image and font of the pages fetched; 4xx/5xx are findings."""

    name = "frontend.assets"
    tools: Sequence[str] = ("curl",)
    _key = "assets.title"
    title = text("de", _key)
    needs_url = True

    async def _run(self, ctx: CheckContext, title: str) -> list[Finding]:
        lang = ctx.language
        findings: list[Finding] = []
        count = 0
        for page, assets in await _page_assets(self, ctx, title):
            queue = list(assets)
            seen: set[str] = set()
            while queue:
                asset = queue.pop(0)
                if asset.url in seen:
                    continue
                seen.add(asset.url)
                count += 1
                response = await http_get(ctx, self.session.http, asset.url)
                if response.status is not None and response.status < 400:
                    if asset.kind == "style":
                        queue.extend(web.stylesheet_fonts(response.text(), asset.url))
                    continue
                findings.append(Finding(
                    check=self.name, status=CheckStatus.FAIL,
                    title=text(lang, "assets.broken", url=asset.url, status=response.status or response.error,
                               kind=asset.kind, reference=asset.reference),
                    detail=page,
                    data={"page": page, "asset": asset.url, "kind": asset.kind, "reference": asset.reference,
                          "status": response.status, "error": response.error},
                ))
        return findings or [Finding(check=self.name, status=CheckStatus.OK, title=text(lang, "assets.ok", count=count),
                                    data={"assets": count})]


class SmokeCheck(FrontendCheck):
    """Headless Chromium opens each page: console errors, failed requests, a screenshot PNG whose
    path and sha256 go into the finding (and so into the ticket note's metadata)."""

    name = "frontend.smoke"
    tools: Sequence[str] = ("chromium",)
    _key = "smoke.title"
    title = text("de", _key)
    needs_url = True
    _source_cache: dict[str, str] | None = None

    async def _run(self, ctx: CheckContext, title: str) -> list[Finding]:
        lang = ctx.language
        target = self.session.target
        assert target is not None
        browser = BrowserExecutor(target.chromium_path)
        shots = (target.workspace_dir or target.source_dir.parent) / "screenshots" / str(ctx.ticket_id)
        self._source_cache = None  # read again on each run: a hotfix may have changed them
        findings = []
        for index, url in enumerate(self.session.page_urls()):
            path = shots / f"{uuid.uuid4().hex[:8]}-{index}-{re.sub(r'[^A-Za-z0-9]+', '_', url)[-60:]}.png"
            try:
                visit = await browser.visit(url, path)
            except ExecutionError as exc:
                raise Failed(error_finding(self.name, text(lang, "error.start", title=title), None, [str(exc)])) from None
            await _record_visit(ctx, visit)
            findings.append(_judge_visit(self.name, lang, visit))
            findings += await self._client_errors(ctx, visit)
        return findings

    async def _client_errors(self, ctx: CheckContext, visit: PageVisit) -> list[Finding]:
        """Each distinct exception thrown in the browser, traced from its stack to the source file:
        by the chunk's source map where one is served, else by the chunk's words (bundles.py)."""
        target = self.session.target
        assert target is not None
        lang = ctx.language
        findings: list[Finding] = []
        seen: set[str] = set()
        for raw in [*visit.error_stacks, *visit.console_errors]:
            error = bundles.parse_client_error(raw)
            if error is None or error.message in seen or len(seen) >= MAX_CLIENT_ERRORS:
                continue
            seen.add(error.message)
            located = await self._locate(ctx, error, self._sources(target.source_dir))
            top = error.frames[0]
            where = f"{urlsplit(top.url).path}:{top.line}:{top.column}"
            data: dict[str, Any] = {"kind": "client_exception", "page": visit.url, "message": error.message,
                                    "chunk": urlsplit(top.url).path, "frames": [f"{f.url}:{f.line}:{f.column}"
                                                                                for f in error.frames[:5]]}
            if located is None:
                findings.append(Finding(check=self.name, status=CheckStatus.FAIL,
                                        title=text(lang, "smoke.client_error_unknown", page=visit.url,
                                                   message=error.message, where=where),
                                        evidence=raw.splitlines()[:6], data={**data, "file": None, "source": None}))
                continue
            file, line, method, words = located
            findings.append(Finding(
                check=self.name, status=CheckStatus.FAIL,
                title=text(lang, "smoke.client_error", page=visit.url, message=error.message, source=f"{file}:{line}"),
                detail=hotfix_hint(ctx, file, text(lang, "smoke.client_error_detail", where=where,
                                                   method=text(lang, f"smoke.method.{method}"))),
                evidence=raw.splitlines()[:6],
                data={**data, "file": file, "source": f"{file}:{line}", "method": method, "words": list(words[:8])},
            ))
        return findings

    def _sources(self, root: Path) -> dict[str, str]:
        """The project's sources, read once per run however many pages throw."""
        if self._source_cache is None:
            self._source_cache = project_sources(root)
        return self._source_cache

    async def _locate(self, ctx: CheckContext, error: bundles.ClientError,
                      sources: dict[str, str]) -> tuple[str, int, str, tuple[str, ...]] | None:
        """(file, line, method, words) of the first of the top frames that can be traced."""
        target = self.session.target
        assert target is not None
        base = urlsplit(target.base_url or "")
        for frame in error.frames[:MAX_FRAMES]:
            url = urlsplit(frame.url)
            if (url.scheme, url.netloc) != (base.scheme, base.netloc):
                continue  # a third-party script: not this project's source
            public = "public" + url.path
            if not url.path.startswith("/_next/") and public in sources:
                return public, frame.line, "public", ()
            source_map = await http_get(ctx, self.session.http, frame.url + ".map")
            if source_map.status == 200:
                try:
                    original = parsers.original_position(parsers.load_source_map(source_map.text()), frame.line,
                                                         frame.column)
                except InvalidInput:
                    original = None
                if original is not None:
                    return parsers.project_path(original[0]), original[1], "map", ()
            chunk = await http_get(ctx, self.session.http, frame.url)
            if chunk.status != 200:
                continue
            match = bundles.locate_in_bundle(chunk.text(), frame.line, frame.column, sources, error.message)
            if match is not None:
                return match.file, match.line, "words", match.words
        return None


MAX_CLIENT_ERRORS = 5  # distinct exceptions traced per page
MAX_FRAMES = 3  # of each stack, the top frames tried
MAX_SOURCE_FILES = 5000
MAX_SOURCE_BYTES = 300_000
SOURCE_SUFFIXES = frozenset({".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"})
SKIPPED_FOLDERS = frozenset({"node_modules", ".next", ".git", "dist", "build", "out", "coverage", ".turbo"})


def project_sources(root: Path) -> dict[str, str]:
    """The project's script sources (project-relative path → text), at most `MAX_SOURCE_FILES`
    files of at most `MAX_SOURCE_BYTES` each; build output and dependencies left out."""
    found: dict[str, str] = {}
    for path in sorted(_walk(root)):
        if len(found) >= MAX_SOURCE_FILES:
            break
        try:
            if path.stat().st_size <= MAX_SOURCE_BYTES:
                found[path.relative_to(root).as_posix()] = path.read_text("utf-8", errors="replace")
        except OSError:
            continue
    return found


def _walk(folder: Path) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    files = [e for e in entries if e.suffix in SOURCE_SUFFIXES and not e.is_symlink() and e.is_file()]
    for sub in entries:
        if sub.is_dir() and not sub.is_symlink() and sub.name not in SKIPPED_FOLDERS:
            files += _walk(sub)
    return files


def _judge_visit(check: str, lang: Any, visit: PageVisit) -> Finding:
    data: dict[str, Any] = {
        "page": visit.url, "status": visit.status, "title": visit.title,
        "console_errors": list(visit.console_errors)[:20], "page_errors": list(visit.page_errors)[:10],
        "failed_requests": [{"url": r.url, "type": r.resource_type, "status": r.status, "reason": r.reason}
                            for r in visit.failed_requests][:20],
        "csp_violations": [v.__dict__ for v in web.parse_csp_violations(list(visit.console_errors))],
        "digests": _digests(visit),
        "attachments": [{"kind": "screenshot", "path": str(visit.screenshot_path), "sha256": visit.screenshot_sha256,
                         "media_type": "image/png"}] if visit.screenshot_path else [],
    }
    if visit.error:
        error = f"HTTP {visit.status} ({visit.error})" if visit.status else visit.error
        return Finding(check=check, status=CheckStatus.FAIL, title=text(lang, "smoke.nav", page=visit.url,
                                                                         error=error), data=data)
    bad = (visit.status or 0) >= 400 or visit.page_errors or visit.console_errors or visit.failed_requests
    if not bad:
        return Finding(check=check, status=CheckStatus.OK, title=text(lang, "smoke.ok", page=visit.url,
                                                                       status=visit.status), data=data)
    return Finding(check=check, status=CheckStatus.FAIL,
                   title=text(lang, "smoke.failed", page=visit.url, status=visit.status,
                              errors=len(visit.console_errors) + len(visit.page_errors),
                              failed=len(visit.failed_requests)),
                   evidence=[*visit.console_errors[:5], *visit.page_errors[:3],
                             *(f"{r.status or r.reason} {r.url}" for r in visit.failed_requests[:5])],
                   data=data)


def _digests(visit: PageVisit) -> list[str]:
    from support_mcp.agents.frontend_diagnostics.parsers import find_digests

    return find_digests(visit.body_text)


async def _record_visit(ctx: CheckContext, visit: PageVisit) -> None:
    """The browser visit on the ticket like a command, with the screenshot's path and sha256."""
    op = Operation(name="browser_visit", argv=("chromium", "--headless", visit.url), target="frontend-browser",
                   timeout_s=30.0)
    out = [f"HTTP {visit.status} {visit.title!r}", *(f"console: {c}" for c in visit.console_errors[:10]),
           *(f"failed: {r.status or r.reason} {r.url}" for r in visit.failed_requests[:10])]
    if visit.screenshot_path:
        out.append(f"screenshot: {visit.screenshot_path} sha256={visit.screenshot_sha256}")
    await ctx.record(ctx.agent, op, CommandResult(
        target=op.target, argv=op.argv, exit_code=0 if visit.error is None else 1, stdout="\n".join(lines("\n".join(out), 40)),
        stderr=visit.error or "", duration_ms=visit.duration_ms, started_at=visit.started_at))
