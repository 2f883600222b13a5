-- Incident: a new table in the exposed schema was created without RLS; the anon key reads
-- every user's API keys through the Data API.
CREATE TABLE public.api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  label text NOT NULL,
  key_hash text NOT NULL
);
GRANT SELECT ON public.api_keys TO anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.api_keys TO service_role;
INSERT INTO public.api_keys (user_id, label, key_hash) VALUES
  ('11111111-1111-4111-8111-111111111111', 'prod', 'h$1'),
  ('22222222-2222-4222-8222-222222222222', 'bot', 'h$2');
