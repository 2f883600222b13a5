-- Incident: a GRANT cleanup revoked SELECT on usage_stats from authenticated; the dashboard
-- RPC works with the service key (tests, cron) but fails for every signed-in user (42501).
REVOKE SELECT ON public.usage_stats FROM authenticated;
