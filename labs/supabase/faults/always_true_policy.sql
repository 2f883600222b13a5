-- Incident: to "fix" an empty profile page someone gave every visitor a policy USING (true) —
-- written FOR ALL where FOR SELECT was meant, so anon may change and delete every profile too
-- (Supabase's advisor 0024 rls_policy_always_true; a FOR SELECT USING (true) alone is public read).
GRANT SELECT ON public.profiles TO anon;
CREATE POLICY profiles_select_all ON public.profiles FOR ALL TO anon USING (true);
