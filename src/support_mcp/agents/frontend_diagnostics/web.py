"""Pure parsers for what a page loads and what its Content-Security-Policy allows: the CSP header
(and `next.config.js` headers as JSON), the page's scripts/styles/images/fonts, the browser's CSP
violation messages, and whether a policy allows a resource URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from support_mcp.domain.errors import InvalidInput

AssetKind = Literal["script", "style", "image", "font"]
# Which directive governs each kind of resource, before falling back to default-src.
DIRECTIVE_FOR: dict[AssetKind, str] = {"script": "script-src", "style": "style-src", "image": "img-src",
                                       "font": "font-src"}

Policy = dict[str, tuple[str, ...]]


def parse_csp(header: str) -> Policy:
    """`default-src 'self'; img-src https://cdn.example` → {"default-src": ("'self'",), ...}.
    The first occurrence of a directive wins, as browsers do."""
    policy: Policy = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens and tokens[0].lower() not in policy:
            policy[tokens[0].lower()] = tuple(tokens[1:])
    return policy


def csp_from_next_headers(output: str, path: str = "/") -> str | None:
    """The Content-Security-Policy value `next.config.js` declares for `path` (JSON from the
    header-reading subprocess); None when it declares none."""
    try:
        data = json.loads(output)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"next.config.js headers are not JSON: {exc}") from None
    for rule in data.get("headers") or []:
        if not _source_matches(str(rule.get("source", "")), path):
            continue
        for header in rule.get("headers") or []:
            if str(header.get("key", "")).lower() == "content-security-policy":
                return str(header.get("value", ""))
    return None


def declared_headers(rules: list[dict[str, Any]], path: str) -> dict[str, tuple[str, str]]:
    """Headers that `headers()` rules (next.config, or `.next/routes-manifest.json`) set on `path`:
    lower-case name → (name, value); a later rule overrides an earlier one. Rules with `has` or
    `missing` conditions depend on the request and are left out."""
    found: dict[str, tuple[str, str]] = {}
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("has") or rule.get("missing"):
            continue
        regex = rule.get("regex")
        try:
            matched = re.match(regex, path) is not None if isinstance(regex, str) else \
                _source_matches(str(rule.get("source", "")), path)
        except re.error:
            matched = _source_matches(str(rule.get("source", "")), path)
        if not matched:
            continue
        for header in rule.get("headers") or []:
            if isinstance(header, dict) and header.get("key"):
                found[str(header["key"]).lower()] = (str(header["key"]), str(header.get("value", "")))
    return found


def header_differences(declared: dict[str, tuple[str, str]], live: dict[str, str]) -> list[str]:
    """Lower-case names of declared headers the live response lacks or serves with another value
    (whitespace-insensitive; a CSP compared directive by directive)."""
    def same(name: str, want: str, got: str) -> bool:
        if name == "content-security-policy":
            return parse_csp(want) == parse_csp(got)
        return " ".join(want.split()) == " ".join(got.split())

    return [name for name, (_, value) in declared.items()
            if live.get(name) is None or not same(name, value, live[name])]


def _source_matches(source: str, path: str) -> bool:
    # Next's path-to-regexp sources: enough of it for `/:path*`, `/(.*)` and literal paths.
    pattern = re.escape(source).replace(r"/:path\*", "(/.*)?").replace(r"\(\.\*\)", ".*")
    pattern = re.sub(r":\w+\\\*", ".*", pattern)
    pattern = re.sub(r":\w+", "[^/]+", pattern)
    return re.fullmatch(pattern or "/", path) is not None


def allows(policy: Policy, kind: AssetKind, url: str, page_url: str) -> bool:
    """Whether `policy` lets the page at `page_url` load `url` as `kind` (CSP level 3 source lists)."""
    directive = DIRECTIVE_FOR[kind]
    sources = policy.get(directive, policy.get("default-src"))
    if sources is None:
        return True
    return any(_source_allows(s, url, page_url) for s in sources)


def governing_directive(policy: Policy, kind: AssetKind) -> str | None:
    directive = DIRECTIVE_FOR[kind]
    return directive if directive in policy else "default-src" if "default-src" in policy else None


def _source_allows(source: str, url: str, page_url: str) -> bool:
    src = source.lower()
    target, page = urlsplit(url), urlsplit(page_url)
    if src == "'none'":
        return False
    if src == "*":
        return target.scheme in ("http", "https", page.scheme)
    if src == "'self'":
        return (target.scheme, target.netloc) == (page.scheme, page.netloc)
    if src.startswith("'"):
        return False  # nonces, hashes, 'unsafe-inline': never a URL
    if re.fullmatch(r"[a-z][a-z0-9+.-]*:", src):
        return target.scheme == src[:-1] or (src == "http:" and target.scheme == "https")
    m = re.fullmatch(r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>\*|\*\.[^/:]+|[^/:]+)(?::(?P<port>\d+|\*))?"
                     r"(?P<path>/.*)?", src)
    if not m:
        return False
    if m["scheme"] and m["scheme"] != target.scheme and not (m["scheme"] == "http" and target.scheme == "https"):
        return False
    if not m["scheme"] and target.scheme not in ("http", "https"):
        return False
    host = (target.hostname or "").lower()
    want = m["host"]
    if want.startswith("*."):
        if not host.endswith(want[1:]):
            return False
    elif want != "*" and want != host:
        return False
    default_port = {"http": 80, "https": 443}.get(target.scheme)
    if m["port"] != "*" and (int(m["port"]) if m["port"] else default_port) != (target.port or default_port):
        return False
    if m["path"]:
        return target.path == m["path"] if not m["path"].endswith("/") else target.path.startswith(m["path"])
    return True


# --- what a page loads -------------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    url: str  # absolute
    kind: AssetKind
    reference: str  # as written in the page, e.g. `/styles/lab.css`


class _AssetCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[AssetKind, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        rel = set(a.get("rel", "").lower().split())
        if tag == "script" and a.get("src"):
            self.found.append(("script", a["src"]))
        elif tag == "img" and a.get("src"):
            self.found.append(("image", a["src"]))
        elif tag == "link" and a.get("href"):
            as_ = a.get("as", "").lower()
            if "stylesheet" in rel or ("preload" in rel and as_ == "style"):
                self.found.append(("style", a["href"]))
            elif ("preload" in rel or "prefetch" in rel) and as_ == "font":
                self.found.append(("font", a["href"]))
            elif ("preload" in rel or "modulepreload" in rel) and as_ in ("script", ""):
                if "modulepreload" in rel or as_ == "script":
                    self.found.append(("script", a["href"]))
            elif "icon" in rel:
                self.found.append(("image", a["href"]))


def page_assets(html: str, page_url: str) -> list[Asset]:
    """Scripts, stylesheets, images and preloaded fonts of a page, each once, absolute URLs."""
    collector = _AssetCollector()
    collector.feed(html)
    seen: dict[str, Asset] = {}
    for kind, ref in collector.found:
        if ref.startswith(("data:", "blob:", "javascript:")):
            continue
        url = urljoin(page_url, ref)
        seen.setdefault(url, Asset(url, kind, ref))
    return list(seen.values())


_CSS_URL = re.compile(r"""url\(\s*['"]?(?P<ref>[^'")]+)['"]?\s*\)""")
_FONT_EXT = (".woff2", ".woff", ".ttf", ".otf", ".eot")


def stylesheet_fonts(css: str, stylesheet_url: str) -> list[Asset]:
    """Fonts a stylesheet loads (`url(...)` with a font extension), resolved against the sheet."""
    found = []
    for m in _CSS_URL.finditer(css):
        ref = m["ref"].strip()
        if urlsplit(ref).path.lower().endswith(_FONT_EXT):
            found.append(Asset(urljoin(stylesheet_url, ref), "font", ref))
    return found


@dataclass(frozen=True)
class CspViolation:
    url: str
    kind: str
    directive: str


# Chromium >= 13x: "Loading the image '…' violates …"; older: "Refused to load the image '…' because it violates …".
_VIOLATION = re.compile(r"(?:Refused to load|Loading) the (?P<kind>[\w ]+?) '(?P<url>[^']+)' (?:because it )?violates the "
                        r"following Content Security Policy directive: \"(?P<directive>[^\"]+)\"")


def parse_csp_violations(console_lines: list[str]) -> list[CspViolation]:
    """CSP violations from Chromium's console messages ("Refused to load the image '…' …")."""
    found = [CspViolation(m["url"], m["kind"], m["directive"]) for line in console_lines
             for m in [_VIOLATION.search(line)] if m]
    return list(dict.fromkeys(found))
