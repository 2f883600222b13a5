-- Incident: the profiles foreign key was dropped in a migration; users deleted since then
-- left their profiles (and subscriptions rows stay consistent thanks to their own FK).
ALTER TABLE public.profiles DROP CONSTRAINT profiles_id_fkey;
DELETE FROM auth.users WHERE id = '33333333-3333-4333-8333-333333333333';
