-- Who gave an approval, as the system knows them (issue 15): the identity of the MCP session, the
-- portal login or the command line's user — not only the name the person typed. An approval whose
-- identity is an agent's is never used by `apply` (store/plans.py use_approval), whatever its
-- origin. Approvals from before this migration were given through the command line, the portal
-- or elicitation; they keep working under 'unrecorded'.
alter table plan_approvals add column if not exists approver_identity text not null default 'unrecorded';
