"""Pure markdown parser for the knowledge base: front matter and one section per heading.

No I/O here: `parse_markdown(text)` turns a document into a `ParsedDocument` so the parser can be
tested on strings. Rules, in the playbook's terms:

- YAML front matter (`title`, `version`, optional `language`, optional `agents`, optional
  `authority`: how much the document weighs against others, 0.1–10, default 1) between `---`
  lines at the very top;
- one section per ATX heading `#` to `####` (deeper headings stay body text), with a breadcrumb
  that starts at the document title; a single top-level `#` heading that repeats the title is
  not repeated in its children's breadcrumbs;
- text before the first heading belongs to a root section (only when it is not blank);
- fenced code (``` and ~~~) is never split, and a `#` line inside a fence is not a heading;
- `agents` tags come from the breadcrumb ("2. Supabase Analyst Agent" → supabase-analyst-agent),
  else from the front matter; sections common to all agents get no tag.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.parsing import Language, parse_agent

MAX_HEADING_LEVEL = 4
ROOT_ANCHOR = "root"
BREADCRUMB_SEPARATOR = " › "

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BOLD_LEAD = re.compile(r"\*\*([^*\n]{2,80})\*\*")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")

# Headings that name one Tier-2 agent; matched against every breadcrumb element below the title.
_AGENT_HEADINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bsupabase[ -]analyst\b", re.I), "supabase-analyst-agent"),
    (re.compile(r"\bhetzner[ -]ops\b", re.I), "hetzner-ops-agent"),
    (re.compile(r"\bfrontend[ -]diagnostics\b", re.I), "frontend-diagnostics-agent"),
)

_DE_STOPWORDS = frozenset(
    "der die das und ist nicht mit für auf den dem des ein eine einer im zu von oder auch wird "
    "werden bei nach sich wenn falls über unter alle sowie bitte ob".split()
)
_EN_STOPWORDS = frozenset(
    "the and is are not with for on of a an in to from or also will be when if over under all "
    "this that it please whether".split()
)


@dataclass(frozen=True)
class ParsedSection:
    """One heading's own text (not its children's), located by breadcrumb and anchor."""

    ordinal: int
    level: int  # 0 for the root section, 1..4 for headings
    heading: str
    breadcrumb: tuple[str, ...]
    anchor: str
    body: str
    subheadings: tuple[str, ...]  # bold lead-ins and ##### lines: the "headings" weight
    agents: tuple[str, ...]

    @property
    def breadcrumb_text(self) -> str:
        return BREADCRUMB_SEPARATOR.join(self.breadcrumb)


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    version: str | None
    language: Language
    agents: tuple[str, ...]
    content_hash: str
    sections: tuple[ParsedSection, ...] = field(default=())
    authority: float = 1.0


def content_hash(text: str) -> str:
    """The hash a re-sync compares; line endings are normalised so a checkout on Windows is no change."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def slugify(heading: str) -> str:
    """GitHub-style anchor: lowercase, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def detect_language(text: str) -> Language:
    """German or English by counting common stopwords; cheap, offline, good enough for routing."""
    words = re.findall(r"[a-zäöüß]+", text.lower())
    german = sum(1 for w in words if w in _DE_STOPWORDS) + 2 * len(re.findall(r"[äöüß]", text.lower()))
    english = sum(1 for w in words if w in _EN_STOPWORDS)
    return "de" if german >= english and german > 0 else "en" if english > 0 else "de"


def _split_front_matter(text: str) -> tuple[dict[str, object], str]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            try:
                import yaml  # only a sync parses documents; a search does not pay for it

                meta = yaml.safe_load("\n".join(lines[1:end])) or {}
            except yaml.YAMLError as exc:
                raise InvalidInput(f"front matter is not valid YAML: {exc}") from None
            if not isinstance(meta, dict):
                raise InvalidInput("front matter must be a YAML mapping (title: ..., version: ...)")
            return meta, "\n".join(lines[end + 1 :])
    return {}, text  # an unclosed `---` is a thematic break, not front matter


def _agents_from_meta(meta: dict[str, object]) -> tuple[str, ...]:
    raw = meta.get("agents")
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise InvalidInput("front matter `agents` must be a list of agent names")
    return tuple(sorted({parse_agent(str(item)) for item in items}))


MIN_AUTHORITY, MAX_AUTHORITY = 0.1, 10.0


def _authority_from_meta(meta: dict[str, object]) -> float:
    raw = meta.get("authority", 1)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not MIN_AUTHORITY <= raw <= MAX_AUTHORITY:
        raise InvalidInput(f"front matter `authority` must be a number from {MIN_AUTHORITY:g} to {MAX_AUTHORITY:g}")
    return float(raw)


def _agents_from_breadcrumb(path: tuple[str, ...]) -> tuple[str, ...]:
    found = {agent for element in path for pattern, agent in _AGENT_HEADINGS if pattern.search(element)}
    return tuple(sorted(found))


@dataclass
class _Block:
    level: int
    heading: str
    lines: list[str]


def _split_blocks(body: str) -> list[_Block]:
    """Cut the text at headings outside fences; the first block is the (maybe empty) root."""
    blocks = [_Block(0, "", [])]
    fence: str | None = None
    for line in body.split("\n"):
        if fence is not None:
            blocks[-1].lines.append(line)
            stripped = line.strip()
            if stripped.startswith(fence[0]) and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
            continue
        opened = _FENCE_OPEN.match(line)
        if opened and not (opened.group(1)[0] == "`" and "`" in opened.group(2)):
            fence = opened.group(1)
            blocks[-1].lines.append(line)
            continue
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) <= MAX_HEADING_LEVEL and (heading.group(2) or "").strip():
            blocks.append(_Block(len(heading.group(1)), heading.group(2).strip(), []))
            continue
        blocks[-1].lines.append(line)
    return blocks


def _clean_body(lines: list[str]) -> str:
    # Thematic breaks (`---`) separate the playbook's chapters; they carry no text.
    kept = [line for line in lines if not _THEMATIC_BREAK.match(line)]
    return "\n".join(kept).strip("\n").rstrip()


def _subheadings(body: str) -> tuple[str, ...]:
    deeper = [m.group(2).strip() for m in map(_HEADING.match, body.split("\n")) if m and m.group(2)]
    return tuple(dict.fromkeys([*(b.strip() for b in _BOLD_LEAD.findall(body)), *deeper]))


def parse_markdown(text: str, *, fallback_title: str = "Untitled") -> ParsedDocument:
    """Parse one markdown document into its metadata and sections (pure; raises InvalidInput)."""
    text = text.replace("\r\n", "\n")
    meta, body = _split_front_matter(text)
    blocks = _split_blocks(body)
    top_level = [b for b in blocks if b.level == 1]
    title = str(meta.get("title") or (top_level[0].heading if top_level else fallback_title)).strip()
    # A lone `#` heading is the document's own title line: its children hang off the title.
    title_block = top_level[0] if len(top_level) == 1 and blocks.index(top_level[0]) == 1 else None
    language_meta = str(meta.get("language") or "").strip().lower()[:2]
    language: Language = language_meta if language_meta in ("de", "en") else detect_language(body)  # type: ignore[assignment]
    doc_agents = _agents_from_meta(meta)
    authority = _authority_from_meta(meta)

    sections: list[ParsedSection] = []
    used_anchors: dict[str, int] = {}
    stack: list[tuple[int, str]] = []  # (level, heading) of the open ancestors

    def unique_anchor(base: str) -> str:
        base = base or "section"
        count = used_anchors.get(base, 0)
        used_anchors[base] = count + 1
        return base if count == 0 else f"{base}-{count}"

    for block in blocks:
        section_body = _clean_body(block.lines)
        if block.level == 0:
            if not section_body.strip():
                continue
            path: tuple[str, ...] = (title,)
            heading, anchor = title, unique_anchor(ROOT_ANCHOR)
        else:
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            stack.append((block.level, block.heading))
            chain = tuple(h for lvl, h in stack if not (title_block is not None and lvl == 1))
            path = (title, *chain)
            heading, anchor = block.heading, unique_anchor(slugify(block.heading))
        agents = _agents_from_breadcrumb(path[1:]) or doc_agents
        sections.append(
            ParsedSection(
                ordinal=len(sections),
                level=block.level,
                heading=heading,
                breadcrumb=path,
                anchor=anchor,
                body=section_body,
                subheadings=_subheadings(section_body),
                agents=agents,
            )
        )
    version = meta.get("version")
    return ParsedDocument(
        title=title,
        version=None if version is None else str(version),
        language=language,
        agents=doc_agents,
        content_hash=content_hash(text),
        sections=tuple(sections),
        authority=authority,
    )
