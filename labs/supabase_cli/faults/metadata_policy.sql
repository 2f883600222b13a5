-- Incident: an "admin" policy on user_plans trusts the JWT's user_metadata, i.e. the user's own
-- raw_user_meta_data, which anybody can change with supabase.auth.updateUser({ data: { role:
-- 'admin' } }) - and lea did: she now reads every customer's plan and Stripe id.
create policy "Admins can view all plans" on public.user_plans
  for select to authenticated using ((auth.jwt() -> 'user_metadata' ->> 'role') = 'admin');
update auth.users set raw_user_meta_data = raw_user_meta_data || '{"role": "admin"}', updated_at = now()
  where id = '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a53';
