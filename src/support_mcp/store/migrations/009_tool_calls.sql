-- Retried MCP writes (issue 15): a writing tool called with an `idempotency_key` is recorded here
-- per identity. A retry whose first call finished gets the first call's answer again; a retry
-- whose first call died before its answer was recorded runs again, and every note and event it
-- writes carries a key derived from the call's (store/idempotency.py), so nothing is stored twice.
create table if not exists mcp_tool_calls (
    identity text not null,
    idempotency_key text not null check (length(idempotency_key) between 1 and 200),
    tool text not null,
    arguments_sha256 text not null,
    result text,                         -- null while the first call has not answered
    created_at timestamptz not null default now(),
    completed_at timestamptz,
    primary key (identity, idempotency_key)
);

-- The other rows a tool call writes get the call's derived key too: a re-run draft, approval or
-- knowledge suggestion finds the first one instead of adding a second.
alter table repair_plans add column if not exists idempotency_key text;
create unique index if not exists repair_plans_idempotency_key_idx
    on repair_plans (idempotency_key) where idempotency_key is not null;
alter table plan_approvals add column if not exists idempotency_key text;
create unique index if not exists plan_approvals_idempotency_key_idx
    on plan_approvals (idempotency_key) where idempotency_key is not null;
alter table knowledge_suggestions add column if not exists idempotency_key text;
create unique index if not exists knowledge_suggestions_idempotency_key_idx
    on knowledge_suggestions (idempotency_key) where idempotency_key is not null;
