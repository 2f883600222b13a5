-- Supabase keeps extensions out of the exposed schema: they live in `extensions`, which the API
-- roles may use (seed passwords are hashed with extensions.crypt(), profiles.updated_at is kept
-- by extensions.moddatetime()).
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS moddatetime WITH SCHEMA extensions;
GRANT USAGE ON SCHEMA extensions TO anon, authenticated, service_role;
