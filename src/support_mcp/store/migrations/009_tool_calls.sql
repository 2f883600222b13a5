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
