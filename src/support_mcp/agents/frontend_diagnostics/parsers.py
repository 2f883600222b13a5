"""Pure parsers for the output of `next build` (Turbopack and tsc formats), ESLint (stylish),
the node:test TAP reporter, `next start` error logs with digests, and server source maps.

Every function takes text and returns values; nothing here runs a command.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from support_mcp.domain.errors import InvalidInput

BuildErrorKind = Literal["type_error", "module_not_found", "syntax", "prerender", "other"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """Remove colour codes (Turbopack prints them even without a terminal)."""
    return _ANSI.sub("", text)


@dataclass(frozen=True)
class BuildError:
    """One error of `next build`: where (file, line, column), what, and which kind."""

    kind: BuildErrorKind
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    code: str | None = None  # TS2322, a route for prerender errors


@dataclass(frozen=True)
class BuildReport:
    succeeded: bool
    errors: tuple[BuildError, ...]
    next_version: str | None = None
    routes: tuple[str, ...] = ()


_TSC = re.compile(r"^(?P<file>[^\s()]+)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.+)$")
_WEBPACK_TYPE = re.compile(r"^Type error: (?P<msg>.+)$")
_LOCATION = re.compile(r"^(?:\./)?(?P<file>[\w@.\-/\[\]()]+\.(?:tsx?|jsx?|mjs|cjs|css|json)):(?P<line>\d+):(?P<col>\d+)$")
_ERROR_LINE = re.compile(r"^(?:Error: )?(?P<msg>(Module not found|Parsing ecmascript source code failed|"
                         r"Expected |Unexpected |Unterminated |Syntax ?Error).*)$")
_PRERENDER = re.compile(r'^Error occurred prerendering page "(?P<route>[^"]+)"')
_SOURCE_FRAME = re.compile(r"^at .*\((?P<file>(?!\.next/)[\w@.\-/\[\]]+\.(?:tsx?|jsx?)):(?P<line>\d+):(?P<col>\d+)\)")
_VERSION = re.compile(r"Next\.js (\d+\.\d+\.\d+)")
_ROUTE = re.compile(r"^[┌├└]\s+[ƒ○●λ]\s+(\S+)")


def _kind_of(message: str) -> BuildErrorKind:
    lower = message.lower()
    if "module not found" in lower or "can't resolve" in lower:
        return "module_not_found"
    if any(s in lower for s in ("parsing", "syntax", "expected", "unexpected", "unterminated")):
        return "syntax"
    return "other"


def parse_next_build(stdout: str, stderr: str, exit_code: int | None) -> BuildReport:
    """Errors of a `next build` run, from both streams (the order Next prints them in)."""
    lines = [ln.rstrip() for ln in strip_ansi(stdout + "\n" + stderr).splitlines()]
    errors: list[BuildError] = []
    pending_location: tuple[str, int, int] | None = None
    prerender_route: str | None = None
    for ln in lines:
        text = ln.strip()
        if m := _TSC.match(text):
            errors.append(BuildError("type_error", m["msg"], m["file"], int(m["line"]), int(m["col"]), m["code"]))
        elif m := _LOCATION.match(text):
            pending_location = (m["file"], int(m["line"]), int(m["col"]))
        elif m := _WEBPACK_TYPE.match(text):
            file, line, col = pending_location or (None, None, None)
            errors.append(BuildError("type_error", m["msg"], file, line, col))
            pending_location = None
        elif pending_location and (m := _ERROR_LINE.match(text)):
            errors.append(BuildError(_kind_of(m["msg"]), m["msg"], *pending_location))
            pending_location = None
        elif m := _PRERENDER.match(text):
            prerender_route = m["route"]
        elif prerender_route and text.startswith("Error: "):
            errors.append(BuildError("prerender", text.removeprefix("Error: "), None, None, None, prerender_route))
            prerender_route = None
        elif errors and errors[-1].kind == "prerender" and errors[-1].file is None and (m := _SOURCE_FRAME.search(text)):
            last = errors.pop()
            errors.append(BuildError("prerender", last.message, m["file"], int(m["line"]), int(m["col"]), last.code))
    if exit_code not in (0, None) and not errors:
        tail = [ln.strip() for ln in lines if ln.strip()][-3:]
        errors.append(BuildError("other", " / ".join(tail) or f"exit code {exit_code}"))
    version = next((m.group(1) for ln in lines if (m := _VERSION.search(ln))), None)
    routes = tuple(m.group(1) for ln in lines if (m := _ROUTE.match(ln.strip())))
    return BuildReport(exit_code == 0 and not errors, tuple(dict.fromkeys(errors)), version, routes)


# --- ESLint (stylish formatter) ---------------------------------------------------------------


@dataclass(frozen=True)
class LintProblem:
    file: str
    line: int
    column: int
    severity: Literal["error", "warning"]
    message: str
    rule: str | None


_LINT_ROW = re.compile(r"^\s+(?P<line>\d+):(?P<col>\d+)\s+(?P<sev>error|warning)\s+(?P<rest>.+)$")
_LINT_RULE = re.compile(r"^(?P<msg>.*?)\s{2,}(?P<rule>[@\w][\w@/-]*)$")


def parse_eslint(output: str, root: str | None = None) -> list[LintProblem]:
    """Problems from ESLint's default (stylish) output; file paths relative to `root` when given."""
    problems: list[LintProblem] = []
    current: str | None = None
    for raw in strip_ansi(output).splitlines():
        if raw.startswith("/") or (raw and not raw.startswith(" ") and raw.rstrip().endswith(
                (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"))):
            current = raw.strip()
            if root and current.startswith(root.rstrip("/") + "/"):
                current = current[len(root.rstrip("/")) + 1:]
            continue
        if current and (m := _LINT_ROW.match(raw)):
            rest = m["rest"].strip()
            rm = _LINT_RULE.match(rest)
            message, rule = (rm["msg"].strip(), rm["rule"]) if rm else (rest, None)
            problems.append(LintProblem(current, int(m["line"]), int(m["col"]),
                                        m["sev"], message, rule))  # type: ignore[arg-type]
    return problems


# --- node:test / TAP -------------------------------------------------------------------------


@dataclass(frozen=True)
class TestFailure:
    __test__ = False  # not a pytest class
    name: str
    location: str | None
    error: str


@dataclass(frozen=True)
class TestReport:
    __test__ = False
    total: int
    passed: int
    failed: int
    failures: tuple[TestFailure, ...] = field(default_factory=tuple)


_TAP_RESULT = re.compile(r"^(?P<indent>\s*)(?P<ok>not ok|ok) \d+ - (?P<name>.+?)(?:\s+#.*)?$")
_TAP_COUNT = re.compile(r"^# (?P<key>tests|pass|fail) (?P<n>\d+)$")


def parse_tap(output: str) -> TestReport:
    """Totals and failures of a TAP run (node --test); raises InvalidInput if it is not TAP."""
    lines = strip_ansi(output).splitlines()
    counts: dict[str, int] = {}
    failures: list[TestFailure] = []
    for i, ln in enumerate(lines):
        if m := _TAP_COUNT.match(ln.strip()):
            counts[m["key"]] = int(m["n"])
        elif (m := _TAP_RESULT.match(ln)) and m["ok"] == "not ok":
            failures.append(_tap_failure(m["name"], lines[i + 1:]))
    if "tests" not in counts and not any(_TAP_RESULT.match(ln) for ln in lines):
        raise InvalidInput("no TAP results in the test output")
    total = counts.get("tests", len(failures))
    failed = counts.get("fail", len(failures))
    return TestReport(total, counts.get("pass", total - failed), failed, tuple(failures))


# vitest's default reporter: ` FAIL  src/x.test.ts > suite > name`, the assertion below it, then
# ` ❯ src/x.test.ts:7:31`; totals as `      Tests  1 failed | 3 passed (4)`.
_VITEST_FAIL = re.compile(r"^\s*FAIL\s+(?P<file>\S+\.(?:test|spec)\.[cm]?[jt]sx?)\s+>\s+(?P<name>.+?)\s*$")
_VITEST_AT = re.compile(r"^\s*❯\s+(?P<loc>\S+:\d+:\d+)\s*$")
_VITEST_TESTS = re.compile(r"^\s*Tests\s+(?P<counts>(?:\d+ \w+(?: \| )?)+)\s*\((?P<total>\d+)\)\s*$")
# jest: `  ● suite › name`, then the assertion and `at Object.<anonymous> (src/x.test.ts:7:31)`;
# totals as `Tests:       1 failed, 3 passed, 4 total`.
_JEST_FAIL = re.compile(r"^\s*● (?P<name>.+?)\s*$")
_JEST_AT = re.compile(r"\((?P<loc>[^()\s]+\.(?:test|spec)\.[cm]?[jt]sx?:\d+:\d+)\)")
_JEST_TESTS = re.compile(r"^Tests:\s+(?P<counts>.+?),\s+(?P<total>\d+) total\s*$")


def _counts(text: str, separator: str) -> dict[str, int]:
    return {word: int(n) for part in text.split(separator) if (m := re.match(r"\s*(\d+) (\w+)", part))
            for n, word in [m.groups()]}


def parse_vitest(output: str) -> TestReport:
    """Totals and failures of `vitest run` (default reporter); raises InvalidInput if it is not vitest's."""
    lines = strip_ansi(output).splitlines()
    failures: list[TestFailure] = []
    total = counts = None
    for i, ln in enumerate(lines):
        if m := _VITEST_FAIL.match(ln):
            after = lines[i + 1:i + 40]
            error = next((a.strip() for a in after if a.strip()), "")
            location = next((v["loc"] for a in after if (v := _VITEST_AT.match(a))), None)
            failures.append(TestFailure(m["name"], location or m["file"], error[:500]))
        elif m := _VITEST_TESTS.match(ln):
            counts, total = _counts(m["counts"], "|"), int(m["total"])
    if total is None or counts is None:
        raise InvalidInput("no vitest summary in the test output")
    failed = counts.get("failed", len(failures))
    return TestReport(total, counts.get("passed", total - failed), failed, tuple(failures))


def parse_jest(output: str) -> TestReport:
    """Totals and failures of `jest` (default reporter); raises InvalidInput if it is not jest's."""
    lines = strip_ansi(output).splitlines()
    failures: list[TestFailure] = []
    total = counts = None
    for i, ln in enumerate(lines):
        m = _JEST_FAIL.match(ln)
        if m and not m["name"].startswith("Test suite failed to run"):
            after = lines[i + 1:i + 60]
            error = next((a.strip() for a in after if a.strip()), "")
            location = next((j["loc"] for a in after if (j := _JEST_AT.search(a))), None)
            failures.append(TestFailure(m["name"].replace(" › ", " > "), location, error[:500]))
        elif t := _JEST_TESTS.match(ln.strip()):
            counts, total = _counts(t["counts"], ","), int(t["total"])
    if total is None or counts is None:
        raise InvalidInput("no jest summary in the test output")
    failed = counts.get("failed", len(failures))
    return TestReport(total, counts.get("passed", total - failed), failed, tuple(failures))


def parse_test_output(output: str) -> TestReport:
    """The report of whichever runner the project uses: node:test (TAP), vitest or jest."""
    for parse in (parse_tap, parse_vitest, parse_jest):
        try:
            return parse(output)
        except InvalidInput:
            continue
    raise InvalidInput("the test output is neither TAP (node --test), vitest's nor jest's")


def _tap_failure(name: str, after: list[str]) -> TestFailure:
    location, error_lines, in_error = None, [], False
    for ln in after:
        s = ln.strip()
        if s == "...":
            break
        if s.startswith("location:"):
            location = s.split(":", 1)[1].strip().strip("'")
        elif s.startswith("error:"):
            in_error = True
            value = s.split(":", 1)[1].strip()
            if value not in ("|-", "|", ">-"):
                error_lines.append(value.strip("'"))
        elif in_error and re.match(r"^\w+:", s):
            in_error = False
        elif in_error and s:
            error_lines.append(s)
    return TestFailure(name, location, " ".join(error_lines)[:500])


# --- digests: `next start` logs, rendered pages, source maps ----------------------------------


@dataclass(frozen=True)
class ServerError:
    """An error `next start` logged, with the digest the browser shows instead of the message."""

    message: str
    digest: str | None
    frames: tuple[str, ...]  # "at fn (.next/server/chunks/ssr/x.js:1:1572)" lines


_DIGEST_IN_TEXT = re.compile(r"""digest\\?["']?\s*[:=]?\s*\\?["']?(\d{4,12})""", re.IGNORECASE)
# "⨯ TypeError: msg", and "⨯ Error [DatabaseError]: msg" for an Error subclass that sets its name
_LOG_ERROR = re.compile(r"^[⨯x]\s+(?:\w*Error(?: \[\w+\])?: )?(?P<msg>.+?)\s*$")
_LOG_DIGEST = re.compile(r"^digest: '(?P<d>[^']+)'")
# PM2 with `log_date_format` (or `--time`) writes "<date>: " before every line of the app's output
_LOG_TIME_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?:? ")
_FRAME_FILE = re.compile(r"\(?(?P<file>(?:\S*/)?\.next/server/[^\s:()]+):(?P<line>\d+):(?P<col>\d+)\)?")


def find_digests(text: str) -> list[str]:
    """Digests mentioned in a page, a log or a customer's message, first occurrence first."""
    return list(dict.fromkeys(m.group(1) for m in _DIGEST_IN_TEXT.finditer(text)))


def parse_server_errors(log: str) -> list[ServerError]:
    """The `⨯ Error: …` blocks of a `next start` log with their stack frames and digest (also
    where PM2 put its timestamp before each line)."""
    found: list[ServerError] = []
    message: str | None = None
    frames: list[str] = []
    for raw in strip_ansi(log).splitlines():
        s = _LOG_TIME_PREFIX.sub("", raw.strip(), count=1).strip()
        if m := _LOG_ERROR.match(s):
            if message is not None:
                found.append(ServerError(message, None, tuple(frames)))
            message, frames = m["msg"].rstrip(" {"), []
        elif message is not None and s.startswith("at "):
            frames.append(s)
        elif message is not None and (m := _LOG_DIGEST.match(s)):
            found.append(ServerError(message, m["d"], tuple(frames)))
            message, frames = None, []
    if message is not None:
        found.append(ServerError(message, None, tuple(frames)))
    return found


def frame_location(frame: str) -> tuple[str, int, int] | None:
    """(chunk path below `.next/server`, line, column) of a stack frame, if it points into a chunk."""
    if m := _FRAME_FILE.search(frame):
        file = m["file"]
        return file[file.index(".next/server/"):], int(m["line"]), int(m["col"])
    return None


_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _vlq(segment: str) -> list[int]:
    values, shift, value = [], 0, 0
    for char in segment:
        digit = _B64[char]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        shift, value = 0, 0
    return values


def original_position(source_map: dict[str, Any], line: int, column: int) -> tuple[str, int, int] | None:
    """Map a 1-based line and column of generated code to (source, line, column) of the original.

    Standard (non-indexed) v3 maps, as Next's server build writes them next to each chunk."""
    if "sections" in source_map:
        for section in reversed(source_map["sections"]):
            off = section["offset"]
            if (off["line"] + 1, off["column"]) <= (line, column - 1):
                col = column - off["column"] if off["line"] + 1 == line else column
                return original_position(section["map"], line - off["line"], col)
        return None
    sources = source_map.get("sources") or []
    src = orig_line = orig_col = 0
    best: tuple[str, int, int] | None = None
    for index, group in enumerate(source_map.get("mappings", "").split(";")):
        gen_col = 0
        for segment in filter(None, group.split(",")):
            fields = _vlq(segment)
            gen_col += fields[0]
            if len(fields) >= 4:
                src, orig_line, orig_col = src + fields[1], orig_line + fields[2], orig_col + fields[3]
                if index + 1 == line and gen_col <= column - 1 and src < len(sources):
                    best = (sources[src], orig_line + 1, orig_col + 1)
        if index + 1 >= line:
            break
    return best


def load_source_map(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"source map is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("source map is not a JSON object")
    return data


def project_path(source: str) -> str:
    """`../../../../app/components/Greeting.tsx` → `app/components/Greeting.tsx`."""
    parts = [p for p in source.replace("[project]/", "").split("/") if p not in ("..", ".")]
    return "/".join(parts)
