-- Incident: to "fix" an empty profile page someone allowed every visitor to read every
-- profile: a permissive policy USING (true) for anon.
GRANT SELECT ON public.profiles TO anon;
CREATE POLICY profiles_select_all ON public.profiles FOR SELECT TO anon USING (true);
