-- Indexes for the context bundle's message reads (playbook 1.1), usable by prepared statements.
--
-- psycopg prepares a query after 5 executions and PostgreSQL then settles on a generic plan, in
-- which `author_kind = $2` and `internal_only = $2` have no known value. The partial indexes of
-- 001 (`where author_kind = 'customer'`, `where internal_only`) cannot serve such a plan, so it
-- fell back to (ticket_id, created_at) and filtered: on a ticket flooded with command notes it
-- read every note back to the tenth customer message (benchmarks/ticket_context.py). With the
-- filter column in the key, custom and generic plans both seek straight to the rows; `id desc`
-- matches the query's tie-breaker, so no sort step is needed before the LIMIT.

create index if not exists support_ticket_messages_ticket_author_created_idx
    on support_ticket_messages (ticket_id, author_kind, created_at desc, id desc);
create index if not exists support_ticket_messages_ticket_internal_created_idx
    on support_ticket_messages (ticket_id, internal_only, created_at desc, id desc);

-- Superseded by the two above for every query they served; each index costs every note written.
drop index if exists support_ticket_messages_customer_idx;
drop index if exists support_ticket_messages_internal_idx;
