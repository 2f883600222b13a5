"""Which headers next.config declares for a page, and which of them the live response lacks
(web.declared_headers, web.header_differences), on the recorded routes-manifest of labs/frontend
and on rule shapes it does not have."""

from __future__ import annotations

import json
from pathlib import Path

from support_mcp.agents.frontend_diagnostics import web

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "frontend_diagnostics"
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; frame-ancestors 'none'")


def test_the_build_manifest_declares_what_next_config_did() -> None:
    rules = json.loads((FIXTURES / "routes_manifest.json").read_text())["headers"]
    for path in ("/", "/dashboard/x"):
        declared = web.declared_headers(rules, path)
        assert declared == {"content-security-policy": ("Content-Security-Policy", CSP),
                            "x-content-type-options": ("X-Content-Type-Options", "nosniff")}


def test_a_header_missing_or_different_live_is_named_and_spacing_is_no_difference() -> None:
    declared = {"permissions-policy": ("Permissions-Policy", "camera=()"),
                "x-content-type-options": ("X-Content-Type-Options", "nosniff"),
                "content-security-policy": ("Content-Security-Policy", "default-src 'self'; img-src 'self'")}
    live = {"x-content-type-options": "nosniff", "content-security-policy": "img-src  'self' ;default-src 'self'"}
    assert web.header_differences(declared, live) == ["permissions-policy"]
    assert web.header_differences(declared, {**live, "permissions-policy": "camera=(self)"}) == ["permissions-policy"]
    assert web.header_differences(declared, {**live, "permissions-policy": " camera=() "}) == []


def test_rules_by_source_later_ones_override_conditional_ones_left_out() -> None:
    rules = [
        {"source": "/:path*", "headers": [{"key": "X-Frame-Options", "value": "DENY"}]},
        {"source": "/embed/:slug", "headers": [{"key": "X-Frame-Options", "value": "SAMEORIGIN"}]},
        {"source": "/(.*)", "has": [{"type": "header", "key": "x-preview"}],
         "headers": [{"key": "Cache-Control", "value": "no-store"}]},
        {"source": "/api/:path*", "headers": [{"key": "Cache-Control", "value": "no-cache"}]},
    ]
    assert web.declared_headers(rules, "/") == {"x-frame-options": ("X-Frame-Options", "DENY")}
    assert web.declared_headers(rules, "/embed/widget")["x-frame-options"][1] == "SAMEORIGIN"
    assert "cache-control" not in web.declared_headers(rules, "/pricing")  # only with x-preview
    assert web.declared_headers(rules, "/api/health")["cache-control"][1] == "no-cache"
    assert web.declared_headers([{"source": "/x", "regex": "([", "headers": [{"key": "A", "value": "1"}]}],
                                "/x") == {"a": ("A", "1")}  # a regex Python cannot read: the source decides
