-- Repair plans (playbook 2.2, 3.2, 4.2): drafted, dry-run, hashed, approved by a named human
-- with an expiry, applied only with that exact hash, then validated.

create table if not exists repair_plans (
    id uuid primary key default gen_random_uuid(),
    ticket_id uuid not null references support_tickets (id) on delete cascade,
    run_id uuid references agent_runs (id) on delete set null,
    agent text not null,
    repair text not null,
    title text not null,
    params jsonb not null default '{}',
    steps jsonb not null default '[]',
    dry_run_ok boolean,
    dry_run_output text,
    fingerprint text,
    plan_hash text,
    status text not null default 'draft'
        check (status in ('draft', 'dry_run', 'approved', 'applied', 'failed', 'validated', 'validation_failed')),
    apply_output text,
    validation jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index if not exists repair_plans_ticket_idx on repair_plans (ticket_id, created_at desc);

create table if not exists plan_approvals (
    id uuid primary key default gen_random_uuid(),
    plan_id uuid not null references repair_plans (id) on delete cascade,
    plan_hash text not null,
    approver text not null,
    approved_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    check (expires_at > approved_at)
);

create index if not exists plan_approvals_plan_idx on plan_approvals (plan_id, approved_at desc);
