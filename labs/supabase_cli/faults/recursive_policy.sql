-- Incident: the team policy was "simplified" to look at bots directly instead of through
-- private.owns_bot(); bots' policy reads bot_members and bot_members' policy now reads bots:
-- every read of bots, bot_members, bot_stats and get_my_bots() fails with 42P17
-- (infinite recursion detected in policy for relation "bots").
drop policy "Members can view their bot team" on public.bot_members;
create policy "Members can view their bot team" on public.bot_members
  for select to authenticated using (
    user_id = (select auth.uid())
    or exists (
      select 1 from public.bots b
      where b.id = bot_members.bot_id and b.owner_id = (select auth.uid())
    )
  );
