-- Incident: a privileges cleanup ("the browser must not write stats") revoked too much:
-- SELECT on bot_stats is gone for authenticated. supabase.rpc('get_my_bots') works with the
-- service key but fails for every signed-in user: permission denied for table bot_stats (42501).
revoke select on public.bot_stats from authenticated;
