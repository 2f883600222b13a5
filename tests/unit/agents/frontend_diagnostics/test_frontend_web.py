"""CSP parsing and matching, asset lists and Chromium's CSP messages (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support_mcp.agents.frontend_diagnostics import web

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "frontend_diagnostics"
PAGE = "http://127.0.0.1:3000/"


def _live_csp() -> str:
    for line in (FIXTURES / "response_headers_digest.txt").read_text().splitlines():
        if line.lower().startswith("content-security-policy:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no CSP header in the recorded response")


def test_declared_csp_from_next_config_headers() -> None:
    declared = web.csp_from_next_headers((FIXTURES / "next_config_headers_csp_blocked.json").read_text(), "/")
    policy = web.parse_csp(declared or "")
    assert policy["img-src"] == ("https://images.example-cdn.com", "data:")
    assert not web.allows(policy, "image", PAGE + "images/logo.png", PAGE)
    assert web.allows(policy, "script", PAGE + "scripts/lab.js", PAGE)
    assert web.governing_directive(policy, "image") == "img-src"


def test_live_header_allows_the_page_own_assets() -> None:
    policy = web.parse_csp(_live_csp())
    for kind, path in (("image", "images/logo.png"), ("style", "styles/lab.css"), ("font", "fonts/a.woff2")):
        assert web.allows(policy, kind, PAGE + path, PAGE)  # type: ignore[arg-type]
    assert not web.allows(policy, "script", "https://cdn.example.com/x.js", PAGE)


@pytest.mark.parametrize(("source", "url", "allowed"), [
    ("'none'", "http://127.0.0.1:3000/a.js", False),
    ("*", "https://x.example/a.js", True),
    ("https:", "https://x.example/a.js", True),
    ("https:", "http://x.example/a.js", False),
    ("*.example.com", "https://cdn.example.com/a.js", True),
    ("*.example.com", "https://example.com/a.js", False),
    ("https://cdn.example.com/lib/", "https://cdn.example.com/lib/a.js", True),
    ("https://cdn.example.com/lib/", "https://cdn.example.com/other/a.js", False),
    ("cdn.example.com:8443", "https://cdn.example.com:8443/a.js", True),
    ("cdn.example.com", "https://cdn.example.com:8443/a.js", False),
    ("'nonce-abc'", "http://127.0.0.1:3000/a.js", False),
])
def test_source_expressions(source: str, url: str, allowed: bool) -> None:
    assert web.allows({"script-src": (source,)}, "script", url, PAGE) is allowed


def test_default_src_is_the_fallback_and_no_policy_allows_all() -> None:
    assert not web.allows({"default-src": ("'self'",)}, "font", "https://fonts.example/a.woff2", PAGE)
    assert web.allows({}, "font", "https://fonts.example/a.woff2", PAGE)


def test_first_directive_wins() -> None:
    assert web.parse_csp("img-src 'none'; img-src *")["img-src"] == ("'none'",)


def test_page_assets_of_the_recorded_page() -> None:
    assets = web.page_assets((FIXTURES / "page_digest.html").read_text(), PAGE)
    refs = {(a.kind, a.reference) for a in assets}
    # the recorded page is Next's error page (digest): its own chunks, not the layout's assets
    assert refs and all(kind == "script" and ref.startswith("/_next/static/chunks/") for kind, ref in refs)
    assert all(a.url.startswith("http://127.0.0.1:3000/") for a in assets)


def test_image_and_font_assets() -> None:
    html = ('<img src="/images/logo.png"><img src="data:image/png;base64,AA">'
            '<link rel="preload" as="font" href="/f/a.woff2"><link rel="icon" href="/favicon.ico">')
    assert [(a.kind, a.reference) for a in web.page_assets(html, PAGE)] == [
        ("image", "/images/logo.png"), ("font", "/f/a.woff2"), ("image", "/favicon.ico")]
    css = "@font-face{src:url('../fonts/b.woff2') format('woff2')} body{background:url(/bg.png)}"
    assert [a.url for a in web.stylesheet_fonts(css, PAGE + "styles/x.css")] == [PAGE + "fonts/b.woff2"]


def test_chromium_csp_violation_messages() -> None:
    # Chromium 156 (Debian) console text for the lab's blocked image, recorded in a smoke run; and
    # the older wording, written by hand.
    new = ("Loading the image 'http://127.0.0.1:3000/images/logo.png' violates the following Content Security "
           "Policy directive: \"img-src https://images.example-cdn.com data:\". The action has been blocked.")
    old = ("Refused to load the image 'http://127.0.0.1:3000/images/logo.png' because it violates the following "
           "Content Security Policy directive: \"img-src https://images.example-cdn.com data:\".")
    [v] = web.parse_csp_violations([new, new, old, "something else"])
    assert (v.url, v.kind, v.directive) == (PAGE + "images/logo.png", "image", "img-src https://images.example-cdn.com data:")
