-- Incident: a cleanup migration dropped the SELECT policy of profiles; RLS stays on, so
-- every signed-in user reads an empty profile ("keine Daten").
DROP POLICY profiles_select_own ON public.profiles;
