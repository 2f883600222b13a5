-- A document's authority (issue 12): how much its sections weigh against other documents that
-- match a query as well. The customer's playbook is the binding procedure of every Tier-2 run
-- ("verbindlicher Arbeitsablauf"); runbooks, post-mortems and the like answer around it. Set in a
-- document's front matter (`authority: 2`), 1 when absent. A search multiplies a section's score
-- by it, and the sections of documents above 1 are always ranked, not only when their words are
-- the query's rarest (store/knowledge.py).
alter table knowledge_documents
    add column if not exists authority real not null default 1
        check (authority >= 0.1 and authority <= 10);

create index if not exists knowledge_documents_authority_idx on knowledge_documents (id, authority)
    where authority <> 1;

-- Headings first (issue 12): when a word is in more sections than a search ranks, the search
-- takes those with it in their breadcrumb first — the sections whose score it weighs most
-- (1.0 against 0.3 in the body) — through this index, and fills up from the body index.
create index if not exists knowledge_sections_breadcrumb_idx on knowledge_sections using gin (breadcrumb_vector);
