"""Catalog queries for the lints named after Supabase's advisor (splinter): the facts its lints
judge, over every schema splinter looks at (all but its list of system and Supabase-managed
schemas, `parsers.SPLINTER_EXCLUDED_SCHEMAS`) plus the schemas the target exposes.

Parameters: `excluded` (that list) and `schemas` (the target's exposed schemas, what splinter
reads from `pgrst.db_schemas`). The judging is in `parsers.lint_rls`; written for this project,
not copied from splinter."""

from __future__ import annotations

# One row per table that can carry policies. `extension`: a member of an extension (splinter
# leaves those out of 0006/0007/0008); `exposed`: in a schema the Data API serves.
TABLES = """
select n.nspname as schema, c.relname as table, c.relkind::text as kind, c.relrowsecurity as rls,
       exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e') as extension,
       n.nspname = any(%(schemas)s) as exposed,
       array(select r || ':' || cmd from unnest(array['anon', 'authenticated']) r,
             unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) cmd
             where has_table_privilege(r, c.oid, cmd)) as grants
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and (n.nspname <> all(%(excluded)s) or n.nspname = any(%(schemas)s))
order by 1, 2
"""

# Expressions as pg_policies shows them (pg_get_expr); roles by name, 'public' for PUBLIC.
POLICIES = """
select n.nspname as schema, c.relname as table, p.polname as policy, p.polpermissive as permissive,
       p.polcmd::text as cmd,
       array(select case when r = 0 then 'public' else pg_get_userbyid(r) end from unnest(p.polroles) r)
         as roles,
       pg_get_expr(p.polqual, p.polrelid) as qual, pg_get_expr(p.polwithcheck, p.polrelid) as with_check
from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname <> all(%(excluded)s) or n.nspname = any(%(schemas)s)
order by 1, 2, 3
"""

# A policy TO PUBLIC applies to every role of the cluster; 0006 counts it for each of them.
ROLES = "select rolname as role, rolbypassrls as bypassrls from pg_roles order by 1"

# splinter 0011 in full: every routine (functions, procedures, aggregates) outside the excluded
# schemas, not a member of an extension, with no `search_path=` entry in its settings. Same
# columns as queries.MUTABLE_SEARCH_PATH, so FunctionsCheck can run either.
MUTABLE_SEARCH_PATH = """
select n.nspname as schema, p.proname as name, pg_get_function_identity_arguments(p.oid) as args,
       p.prosecdef as security_definer,
       format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) as regprocedure,
       p.prokind::text as kind
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname <> all(%(excluded)s)
  and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
  and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%%')
order by 1, 2, 3
"""
