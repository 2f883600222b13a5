-- Incident: an "admin" policy trusts raw_user_meta_data, which every user can edit with
-- supabase.auth.updateUser({ data: { role: 'admin' } }): anyone can read all subscriptions.
CREATE POLICY subscriptions_select_admin ON public.subscriptions FOR SELECT TO authenticated
  USING ((auth.jwt() -> 'user_metadata' ->> 'role') = 'admin');
