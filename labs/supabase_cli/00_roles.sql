-- The roles a Supabase project has before any table exists (supabase/postgres init scripts and
-- migrations). Roles are cluster-wide: created here only when missing, never altered when they
-- already exist (labs/supabase and other test databases share them), never dropped.
--
-- The four API roles are created exactly as labs/supabase/00_roles.sql creates them, so either
-- lab may run first. Upstream later switched anon/authenticated/service_role to INHERIT; they
-- are members of no other role here, so the flag changes nothing.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator NOINHERIT LOGIN;
  END IF;
  -- Owner of the auth schema. Upstream it is the image's superuser; in a shared test cluster it
  -- gets no attributes at all (nothing logs in as it, it only owns objects).
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supabase_admin') THEN
    CREATE ROLE supabase_admin NOLOGIN;
  END IF;
  -- The auth server's role: owns the auth tables and functions and runs its migrations.
  -- Upstream: NOINHERIT CREATEROLE LOGIN, search_path = auth. Here NOLOGIN without CREATEROLE
  -- (the lab is reached as postgres; SET ROLE works without LOGIN); the search_path setting is
  -- kept because it is what makes an unqualified name in a sign-up trigger fail upstream.
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN
    CREATE ROLE supabase_auth_admin NOLOGIN NOINHERIT;
    ALTER ROLE supabase_auth_admin SET search_path = auth;
  END IF;
END
$roles$;

-- PostgREST logs in as authenticator and switches to the role the JWT names.
GRANT anon, authenticated, service_role TO authenticator;
