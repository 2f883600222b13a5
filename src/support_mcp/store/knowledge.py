"""Repository of the knowledge base: documents, sections, the search SQL, suggestions.

Queries reach PostgreSQL as parameters only: the search receives words and phrases as text and
lets `plainto_tsquery`/`phraseto_tsquery` build the tsquery, so no user text is ever parsed as
tsquery syntax (the one exception, prefixes, is built by the service from alphanumerics only).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from support_mcp.domain.errors import NotFound
from support_mcp.store.database import Database, Row
from support_mcp.store.idempotency import insert_once

if TYPE_CHECKING:
    from support_mcp.domain.models import Suggestion


@dataclass(frozen=True)
class SectionInput:
    """A section as the ingest service hands it over; `search_*` texts are already normalised."""

    ordinal: int
    level: int
    heading: str
    breadcrumb: str
    anchor: str
    body: str
    language: str
    agents: tuple[str, ...]
    search_title: str  # weight A: document title, breadcrumb, heading
    search_subheadings: str  # weight B
    search_body: str  # weight C


@dataclass(frozen=True)
class DocumentInput:
    source: str
    key: str
    title: str
    version: str | None
    language: str
    agents: tuple[str, ...]
    content_hash: str
    body: str
    authority: float = 1.0


@dataclass(frozen=True)
class KnowledgeDocument:
    id: uuid.UUID
    source: str
    key: str
    title: str
    version: str | None
    language: str
    agents: tuple[str, ...]
    content_hash: str
    section_count: int
    ingested_at: datetime
    updated_at: datetime
    authority: float = 1.0


@dataclass(frozen=True)
class KnowledgeSection:
    id: uuid.UUID
    document_key: str
    document_title: str
    ordinal: int
    level: int
    heading: str
    breadcrumb: str
    anchor: str
    body: str
    language: str
    agents: tuple[str, ...]


@dataclass(frozen=True)
class Concept:
    """One thing the query asks for; it matches when any alternative does."""

    alternatives: tuple[str, ...]
    weight: float
    phrase: bool = False
    prefixes: tuple[str, ...] = ()  # `'word':*` strings, alphanumeric words only


@dataclass(frozen=True)
class SectionQuery:
    concepts: tuple[Concept, ...]
    required: tuple[tuple[str, ...], ...]
    excluded: tuple[str, ...]
    agent: str | None
    document: str | None
    limit: int
    highlight: tuple[str, str]


# Weighted vector of one section: both stemmers on each field, A > B > C.
_VECTOR_SQL = """
    setweight(to_tsvector('german', r.search_title), 'A') || setweight(to_tsvector('english', r.search_title), 'A')
 || setweight(to_tsvector('german', r.search_subheadings), 'B')
 || setweight(to_tsvector('english', r.search_subheadings), 'B')
 || setweight(to_tsvector('german', r.search_body), 'C') || setweight(to_tsvector('english', r.search_body), 'C')
"""

_SECTION_COLUMNS = """s.id, d.key as document_key, d.title as document_title, s.ordinal, s.level, s.heading,
    s.breadcrumb, s.anchor, s.body, s.language, s.agents"""

_DOCUMENT_MATCH = "(d.key = %(document)s or d.source = %(document)s or d.id::text = %(document)s)"

# Step 1: words and phrases become tsqueries inside PostgreSQL, each concept with its document
# frequency. A word that is a stopword in either language is dropped ("die", "the"): both
# dictionaries index every text, so such a word would otherwise match nearly everything.
# The frequency comes from `knowledge_lexemes` (kept by triggers, migration 005): one index seek
# per lexeme instead of a count over the GIN index, which visits every matching row. An
# alternative's frequency is that of its rarest lexeme (its lexemes are AND-ed), a prefix's that
# of its most frequent completion, a concept's that of its most frequent alternative (they
# overlap: both stemmers, the prefix).
_BUILD_SQL = r"""
with alt as (
    select a.ord, a.txt, a.phrase from unnest(%(c_ord)s::int[], %(c_txt)s::text[], %(c_phrase)s::bool[])
        as a(ord, txt, phrase)
), altq as (
    select ord, case when phrase then phraseto_tsquery('german', txt) else plainto_tsquery('german', txt) end as g,
                case when phrase then phraseto_tsquery('english', txt) else plainto_tsquery('english', txt) end as e
    from alt
), parts0 as (
    select ord, g as q from altq where numnode(g) > 0 and numnode(e) > 0
    union all select ord, e from altq where numnode(g) > 0 and numnode(e) > 0
    union all select p.ord, to_tsquery(cfg.c, p.pfx)
      from unnest(%(p_ord)s::int[], %(p_txt)s::text[]) as p(ord, pfx)
      cross join (values ('german'::regconfig), ('english'::regconfig)) as cfg(c)
      where numnode(to_tsquery('german', p.pfx)) > 0 and numnode(to_tsquery('english', p.pfx)) > 0
), parts as (
    select row_number() over () as pid, ord, q from parts0 where numnode(q) > 0
), lex as (
    -- tsquery text quotes each lexeme ('it''s'); `:*` marks a prefix.
    select p.pid, p.ord, replace(m[1], '''''', '''') as lexeme, m[2] is not null as prefix
    from parts p cross join lateral regexp_matches(p.q::text, '''((?:[^'']|'''')*)''(:\*)?', 'g') as m
), lex_df as (
    -- A lexeme's frequency; a prefix's most frequent completion (top) and all of them (every).
    select l.pid, coalesce(x.top, 0) as top, coalesce(x.every, 0) as every
    from lex l cross join lateral (
        select max(k.ndoc) as top, sum(k.ndoc) as every from knowledge_lexemes k
        where k.lexeme >= l.lexeme
          and k.lexeme <= case when l.prefix then l.lexeme || chr(1114111) else l.lexeme end) x
), part_df as (
    select pid, min(top) as df, min(every) as df_up from lex_df group by pid
), req as (
    select grp as ord, phraseto_tsquery(cfg.c, txt) as q
    from unnest(%(r_grp)s::int[], %(r_txt)s::text[]) as x(grp, txt)
    cross join (values ('german'::regconfig), ('english'::regconfig)) as cfg(c)
), excl as (
    select 0 as ord, phraseto_tsquery(cfg.c, txt) as q from unnest(%(x_txt)s::text[]) as t(txt)
    cross join (values ('german'::regconfig), ('english'::regconfig)) as cfg(c)
)
select 'concept' as kind, p.ord, string_agg('(' || p.q::text || ')', ' | ') as q,
       coalesce(max(d.df), 0)::float8 as df, coalesce(sum(d.df_up), 0)::float8 as df_up
    from parts p left join part_df d on d.pid = p.pid group by p.ord
union all
select 'required', ord, string_agg('(' || q::text || ')', ' | '), null, null from req where numnode(q) > 0 group by ord
union all
select 'excluded', ord, string_agg('(' || q::text || ')', ' | '), null, null from excl where numnode(q) > 0 group by ord
union all
select 'total', 0, null, sections::float8, null from knowledge_stats
union all
select 'authority', 0, id::text, authority::float8, null from knowledge_documents where authority <> 1
"""

# Step 2: rank with every tsquery a constant, so the GIN index serves the filter. Ranking is two
# passes: every candidate gets its coverage, `Σ idf` of the concepts it contains (one `@@` per
# concept on one vector), and only the best %(candidates)s by coverage get the full score, a sum of
# one `idf × (field + ts_rank / 10)` term per concept (field: breadcrumb 1.0, sub-headings 0.6,
# body 0.3). The full score is at most 1.1 × the coverage, so a section left out had a coverage
# no higher than the last one taken. Both are built from fixed fragments and parameters.
_RANK_SQL = """
with matching as (
    (select * from (
        (select s.id, s.search_vector, s.document_id
         from {sections} s
         where s.breadcrumb_vector @@ %(filterq)s::tsquery {filters})
        union all
        (select s.id, s.search_vector, s.document_id
         from {sections} s
         where s.search_vector @@ %(filterq)s::tsquery {filters})
     ) as tiers limit %(scan)s)
    union all
    (select s.id, s.search_vector, s.document_id
     from (select * from knowledge_sections where document_id = any(%(auth_ids)s::uuid[]) offset 0) s
     where s.search_vector @@ %(anyq)s::tsquery {filters}
     limit %(auth_scan)s)
), candidates as (
    select s.id, max(({coverage}) * {authority}) as coverage from matching s
    group by s.id
    order by coverage desc
    limit %(candidates)s
), hits as (
    select s.id, s.document_id, s.heading, s.breadcrumb, s.anchor, s.body, s.language, s.agents, s.ordinal,
           ({score}) * {authority} as score
    from candidates c join knowledge_sections s on s.id = c.id
    order by score desc, s.ordinal
    limit %(limit)s
)
select h.id, d.key as document_key, d.title as document_title, h.heading, h.breadcrumb, h.anchor,
       h.agents, h.score,
       ts_headline(case when h.language = 'en' then 'english' else 'german' end::regconfig,
                   coalesce(nullif(h.body, ''), h.heading), %(highlight_q)s::tsquery, %(headline_options)s)
         as snippet
from hits h join knowledge_documents d on d.id = h.document_id
order by h.score desc, h.ordinal
"""
_FILTERS = """{required}
       and (%(excl)s::tsquery is null or not s.search_vector @@ %(excl)s::tsquery)
       and (%(agent)s::text is null or cardinality(s.agents) = 0 or %(agent)s = any(s.agents))"""
# A section's document's authority (migration 007); the arrays hold the documents whose is not 1.
_AUTHORITY = ("coalesce((%(auth_vals)s::float8[])[array_position(%(auth_ids)s::uuid[], s.document_id)],"
              " 1.0)")
# One document's sections, read by (document_id, ordinal); `offset 0` keeps the planner from
# AND-ing in the GIN index, whose matches for a frequent word span the whole index.
_DOCUMENT_SECTIONS = "(select * from knowledge_sections where document_id = any(%(doc_ids)s::uuid[]) offset 0)"
_COVERAGE = "%(idf{n})s::float8 * (s.search_vector @@ %(q{n})s::tsquery)::int"
_MIN_CANDIDATES = 64
_WIDE_SCAN = 1000
# Sections of documents with an authority other than 1 that are ranked besides the candidates,
# at most: a playbook has tens; a knowledge base that marks everything authoritative gets no
# unbounded search from it.
_AUTHORITY_SCAN = 500

_COMMON_SHARE = 0.25
# Sections ranked per search at most (about): the rarest concepts select the candidates until
# their frequencies add up to this; the others still score every candidate. Ranking costs per
# candidate, so this bounds a search at 100,000 sections the way it is bounded at 1,000.
_CANDIDATE_BUDGET = 1500
# ... and the rows a first round reads at most, even when its one concept (the rarest) matches
# more: at 100,000 sections a word in 9 % of them would otherwise be ranked 9,000 times
# (30 ms). Sections with the concept in their breadcrumb come first (it weighs most there),
# the rest in index order, not by score: the benchmark measures what the cap costs against the
# exhaustive ranking (`KnowledgeStore(db, exhaustive=True)`, benchmarks/knowledge_search.py).
_CANDIDATE_CAP = 2000
# Per concept: idf × (field + a tenth of its own ts_rank: how often and where the section has it).
# The rank is per concept, not over the whole query, so a word no section contains changes no
# section's score (ts_rank over an OR of all words is divided by their number: a customer's extra
# "bitte probieren" reordered near-equal sections and with them triage's agents).
_CONCEPT_SCORE = (
    "(%(idf{n})s::float8 * (case when s.breadcrumb_vector @@ %(q{n})s::tsquery then 1.0"
    " when s.subheading_vector @@ %(q{n})s::tsquery then 0.6"
    " when s.search_vector @@ %(q{n})s::tsquery then 0.3 else 0 end"
    " + 0.1 * ts_rank('{{0.1, 0.3, 0.6, 1.0}}', s.search_vector, %(q{n})s::tsquery)))"
)


def _any_of(queries: Sequence[str]) -> str | None:
    return " | ".join(f"({q})" for q in queries) if queries else None


def candidate_rounds(by_rarity: Sequence[int], matches: dict[int, float], budget: float) -> list[list[int]]:
    """Concepts (rarest first) in rounds of candidate selection: the first round takes concepts
    while their matches add up to `budget` (at least one), each next round to four times the
    last. A round's GIN scan costs what its concepts match, not what all of them match; the
    search runs the next round only when the ones before gave fewer sections than asked for.
    `matches` is an upper bound per concept (every alternative and prefix completion added up)."""
    rounds: list[list[int]] = []
    first = 0
    while first < len(by_rarity):
        taken = [by_rarity[first]]
        for n in by_rarity[first + 1:]:
            if sum(matches[c] for c in taken) + matches[n] > budget:
                break
            taken.append(n)
        rounds.append(taken)
        first += len(taken)
        budget *= 4
    return rounds


async def _document_ids(conn: AsyncConnection[Row], document: str) -> list[uuid.UUID]:
    """A document by key, source or id (unique indexes each), so that its sections are then read
    by (document_id, ordinal): a join on the OR is estimated as a hundred documents by the planner,
    which then scans every section."""
    try:
        as_id: uuid.UUID | None = uuid.UUID(document)
    except ValueError:
        as_id = None
    cur = await conn.execute("select id from knowledge_documents where key = %s or source = %s or id = %s",
                             (document, document, as_id))
    return [r["id"] for r in await cur.fetchall()]


async def _frequencies_within(conn: AsyncConnection[Row], ords: Sequence[int],
                              params: dict[str, object]) -> tuple[float, dict[int, float]] | None:
    """Sections and per-concept frequencies within the documents `params["doc_ids"]` (None when
    they hold no section): inside one document a word weighs by how rare it is there, so 10,000
    sections of other runbooks do not decide which of the playbook's sections ranks first."""
    counts = ", ".join(f"count(*) filter (where s.search_vector @@ %(q{n})s::tsquery) as df{n}" for n in ords)
    cur = await conn.execute(f"""select count(*) as total, {counts} from knowledge_sections s
                                 where s.document_id = any(%(doc_ids)s::uuid[])""", params)
    local = await cur.fetchone()
    if local is None or not local["total"]:
        return None
    return float(local["total"]), {n: float(local[f"df{n}"]) for n in ords}


def _suggestion(row: Row) -> Suggestion:
    from support_mcp.domain.models import Suggestion  # pydantic: only suggestion commands pay for it

    return Suggestion(**row)


_SUGGESTION_COLUMNS = (
    "id, ticket_id, agent, title, body, target_document, target_section, status, reviewer, "
    "reviewed_at, created_at"
)


_SYNC_LOCK_CLASS = 0x4B42  # "KB"


class KnowledgeStore:
    """Documents and their sections, replaced per document in one transaction."""

    def __init__(self, db: Database, *, exhaustive: bool = False) -> None:
        self._db = db
        # Exhaustive: rank every section that matches any concept (no candidate budget, no cap);
        # the exact ranking the benchmark measures the bounded one against. Not for serving.
        self._exhaustive = exhaustive

    def sync_lock(self) -> AbstractAsyncContextManager[bool]:
        """Serialises syncs: two processes syncing at once would race on document keys."""
        return self._db.advisory_lock(_SYNC_LOCK_CLASS, "knowledge-sync")

    # -- documents ---------------------------------------------------------------------------
    async def document_hashes(self) -> dict[str, str]:
        """source → content hash of every ingested document."""
        rows = await self._db.fetch_all("select source, content_hash from knowledge_documents")
        return {row["source"]: row["content_hash"] for row in rows}

    async def document_keys(self) -> dict[str, str]:
        """source → key, so a re-sync keeps the keys it handed out."""
        rows = await self._db.fetch_all("select source, key from knowledge_documents")
        return {row["source"]: row["key"] for row in rows}

    async def replace_document(self, document: DocumentInput, sections: Sequence[SectionInput]) -> None:
        """Insert or update a document and swap all its sections atomically."""
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                """insert into knowledge_documents
                     (source, key, title, version, language, agents, content_hash, body, authority)
                   values (%(source)s, %(key)s, %(title)s, %(version)s, %(language)s, %(agents)s,
                           %(content_hash)s, %(body)s, %(authority)s)
                   on conflict (source) do update set
                     key = excluded.key, title = excluded.title, version = excluded.version,
                     language = excluded.language, agents = excluded.agents, authority = excluded.authority,
                     content_hash = excluded.content_hash, body = excluded.body, updated_at = now()
                   returning id""",
                {**document.__dict__, "agents": list(document.agents)},
            )
            row = await cur.fetchone()
            assert row is not None
            document_id = row["id"]
            await conn.execute("delete from knowledge_sections where document_id = %s", (document_id,))
            # One statement per document: the statement trigger that counts lexemes runs once.
            await conn.execute(
                f"""insert into knowledge_sections
                      (document_id, ordinal, level, heading, breadcrumb, anchor, body, language, agents,
                       search_vector, breadcrumb_vector, subheading_vector)
                    select %(document_id)s, r.ordinal, r.level, r.heading, r.breadcrumb, r.anchor, r.body,
                           r.language, r.agents, {_VECTOR_SQL},
                           to_tsvector('german', r.search_title) || to_tsvector('english', r.search_title),
                           to_tsvector('german', r.search_subheadings)
                             || to_tsvector('english', r.search_subheadings)
                    from jsonb_to_recordset(%(rows)s) as r(
                        ordinal int, level int, heading text, breadcrumb text, anchor text, body text,
                        language text, agents text[], search_title text, search_subheadings text,
                        search_body text)
                    order by r.ordinal""",
                {"document_id": document_id,
                 "rows": Jsonb([{**s.__dict__, "agents": list(s.agents)} for s in sections])},
            )

    async def settle(self) -> None:
        """After a sync changed sections: move the GIN indexes' pending entries into the index and
        refresh the planner's statistics. Until then every search reads the pending list
        linearly (10,000 freshly synced sections: 23 ms per search instead of 3), and the planner
        plans with the numbers of before the sync."""
        await self._db.execute("select gin_clean_pending_list('knowledge_sections_search_idx'::regclass), "
                               "gin_clean_pending_list('knowledge_sections_breadcrumb_idx'::regclass)")
        await self._db.execute("analyze knowledge_documents, knowledge_sections")

    async def delete_documents(self, sources: Sequence[str]) -> int:
        """Remove documents (and, by cascade, their sections); returns how many were removed."""
        if not sources:
            return 0
        rows = await self._db.fetch_all(
            "delete from knowledge_documents where source = any(%s) returning id", (list(sources),)
        )
        return len(rows)

    async def list_documents(self) -> list[KnowledgeDocument]:
        rows = await self._db.fetch_all(
            """select d.id, d.source, d.key, d.title, d.version, d.language, d.agents, d.content_hash,
                      d.ingested_at, d.updated_at, d.authority,
                      (select count(*) from knowledge_sections s where s.document_id = d.id) as section_count
               from knowledge_documents d order by d.key"""
        )
        return [KnowledgeDocument(**{**r, "agents": tuple(r["agents"])}) for r in rows]

    # -- sections ----------------------------------------------------------------------------
    async def list_sections(self, document: str | None = None) -> list[KnowledgeSection]:
        """Sections in document order; `document` is a key, source or id."""
        rows = await self._db.fetch_all(
            f"""select {_SECTION_COLUMNS} from knowledge_sections s
                join knowledge_documents d on d.id = s.document_id
                where %(document)s::text is null or {_DOCUMENT_MATCH}
                order by d.key, s.ordinal""",
            {"document": document},
        )
        return [_section(r) for r in rows]

    async def get_section(self, section_id: uuid.UUID) -> KnowledgeSection:
        row = await self._db.fetch_one(
            f"""select {_SECTION_COLUMNS} from knowledge_sections s
                join knowledge_documents d on d.id = s.document_id where s.id = %s""",
            (section_id,),
        )
        if row is None:
            raise NotFound(f"knowledge section {section_id} does not exist")
        return _section(row)

    async def get_section_by_anchor(self, document: str, anchor: str) -> KnowledgeSection:
        row = await self._db.fetch_one(
            f"""select {_SECTION_COLUMNS} from knowledge_sections s
                join knowledge_documents d on d.id = s.document_id
                where {_DOCUMENT_MATCH} and s.anchor = %(anchor)s""",
            {"document": document, "anchor": anchor.lstrip("#")},
        )
        if row is None:
            raise NotFound(f"no section #{anchor} in knowledge document {document!r}")
        return _section(row)

    async def search(self, query: SectionQuery) -> list[Row]:
        """Ranked sections with snippets; rows carry id, document_key/title, breadcrumb, anchor, score."""
        c_ord, c_txt, c_phrase, p_ord, p_txt = [], [], [], [], []
        for number, concept in enumerate(query.concepts):
            for text in concept.alternatives:
                c_ord.append(number)
                c_txt.append(text)
                c_phrase.append(concept.phrase)
            for prefix in concept.prefixes:
                p_ord.append(number)
                p_txt.append(prefix)
        async with self._db.connection() as conn:
            cur = await conn.execute(
                _BUILD_SQL,
                {
                    "c_ord": c_ord, "c_txt": c_txt, "c_phrase": c_phrase, "p_ord": p_ord, "p_txt": p_txt,
                    "r_grp": [g for g, group in enumerate(query.required) for _ in group],
                    "r_txt": [text for group in query.required for text in group],
                    "x_txt": list(query.excluded),
                },
            )
            built = await cur.fetchall()
            concepts = {r["ord"]: r["q"] for r in built if r["kind"] == "concept"}
            required = [r["q"] for r in built if r["kind"] == "required"]
            excluded = _any_of([r["q"] for r in built if r["kind"] == "excluded"])
            if not concepts:
                return []
            ords = sorted(concepts)
            df = {r["ord"]: float(r["df"]) for r in built if r["kind"] == "concept"}
            total = max([1.0, *(float(r["df"]) for r in built if r["kind"] == "total"), *df.values()])
            params: dict[str, object] = {f"q{n}": concepts[n] for n in ords}
            authority = {r["q"]: float(r["df"]) for r in built if r["kind"] == "authority"}
            upper = {r["ord"]: min(float(r["df_up"]), total) for r in built if r["kind"] == "concept"}
            if query.document is not None:
                params["doc_ids"] = await _document_ids(conn, query.document)
                local = await _frequencies_within(conn, ords, params)
                if local is None:
                    return []
                total, df = local
                upper = df
                authority = {}  # within one document it would scale every section alike
            for n in ords:
                params[f"idf{n}"] = query.concepts[n].weight * math.log(1 + (total - df[n] + 0.5) / (df[n] + 0.5))
            for i, q in enumerate(required):
                params[f"req{i}"] = q
            any_q = _any_of([concepts[n] for n in ords])
            # Candidates come from the rarest concepts, the frequent ones only add to the score:
            # a word found in a quarter of all sections (and in more than the candidate budget)
            # never selects — it would make every search rank thousands of rows for almost no
            # information — and the rest select, rarest first, until the budget is spent. In a
            # small index every word selects: ranking all its matches costs nothing.
            selective_limit = max(_COMMON_SHARE * total, _CANDIDATE_BUDGET)
            by_rarity = sorted((n for n in ords if 0 < df[n] <= selective_limit), key=lambda n: (df[n], n))
            rounds = [] if self._exhaustive else candidate_rounds(by_rarity, upper, _CANDIDATE_BUDGET)
            chosen = rounds[0] if rounds else []
            filter_q = _any_of([concepts[n] for n in chosen]) if chosen else any_q
            # Only frequent words: most sections match, so the first _WIDE_SCAN of a sequential
            # scan are ranked (the scan stops there) instead of every match.
            dense = not chosen
            start, stop = query.highlight
            params.update(
                auth_ids=list(authority), auth_vals=list(authority.values()), auth_scan=_AUTHORITY_SCAN,
                anyq=any_q,
                filterq=filter_q,
                excl=excluded,
                highlight_q=_any_of([q for q in (any_q, *required) if q]),
                agent=query.agent,
                limit=query.limit,
                candidates=None if self._exhaustive else max(_MIN_CANDIDATES, 8 * query.limit),
                scan=None,
                headline_options=(
                    f"StartSel={start}, StopSel={stop}, MaxWords=30, MinWords=10, "
                    'MaxFragments=2, FragmentDelimiter=" … "'
                ),
            )
            sql = _RANK_SQL.format(
                score=" + ".join(_CONCEPT_SCORE.format(n=n) for n in ords),
                coverage=" + ".join(_COVERAGE.format(n=n) for n in ords),
                sections=_DOCUMENT_SECTIONS if query.document is not None else "knowledge_sections",
                filters=_FILTERS.format(
                    required="".join(f" and s.search_vector @@ %(req{i})s::tsquery" for i in range(len(required)))),
                authority=_AUTHORITY,
            )
            async with conn.transaction():
                # The planner cannot estimate an OR of prefixes and guesses most of the table; a
                # sequential scan then evaluates `@@` on every section (35 ms at 10,000). The GIN
                # scan costs what it matches, which the candidate budget bounds.
                # Within one document the planner's own plan is right: find the document, then
                # its sections by (document_id, ordinal) — not the whole index's GIN matches.
                await conn.execute("set local max_parallel_workers_per_gather = 0"
                                   + ("" if dense or query.document is not None else "; set local enable_seqscan = off"))
                scan = None if self._exhaustive else _WIDE_SCAN if dense else _CANDIDATE_CAP
                cur = await conn.execute(sql, {**params, "scan": scan})
                rows = await cur.fetchall()
                for extra in rounds[1:]:
                    if len(rows) >= query.limit:
                        break
                    # The free places go to sections with the more frequent words, ranked among
                    # the first _WIDE_SCAN of them: a section beyond those can be missed (it
                    # scores low: its words are frequent); the search stays bounded at 100,000.
                    wider_q = _any_of([concepts[n] for n in extra])
                    cur = await conn.execute(sql, {**params, "filterq": wider_q, "scan": _WIDE_SCAN})
                    wide = await cur.fetchall()
                    seen = {row["id"] for row in rows}
                    rows = sorted([*rows, *(row for row in wide if row["id"] not in seen)],
                                  key=lambda row: -row["score"])[: query.limit]
            return rows

    # -- suggestions -------------------------------------------------------------------------
    async def ticket_exists(self, ticket_id: uuid.UUID) -> bool:
        row = await self._db.fetch_one("select 1 as one from support_tickets where id = %s", (ticket_id,))
        return row is not None

    async def add_suggestion(
        self,
        *,
        title: str,
        body: str,
        ticket_id: uuid.UUID | None,
        agent: str | None,
        target_document: str | None,
        target_section: str | None,
    ) -> Suggestion:
        row = await insert_once(
            self._db, """insert into knowledge_suggestions
                           (ticket_id, agent, title, body, target_document, target_section, idempotency_key)
                         values (%s, %s, %s, %s, %s, %s, %s)""",
            (ticket_id, agent, title, body, target_document, target_section),
            table="knowledge_suggestions", columns=_SUGGESTION_COLUMNS)
        return _suggestion(row)

    async def get_suggestion(self, suggestion_id: uuid.UUID) -> Suggestion:
        row = await self._db.fetch_one(
            f"select {_SUGGESTION_COLUMNS} from knowledge_suggestions where id = %s", (suggestion_id,)
        )
        if row is None:
            raise NotFound(f"knowledge suggestion {suggestion_id} does not exist")
        return _suggestion(row)

    async def list_suggestions(self, *, status: str | None = None, limit: int = 50) -> list[Suggestion]:
        rows = await self._db.fetch_all(
            f"""select {_SUGGESTION_COLUMNS} from knowledge_suggestions
                where %(status)s::text is null or status = %(status)s
                order by created_at desc, id limit %(limit)s""",
            {"status": status, "limit": limit},
        )
        return [_suggestion(r) for r in rows]

    async def review_suggestion(
        self, suggestion_id: uuid.UUID, *, status: str, reviewer: str, reviewed_at: datetime
    ) -> Suggestion | None:
        """Set the verdict on a proposed suggestion; None when it is not (or no longer) proposed."""
        row = await self._db.fetch_one(
            f"""update knowledge_suggestions set status = %s, reviewer = %s, reviewed_at = %s
                where id = %s and status = 'proposed' returning {_SUGGESTION_COLUMNS}""",
            (status, reviewer, reviewed_at, suggestion_id),
        )
        return None if row is None else _suggestion(row)


def _section(row: Row) -> KnowledgeSection:
    return KnowledgeSection(**{**row, "agents": tuple(row["agents"])})
