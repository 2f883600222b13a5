-- Incident: the admin page edits plan limits from the browser, and someone picked the dashboard
-- template "Enable update for authenticated users only" for billing_plans: USING (true) WITH
-- CHECK (true) for an UPDATE, so every signed-in user may rewrite prices and limits (a free user
-- gave the free plan 1000 bots). Next to it the table's public read policy, FOR SELECT USING
-- (true), is legitimate and not this fault.
create policy "Enable update for authenticated users only" on public.billing_plans
  as permissive for update to authenticated using (true) with check (true);
