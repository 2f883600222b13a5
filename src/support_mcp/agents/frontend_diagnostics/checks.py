"""Frontend checks of playbook 4.1 that run the project's own tooling in a workspace copy:
build (with errors as file, line, message, kind), lint, tests, and digest errors (a digest on a
page or in the server log, traced to the chunk under `.next/server/chunks` and its source file).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from support_mcp.agents.base import Check, CheckContext
from support_mcp.agents.frontend_diagnostics import parsers, resolve
from support_mcp.agents.frontend_diagnostics.session import (
    Failed,
    FrontendSession,
    execute,
    http_get,
    lines,
)
from support_mcp.agents.frontend_diagnostics.texts import seconds, text
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import CheckStatus, Finding, Language
from support_mcp.policy import npm_commands


def hotfix_hint(ctx: CheckContext, file: str | None, detail: str = "") -> str:
    """`detail`, plus the next step a finding that names a file calls for: someone supplies the patch
    (the agent does not write it) and plans it as `frontend.hotfix_deploy`."""
    if not file:
        return detail
    hint = text(ctx.language, "hotfix.hint", file=file, ticket=ctx.ticket_id)
    return f"{detail} — {hint}" if detail else hint


def _file_of(location: str | None, root: str = "") -> str | None:
    """`app/x.tsx` of `app/x.tsx:12`, `app/x.tsx:12:3` or `<root>/app/x.tsx:12:3`."""
    if not location:
        return None
    path = location.removeprefix("file://").split(":", 1)[0]
    return path.removeprefix(root.rstrip("/") + "/") if root else path or None


class FrontendCheck:
    """Shared plumbing: title in both languages, skip without a target, Failed → finding."""

    name = ""
    title = ""
    tools: Sequence[str] = ()
    _key = ""
    needs_url = False

    def __init__(self, session: FrontendSession) -> None:
        self.session = session

    def title_for(self, language: Language) -> str:
        return text(language, self._key)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        """Skip without a configured frontend; otherwise probe and judge (`_run`)."""
        title = self.title_for(ctx.language)
        target = self.session.target
        if target is None:
            return [Finding(check=self.name, status=CheckStatus.SKIPPED, title=text(ctx.language, "no_target", title=title))]
        if self.needs_url and not target.base_url:
            return [Finding(check=self.name, status=CheckStatus.SKIPPED, title=text(ctx.language, "no_url", title=title))]
        try:
            return await self._run(ctx, title)
        except Failed as exc:
            return [exc.finding]

    async def _run(self, ctx: CheckContext, title: str) -> list[Finding]:
        raise NotImplementedError


class BuildCheck(FrontendCheck):
    """`npm run build` in the workspace; each error with file, line, message and kind."""

    name = "frontend.build"
    tools: Sequence[str] = ("npm",)
    _key = "build.title"
    title = text("de", _key)

    async def _run(self, ctx: CheckContext, title: str) -> list[Finding]:
        lang = ctx.language
        build = await self.session.build(ctx, self.name, title)
        result = build.result
        report = parsers.parse_next_build(result.stdout, result.stderr, result.exit_code)
        facts: dict[str, Any] = {"exit_code": result.exit_code, "duration_ms": round(result.duration_ms),
                                 "workspace": str(build.workspace.path), "next_version": report.next_version}
        detail = text(lang, "build.detail", code=result.exit_code, seconds=seconds(result.duration_ms, lang),
                      workspace=build.workspace.path)
        if report.succeeded:
            return [Finding(check=self.name, status=CheckStatus.OK,
                            title=text(lang, "build.ok", seconds=seconds(result.duration_ms, lang),
                                       routes=len(report.routes)),
                            detail=detail, evidence=list(report.routes), data={**facts, "routes": list(report.routes)})]
        findings = []
        output = parsers.strip_ansi(result.stdout + "\n" + result.stderr)
        for error in report.errors:
            where = f"{error.file}:{error.line}:{error.column}" if error.file else (error.code or "?")
            title_ = text(lang, "build.error", kind=error.kind, where=where, message=error.message)
            case: dict[str, Any] = {}
            if error.kind == "module_not_found" and (found := resolve.case_mismatch(build.workspace.path, error.file,
                                                                                     error.message)):
                case = {"specifier": found[0], "actual": found[1]}
                title_ = text(lang, "build.case", title=title_, actual=found[1], spec=found[0])
            findings.append(Finding(
                check=self.name, status=CheckStatus.FAIL,
                title=title_,
                detail=hotfix_hint(ctx, error.file, detail),
                evidence=[ln for ln in lines(output, 200) if error.message[:40] in ln or (error.file or "\0") in ln][:10],
                data={**facts, "kind": error.kind, "file": error.file, "line": error.line, "column": error.column,
                      "message": error.message, "code": error.code, **case},
            ))
        return findings


class _ScriptCheck(FrontendCheck):
    script = ""

    async def _output(self, ctx: CheckContext, title: str) -> tuple[str, int | None, str] | Finding:
        workspace = await self.session.workspace(ctx, self.name, title)
        if self.script not in workspace.scripts:
            return Finding(check=self.name, status=CheckStatus.SKIPPED,
                           title=text(ctx.language, "no_script", title=title, script=self.script))
        op = npm_commands.npm_run(self.script, str(workspace.path), workspace.scripts, timeout_s=180.0)
        result = await execute(ctx, op, self.name, title, allow_failure=True)
        return result.stdout + "\n" + result.stderr, result.exit_code, str(workspace.path)


class LintCheck(_ScriptCheck):
    """`npm run lint` (where package.json has it): each ESLint error as a finding."""

    name = "frontend.lint"
    tools: Sequence[str] = ("npm", "eslint")
    _key = "lint.title"
    title = text("de", _key)
    script = "lint"

    async def _run(self, ctx: CheckContext, title: str) -> list[Finding]:
        lang = ctx.language
        out = await self._output(ctx, title)
        if isinstance(out, Finding):
            return [out]
        output, code, root = out
        problems = parsers.parse_eslint(output, root)
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity == "warning"]
        if code not in (0, None) and not errors:
            return [Finding(check=self.name, status=CheckStatus.ERROR,
                            title=text(lang, "error.exit", title=title, code=code), evidence=lines(output))]
        findings = [Finding(
            check=self.name, status=CheckStatus.FAIL,
            title=text(lang, "lint.error", where=f"{p.file}:{p.line}:{p.column}", message=p.message, rule=p.rule),
            detail=hotfix_hint(ctx, p.file),
            evidence=[f"{p.file}:{p.line}:{p.column} {p.severity} {p.message} {p.rule}"],
            data={"file": p.file, "line": p.line, "column": p.column, "rule": p.rule, "message": p.message},
        ) for p in errors]
        if findings:
            return findings
        status = CheckStatus.WARN if warnings else CheckStatus.OK
        return [Finding(check=self.name, status=status, title=text(lang, "lint.ok", warnings=len(warnings)),
                        evidence=[f"{p.file}:{p.line} {p.message} ({p.rule})" for p in warnings][:10],
                        data={"warnings": len(warnings), "exit_code": code})]


class TestCheck(_ScriptCheck):
    """`npm run test` (where package.json has it): failing tests with location and assertion, from
    node:test (TAP), vitest or jest output."""

    __test__ = False
    name = "frontend.test"
    tools: Sequence[str] = ("npm",)
    _key = "test.title"
    title = text("de", _key)
    script = "test"

    async def _run(self, ctx: CheckContext, title: str) -> list[Finding]:
        lang = ctx.language
        out = await self._output(ctx, title)
        if isinstance(out, Finding):
            return [out]
        output, code, root = out
        try:
            report = parsers.parse_test_output(output)
        except InvalidInput:
            status = CheckStatus.OK if code == 0 else CheckStatus.FAIL
            return [Finding(check=self.name, status=status, title=text(lang, "error.exit", title=title, code=code)
                            if code else text(lang, "test.ok", total="?"), evidence=lines(output)[-10:],
                            data={"exit_code": code})]
        if report.failed == 0 and code == 0:
            return [Finding(check=self.name, status=CheckStatus.OK, title=text(lang, "test.ok", total=report.total),
                            data={"total": report.total, "passed": report.passed})]
        return [Finding(check=self.name, status=CheckStatus.FAIL,
                        title=text(lang, "test.failed", name=f.name, where=f.location or "?"),
                        detail=hotfix_hint(ctx, _file_of(f.location, root), f.error), evidence=[f.error[:300]],
                        data={"test": f.name, "location": f.location, "total": report.total,
                              "failed": report.failed}) for f in report.failures] or [
            Finding(check=self.name, status=CheckStatus.FAIL, title=text(lang, "error.exit", title=title, code=code),
                    evidence=lines(output)[-10:])]


class DigestCheck(FrontendCheck):
    """Digests on the pages and in the server log, each traced to its error message, the chunk
    under `.next/server/chunks` and (through the chunk's source map) the source file."""

    name = "frontend.digest"
    tools: Sequence[str] = ("curl", "next")
    _key = "digest.title"
    title = text("de", _key)
    needs_url = True

    async def _run(self, ctx: CheckContext, title: str) -> list[Finding]:
        lang = ctx.language
        target = self.session.target
        assert target is not None
        on_pages: dict[str, list[str]] = {}
        for url in self.session.page_urls():
            response = await http_get(ctx, self.session.http, url)
            for digest in parsers.find_digests(response.text()):
                on_pages.setdefault(digest, []).append(url)
        log = _read_tail(target.server_log)
        errors = {e.digest: e for e in parsers.parse_server_errors(log) if e.digest}
        server_dir = target.deploy_dir or target.source_dir
        # A digest the customer quoted (screenshot, log) goes first; it may come from an older build.
        quoted = parsers.find_digests(ctx.ticket_text)
        digests = list(dict.fromkeys([*quoted, *on_pages, *errors]))
        if not digests:
            return [Finding(check=self.name, status=CheckStatus.OK,
                            title=text(lang, "digest.none", pages=len(self.session.page_urls())),
                            data={"digests": [], "server_log": str(target.server_log) if target.server_log else None})]
        findings = []
        for digest in digests:
            pages = on_pages.get(digest, [])
            error = errors.get(digest)
            if error is None and digest in quoted and not pages:
                findings.append(Finding(check=self.name, status=CheckStatus.WARN,
                                        title=text(lang, "digest.quoted_unknown", digest=digest),
                                        data={"digest": digest, "quoted_by_customer": True, "digests": digests}))
                continue
            if error is None:
                findings.append(Finding(check=self.name, status=CheckStatus.FAIL,
                                        title=text(lang, "digest.unmatched", digest=digest, page=", ".join(pages)),
                                        data={"digest": digest, "pages": pages}))
                continue
            chunk, source = locate(error, server_dir)
            where = source or chunk or "?"
            findings.append(Finding(
                check=self.name, status=CheckStatus.FAIL,
                title=text(lang, "digest.found", digest=digest, message=error.message, where=where),
                detail=hotfix_hint(ctx, _file_of(source),
                                   text(lang, "digest.detail", chunk=chunk or "?", pages=", ".join(pages) or "-")),
                evidence=[error.message, *error.frames[:5]],
                data={"digest": digest, "message": error.message, "chunk": chunk, "source": source, "pages": pages,
                      "digests": digests, "quoted_by_customer": digest in quoted},
            ))
        return findings


def locate(error: parsers.ServerError, server_dir: Path) -> tuple[str | None, str | None]:
    """(chunk, `file:line` of the source) of the first stack frame inside `.next/server`."""
    for frame in error.frames:
        loc = parsers.frame_location(frame)
        if loc is None:
            continue
        chunk, line, column = loc
        map_file = server_dir / (chunk + ".map")
        try:
            source_map = parsers.load_source_map(map_file.read_text("utf-8"))
        except (OSError, InvalidInput):
            return chunk, None
        original = parsers.original_position(source_map, line, column)
        if original is None:
            return chunk, None
        return chunk, f"{parsers.project_path(original[0])}:{original[1]}"
    return None, None


def _read_tail(path: Path | None, limit: int = 1_048_576) -> str:
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def frontend_checks(session: FrontendSession) -> tuple[Check, ...]:
    """All checks of the agent over one shared session (build runs once)."""
    from support_mcp.agents.frontend_diagnostics.web_checks import (
        AssetsCheck,
        CspCheck,
        HeadersCheck,
        SmokeCheck,
    )

    return (BuildCheck(session), LintCheck(session), TestCheck(session), DigestCheck(session),
            CspCheck(session), HeadersCheck(session), AssetsCheck(session), SmokeCheck(session))
