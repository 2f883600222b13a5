"""Tracing a browser exception back to the source file (bundles.py), on client chunks and stacks
recorded from both Next.js labs (tests/fixtures/frontend_diagnostics/client_errors) and the labs'
real sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from support_mcp.agents.frontend_diagnostics import bundles

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "fixtures" / "frontend_diagnostics" / "client_errors"
SOURCE_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs")


def _sources(lab: str, fault: str | None) -> dict[str, str]:
    """The lab app's sources as the project holds them with `fault`'s overlay."""
    root = REPO / "labs" / lab
    found = {p.relative_to(root / "app").as_posix(): p.read_text() for p in (root / "app").rglob("*")
             if p.suffix in SOURCE_SUFFIXES and p.is_file() and "node_modules" not in p.parts and ".next" not in p.parts}
    if fault:
        overlay = root / "faults" / fault
        found.update({p.relative_to(overlay).as_posix(): p.read_text() for p in overlay.rglob("*") if p.is_file()})
    return found


@pytest.mark.parametrize(("stack", "chunk", "lab", "file", "message"), [
    ("app_router.pageerror.txt", "app_router_greeting.chunk.js", "frontend", "app/components/Greeting.tsx",
     "TypeError: Cannot read properties of undefined (reading 'length')"),
    ("pages_router.console.txt", "pages_router_counter.chunk.js", "frontend_alt", "src/components/Counter.tsx",
     "TypeError: Cannot read properties of undefined (reading 'count')"),
])
def test_the_first_frame_is_traced_to_the_component(stack: str, chunk: str, lab: str, file: str,
                                                     message: str) -> None:
    error = bundles.parse_client_error((FIXTURES / stack).read_text())
    assert error is not None and error.message == message
    assert error.frames[0].url.endswith(".js") and error.frames[0].line == 1
    match = bundles.locate_in_bundle((FIXTURES / chunk).read_text(), error.frames[0].line, error.frames[0].column,
                                     _sources(lab, "client_exception"), error.message)
    assert match is not None and match.file == file, match
    # the line named is the one that throws: it reads the property the message names
    read = message.rsplit("'", 2)[1]
    assert f"{read}" in _sources(lab, "client_exception")[file].splitlines()[match.line - 1], match


def test_the_scope_hoisted_page_module_is_narrowed_to_the_component() -> None:
    """The Pages Router chunk holds the page, Counter and PriceTag in one module: the innermost
    block around the failing position decides, not the whole module."""
    code = (FIXTURES / "pages_router_counter.chunk.js").read_text()
    offset = bundles.offset_of(code, 1, 460)
    assert offset is not None
    ranges = bundles.enclosing_ranges(code, offset)
    assert len(ranges) >= 3 and ranges[0][1] - ranges[0][0] < ranges[-1][1] - ranges[-1][0]
    assert "botbau-counter" in code[ranges[0][0]:ranges[0][1]] and "PriceTag" not in code[ranges[0][0]:ranges[0][1]]


def test_no_file_is_named_when_the_sources_do_not_hold_the_code() -> None:
    """Another project's sources do not hold the chunk's component: nothing is guessed. (The
    healthy version of the same project does: its Greeting.tsx is named, rightly.)"""
    code = (FIXTURES / "app_router_greeting.chunk.js").read_text()
    assert bundles.locate_in_bundle(code, 1, 331, _sources("frontend_alt", "client_exception")) is None
    healthy = bundles.locate_in_bundle(code, 1, 331, _sources("frontend", None))
    assert healthy is not None and healthy.file == "app/components/Greeting.tsx"
    assert bundles.locate_in_bundle(code, 1, 10_000, _sources("frontend", "client_exception")) is None  # off the end


def test_a_plain_console_message_is_no_client_error() -> None:
    assert bundles.parse_client_error("Failed to load resource: the server responded with a status of 404") is None
    assert bundles.parse_client_error("") is None


def test_braces_in_strings_and_comments_do_not_count() -> None:
    code = 'x={a:"}{",b:`}`,/* { */c:function(){return "{"+y.z}}'
    offset = code.index("y.z")
    ranges = bundles.enclosing_ranges(code, offset)
    assert [code[s:e] for s, e in ranges] == ['{return "{"+y.z}', code[2:]]


def test_words_are_literals_and_property_names_not_noise() -> None:
    words = bundles.code_words('(0,i.useEffect)(()=>{r(JSON.parse(window.localStorage.getItem("greeting-visits")??"{}")'
                               '.history.length+1)},[]),(0,t.jsxs)("p",{id:"greeting",children:["Hallo ",e]})')
    assert {"greeting-visits", "localStorage", "history", "greeting", "Hallo"} <= words
    assert not words & {"useEffect", "jsxs", "children", "{}", "getItem", "parse", "length"}


@pytest.mark.parametrize(("message", "prop"), [
    ("TypeError: Cannot read properties of undefined (reading 'length')", "length"),
    ("TypeError: Cannot read property 'count' of undefined", "count"),
    ("TypeError: e.items.map is not a function", "map"),
    ("Error: boom", None),
])
def test_the_property_a_type_error_names(message: str, prop: str | None) -> None:
    assert bundles.property_read(message) == prop
