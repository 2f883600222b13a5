-- Knowledge base (playbook 1.2 and 7) and agent runs (1.3 to 1.6).

create table if not exists knowledge_documents (
    id uuid primary key default gen_random_uuid(),
    -- Where the text came from: an absolute file path, or `package:<name>` for bundled files.
    source text not null unique,
    -- Short name used in filters and section references (file stem, made unique on ingest).
    key text not null unique,
    title text not null,
    version text,
    language text not null default 'de' check (language in ('de', 'en')),
    agents text[] not null default '{}',
    content_hash text not null,
    body text not null,
    ingested_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table if not exists knowledge_sections (
    id uuid primary key default gen_random_uuid(),
    document_id uuid not null references knowledge_documents (id) on delete cascade,
    ordinal integer not null,
    level integer not null,
    heading text not null,
    breadcrumb text not null,
    anchor text not null,
    body text not null,
    language text not null default 'de' check (language in ('de', 'en')),
    -- Empty: common to all agents, so it matches every agent filter.
    agents text[] not null default '{}',
    -- Filled on ingest with both dictionaries (german, english): breadcrumb/title (A),
    -- headings inside the section (B), body (C). The two partial vectors let the ranking tell
    -- in which field a concept matched without re-parsing the text.
    search_vector tsvector not null default ''::tsvector,
    breadcrumb_vector tsvector not null default ''::tsvector,
    subheading_vector tsvector not null default ''::tsvector,
    unique (document_id, ordinal),
    unique (document_id, anchor)
);

create index if not exists knowledge_sections_search_idx
    on knowledge_sections using gin (search_vector);
create index if not exists knowledge_sections_agents_idx
    on knowledge_sections using gin (agents);

create table if not exists knowledge_suggestions (
    id uuid primary key default gen_random_uuid(),
    ticket_id uuid references support_tickets (id) on delete set null,
    agent text,
    title text not null,
    body text not null,
    target_document text,
    target_section text,
    status text not null default 'proposed' check (status in ('proposed', 'accepted', 'rejected')),
    reviewer text,
    reviewed_at timestamptz,
    created_at timestamptz not null default now()
);

create index if not exists knowledge_suggestions_status_idx
    on knowledge_suggestions (status, created_at desc);

create table if not exists agent_runs (
    id uuid primary key default gen_random_uuid(),
    ticket_id uuid not null references support_tickets (id) on delete cascade,
    agent text not null,
    status text not null default 'queued'
        check (status in ('queued', 'running', 'succeeded', 'escalated', 'failed')),
    hypothesis jsonb,
    verdict text check (verdict in ('confirmed', 'refuted', 'inconclusive')),
    checklist jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index if not exists agent_runs_ticket_idx on agent_runs (ticket_id, created_at desc);
create index if not exists agent_runs_queued_idx on agent_runs (created_at) where status = 'queued';

create table if not exists agent_run_steps (
    run_id uuid not null references agent_runs (id) on delete cascade,
    ordinal integer not null,
    name text not null,
    status text not null,
    started_at timestamptz,
    finished_at timestamptz,
    output jsonb not null default '{}',
    primary key (run_id, name)
);
