-- Deployments that belong to no ticket (issue 13): a CI pipeline reports each deploy with the
-- time it happened (`support-mcp events add --type deployment --at …`, MCP `record_deployment`
-- as the `ci` identity). The customer's `support_automation_events` requires a ticket and is left
-- as it is; the hetzner-ops `deploy_age` check reads both.

create table if not exists support_mcp_deployments (
    id uuid primary key default gen_random_uuid(),
    deployed_at timestamptz not null,           -- when the deploy happened (not when it was reported)
    status text not null default 'succeeded' check (status in ('succeeded', 'failed', 'started')),
    source text not null default 'ci',          -- the identity that reported it
    payload jsonb not null default '{}',        -- commit, pipeline, release … as the CI sends them
    idempotency_key text unique,                -- a retried report is stored once
    created_at timestamptz not null default now()
);

create index if not exists support_mcp_deployments_deployed_idx on support_mcp_deployments (deployed_at desc);
