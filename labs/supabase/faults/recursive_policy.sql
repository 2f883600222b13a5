-- Incident: the team policy was "simplified" to query team_members from its own policy;
-- every read of team_members fails with 42P17 (infinite recursion detected in policy).
DROP POLICY team_members_select_team ON public.team_members;
CREATE POLICY team_members_select_team ON public.team_members FOR SELECT TO authenticated
  USING (EXISTS (SELECT 1 FROM public.team_members m
                 WHERE m.team_id = team_members.team_id AND m.user_id = (SELECT auth.uid())));
