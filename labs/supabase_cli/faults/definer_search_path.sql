-- Incident: the plan helper was edited in the dashboard's SQL editor ("trial for new users,
-- reverted the same day") and re-created without `set search_path`: a SECURITY DEFINER
-- function whose search_path the caller controls.
create or replace function public.create_user_plan(new_user_id uuid, plan text default 'free')
returns bigint
language plpgsql
security definer
as $$
declare
  plan_row_id bigint;
begin
  insert into public.user_plans (user_id, plan_id, status, renews_at)
  values (new_user_id, plan, 'active', now() + interval '1 month')
  on conflict (user_id) do nothing
  returning id into plan_row_id;
  return plan_row_id;
end;
$$;
