-- Incident: the free plan was renamed to 'starter' in the sign-up helper but the plan row was
-- never added to billing_plans: every sign-up now violates user_plans_plan_id_fkey (23503) and
-- the auth server answers "Database error saving new user".
create or replace function public.create_user_plan(new_user_id uuid, plan text default 'starter')
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  plan_row_id bigint;
begin
  insert into public.user_plans (user_id, plan_id, status, renews_at)
  values (new_user_id, plan, 'trialing', now() + interval '14 days')
  on conflict (user_id) do nothing
  returning id into plan_row_id;
  return plan_row_id;
end;
$$;
