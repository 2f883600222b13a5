-- Incident: while "tidying up" policies in the dashboard someone deleted the SELECT policy of
-- profiles; RLS stays on and the INSERT/UPDATE policies remain, so every signed-in user now
-- sees no profile at all (the account page shows empty fields).
drop policy "Users can view own profile" on public.profiles;
