-- The playbook's ticket tables. On an existing Supabase project they are used as they are:
-- `create table if not exists` leaves them alone and `add column if not exists` adds only
-- what this tool needs and the project lacks.

-- gen_random_uuid() is built into PostgreSQL 13+, so no extension is needed (the embedded
-- server ships without pgcrypto).

create table if not exists support_tickets (
    id uuid primary key default gen_random_uuid()
);
alter table support_tickets
    add column if not exists subject text not null default '',
    add column if not exists status text not null default 'open',
    add column if not exists priority text not null default 'normal',
    add column if not exists tier integer not null default 1,
    add column if not exists customer text,
    add column if not exists escalation_path text[] not null default '{}',
    add column if not exists assigned_agent text,
    add column if not exists created_at timestamptz not null default now(),
    add column if not exists updated_at timestamptz not null default now();

create index if not exists support_tickets_status_updated_idx
    on support_tickets (status, updated_at desc);

create table if not exists support_ticket_messages (
    id uuid primary key default gen_random_uuid(),
    ticket_id uuid not null references support_tickets (id) on delete cascade
);
alter table support_ticket_messages
    add column if not exists author_kind text not null default 'system',
    add column if not exists author_name text,
    add column if not exists body text not null default '',
    add column if not exists internal_only boolean not null default true,
    add column if not exists tags text[] not null default '{}',
    add column if not exists metadata jsonb not null default '{}',
    add column if not exists idempotency_key text,
    add column if not exists created_at timestamptz not null default now();

-- A resumed run re-sends its notes with the same key; the second insert is a no-op.
create unique index if not exists support_ticket_messages_idempotency_key_idx
    on support_ticket_messages (idempotency_key) where idempotency_key is not null;
-- The context bundle reads "last N customer messages" and "internal notes" of one ticket.
create index if not exists support_ticket_messages_ticket_created_idx
    on support_ticket_messages (ticket_id, created_at desc);
create index if not exists support_ticket_messages_customer_idx
    on support_ticket_messages (ticket_id, created_at desc) where author_kind = 'customer';
create index if not exists support_ticket_messages_internal_idx
    on support_ticket_messages (ticket_id, created_at desc) where internal_only;
create index if not exists support_ticket_messages_tags_idx
    on support_ticket_messages using gin (tags);

create table if not exists support_automation_events (
    id uuid primary key default gen_random_uuid(),
    ticket_id uuid not null references support_tickets (id) on delete cascade
);
alter table support_automation_events
    add column if not exists agent text,
    add column if not exists event_type text not null default 'note',
    add column if not exists status text not null default 'info',
    add column if not exists payload jsonb not null default '{}',
    add column if not exists resolves_event_id uuid references support_automation_events (id),
    add column if not exists idempotency_key text,
    add column if not exists created_at timestamptz not null default now();

create unique index if not exists support_automation_events_idempotency_key_idx
    on support_automation_events (idempotency_key) where idempotency_key is not null;
create index if not exists support_automation_events_ticket_created_idx
    on support_automation_events (ticket_id, created_at desc);
create index if not exists support_automation_events_open_idx
    on support_automation_events (ticket_id, created_at desc) where status = 'open';
create index if not exists support_automation_events_resolves_idx
    on support_automation_events (resolves_event_id) where resolves_event_id is not null;
create index if not exists support_automation_events_type_idx
    on support_automation_events (event_type, created_at desc);

-- Append-only: an event is closed by a later event that names it (resolves_event_id),
-- never by rewriting history.
create or replace function support_automation_events_append_only() returns trigger
language plpgsql as $$
begin
    raise exception 'support_automation_events is append-only (% refused)', tg_op
        using errcode = 'P0001';
end;
$$;

drop trigger if exists support_automation_events_append_only on support_automation_events;
create trigger support_automation_events_append_only
    before update or delete on support_automation_events
    for each row
    when (pg_trigger_depth() = 0)
    execute function support_automation_events_append_only();
