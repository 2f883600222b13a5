"""Knowledge search: turn a ticket-sized query into concepts and rank sections by coverage.

Ticket texts are wordy, so an AND of all words (what `websearch_to_tsquery` does) finds nothing.
Instead every free word is one *concept* (matched with the German and the English stemmer and a
prefix for compound parts), synonyms add lower-weighted concepts, and a section scores the sum
of `idf × weight × field` over the concepts it contains (field: breadcrumb 1.0, sub-headings 0.6,
body 0.3). Words are thus OR-ed for recall while sections covering more, rarer words rank higher.
The websearch syntax keeps its meaning: a "quoted phrase" is required, `-word` excludes, `OR`
between phrases makes them alternatives.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from support_mcp.domain.parsing import parse_agent
from support_mcp.services.knowledge.synonyms import expansions
from support_mcp.store.knowledge import Concept, KnowledgeStore, SectionQuery

HIGHLIGHT_START = "«"
HIGHLIGHT_END = "»"
SYNONYM_WEIGHT = 0.6
MAX_QUERY_CHARS = 2000
MAX_CONCEPTS = 40
_MIN_PREFIX_CHARS = 4

_SPACES_AND_DASHES = str.maketrans(
    {"\x00": " ", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u00ad": "", "\u00a0": " ", "\u202f": " ", "\u2009": " "}
)
_LETTER_DASH_DIGIT = re.compile(r"(?<=[^\W\d_])-(?=\d)")
_DOT_IN_WORD = re.compile(r"(?<=[^\W\d_])\.(?=[^\W\d_])")
_CAMEL = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]+)+\b")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD_EDGES = re.compile(r"^[^\w]+|[^\w]+$")
_PREFIXABLE = re.compile(r"^[^\W_]+$")


def normalize_for_search(text: str) -> str:
    """Text as both index and query see it.

    Non-breaking hyphens and spaces become plain ones (the playbook writes "Tier‑2"), "Tier-2"
    becomes "Tier 2" (the parser would read "-2" as a negative number), and paths and dotted
    names are split into words (the parser keeps "Nginx/Caddy" or "auth.users" as one token).
    """
    text = text.translate(_SPACES_AND_DASHES)
    text = _LETTER_DASH_DIGIT.sub(" ", text)
    text = text.replace("/", " ")
    return _DOT_IN_WORD.sub(" ", text)


def index_text(text: str) -> str:
    """Normalised text plus the parts of camelCase names (`verifyOtp` is found by "otp")."""
    normalized = normalize_for_search(text)
    parts = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", m) for m in _CAMEL.findall(normalized)]
    return normalized if not parts else normalized + "\n" + " ".join(parts)


@dataclass(frozen=True)
class ParsedQuery:
    """A query in websearch syntax, split into what it asks for."""

    words: tuple[str, ...]  # free words: OR-ed, ranked by coverage
    required: tuple[tuple[str, ...], ...]  # each group of phrases: at least one must match
    excluded: tuple[str, ...]  # words or phrases no hit may contain

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.required


def _clean_word(token: str) -> str:
    return _WORD_EDGES.sub("", token)


_PLAIN_NOISE = re.compile(r"[\"\u201c\u201d\u201e\u00ab\u00bb]|(?<!\w)-+(?=\w)|\bOR\b", re.IGNORECASE)


def plain_text(text: str) -> str:
    """A customer's text as words only: a quoted "502 Bad Gateway" must not become a required
    phrase, nor `-rf` a negation."""
    return _PLAIN_NOISE.sub(" ", text)


def parse_query(text: str) -> ParsedQuery:
    """Parse websearch syntax (quotes, OR, -negation) the way PostgreSQL does, but without AND."""
    text = normalize_for_search(text[:MAX_QUERY_CHARS])
    words: list[str] = []
    groups: list[list[tuple[str, bool]]] = []  # items joined by OR; bool: quoted
    excluded: list[str] = []
    join_next = False
    for match in _TOKEN.finditer(text):
        negated, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None and bare.lower() == "or" and groups:
            join_next = True
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            word = _clean_word(bare[1:])
            if word:
                excluded.append(word)
            join_next = False
            continue
        item = (phrase.strip(), True) if phrase is not None else (_clean_word(bare or ""), False)
        if negated:
            if item[0]:
                excluded.append(item[0])
            join_next = False
            continue
        if not item[0]:
            continue
        if join_next:
            groups[-1].append(item)
        else:
            groups.append([item])
        join_next = False
    required: list[tuple[str, ...]] = []
    for group in groups:
        if any(quoted for _, quoted in group):
            required.append(tuple(text for text, _ in group))
        else:
            words.extend(text for text, _ in group)
    return ParsedQuery(tuple(words), tuple(required), tuple(excluded))


def _prefix(word: str) -> str | None:
    # Only plain alphanumeric words become `'word':*`, so nothing of the input reaches tsquery syntax.
    if len(word) >= _MIN_PREFIX_CHARS and _PREFIXABLE.match(word):
        return f"'{word.lower()}':*"
    return None


def build_concepts(query: ParsedQuery) -> list[Concept]:
    """One concept per distinct free word and per required phrase, plus one per synonym entry."""
    concepts: list[Concept] = []
    seen: set[tuple[str, ...]] = set()

    def add(alternatives: tuple[str, ...], weight: float, *, phrase: bool = False) -> None:
        key = tuple(sorted(a.lower() for a in alternatives))
        if key in seen or len(concepts) >= MAX_CONCEPTS:
            return
        seen.add(key)
        concepts.append(Concept(alternatives=alternatives, weight=weight, phrase=phrase,
                                prefixes=tuple(p for a in alternatives if (p := _prefix(a)) and not phrase)))

    for word in query.words:
        add((word,), 1.0)
    for group in query.required:
        add(group, 1.0, phrase=True)
    lowered = [w.lower() for w in query.words]
    for group in query.required:
        lowered.extend(p.lower() for p in group)
    for _trigger, extra in expansions(lowered):
        add(extra, SYNONYM_WEIGHT)
    return concepts


@dataclass(frozen=True)
class SearchHit:
    """One ranked section; `snippet` marks matches with « and »."""

    section_id: uuid.UUID
    document: str
    document_title: str
    heading: str
    breadcrumb: str
    anchor: str
    agents: tuple[str, ...]
    snippet: str
    rank: float


def consultation(playbook: Sequence[SearchHit], others: Sequence[SearchHit], limit: int = 3) -> list[SearchHit]:
    """What a run cites (playbook 1.2, "Wissensbasis konsultieren … sowie dieses Playbook"): the
    playbook's best sections first, then the best of the whole knowledge base not yet included."""
    hits = list(playbook[:limit])
    for hit in others:
        if len(hits) < limit and hit.section_id not in {h.section_id for h in hits}:
            hits.append(hit)
    return hits


class KnowledgeSearch:
    """Ranked full-text search over the ingested sections."""

    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    async def search(
        self, query: str, *, agent: str | None = None, document: str | None = None, limit: int = 5,
        plain: bool = False,
    ) -> list[SearchHit]:
        """Best sections for a free-text or websearch-syntax query; empty when nothing matches.
        `plain`: the text is a ticket, not a query — quotes, `-` and OR are just characters."""
        parsed = parse_query(plain_text(query) if plain else query)
        if parsed.is_empty:
            return []
        section_query = SectionQuery(
            concepts=tuple(build_concepts(parsed)),
            required=parsed.required,
            excluded=parsed.excluded,
            agent=parse_agent(agent) if agent else None,
            document=document,
            limit=max(1, min(limit, 50)),
            highlight=(HIGHLIGHT_START, HIGHLIGHT_END),
        )
        rows = await self._store.search(section_query)
        return [
            SearchHit(
                section_id=row["id"],
                document=row["document_key"],
                document_title=row["document_title"],
                heading=row["heading"],
                breadcrumb=row["breadcrumb"],
                anchor=row["anchor"],
                agents=tuple(row["agents"]),
                snippet=row["snippet"],
                rank=float(row["score"]),
            )
            for row in rows
        ]
