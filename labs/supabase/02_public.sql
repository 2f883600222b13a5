-- The application schema as the customer's migrations build it: profiles filled by the
-- sign-up trigger, a free subscription per user, teams, usage stats and one RPC.
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

CREATE TABLE public.profiles (
  id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  email text,
  full_name text,
  avatar_url text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.subscriptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL UNIQUE REFERENCES auth.users (id) ON DELETE CASCADE,
  plan text NOT NULL DEFAULT 'free',
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'canceled', 'past_due')),
  current_period_end timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.teams (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.team_members (
  team_id uuid NOT NULL REFERENCES public.teams (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  role text NOT NULL DEFAULT 'member',
  PRIMARY KEY (team_id, user_id)
);

CREATE TABLE public.usage_stats (
  user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  messages_sent integer NOT NULL DEFAULT 0,
  bots integer NOT NULL DEFAULT 0
);

-- create_free_subscription(): every new user starts on the free plan.
CREATE OR REPLACE FUNCTION public.create_free_subscription(p_user_id uuid)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  INSERT INTO public.subscriptions (user_id, plan, status, current_period_end)
  VALUES (p_user_id, 'free', 'active', now() + interval '30 days')
  ON CONFLICT (user_id) DO NOTHING;
  INSERT INTO public.usage_stats (user_id) VALUES (p_user_id) ON CONFLICT (user_id) DO NOTHING;
END
$$;

-- handle_new_user(): Supabase's documented pattern for a profile per auth user.
CREATE OR REPLACE FUNCTION public.handle_new_user()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  INSERT INTO public.profiles (id, email, full_name, avatar_url)
  VALUES (new.id, new.email, new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'avatar_url');
  PERFORM public.create_free_subscription(new.id);
  RETURN new;
END
$$;

CREATE TRIGGER on_auth_user_created
  AFTER INSERT ON auth.users
  FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();

-- Team membership checked in a SECURITY DEFINER helper, so team_members' own policy does not
-- query team_members under RLS again (the documented way around recursion).
CREATE OR REPLACE FUNCTION public.is_team_member(p_team_id uuid)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT EXISTS (SELECT 1 FROM public.team_members m
                 WHERE m.team_id = p_team_id AND m.user_id = (SELECT auth.uid()))
$$;

-- The dashboard RPC: `supabase.rpc('get_dashboard_stats')`, runs as the caller.
CREATE OR REPLACE FUNCTION public.get_dashboard_stats()
RETURNS TABLE (messages_sent integer, bots integer, plan text)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT u.messages_sent, u.bots, s.plan
  FROM public.usage_stats u JOIN public.subscriptions s ON s.user_id = u.user_id
  WHERE u.user_id = (SELECT auth.uid())
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO service_role;
GRANT SELECT, UPDATE ON public.profiles TO authenticated;
GRANT SELECT ON public.subscriptions, public.teams, public.team_members, public.usage_stats TO authenticated;
GRANT EXECUTE ON FUNCTION public.get_dashboard_stats(), public.is_team_member(uuid) TO authenticated, service_role;
REVOKE EXECUTE ON FUNCTION public.handle_new_user(), public.create_free_subscription(uuid) FROM PUBLIC, anon, authenticated;

ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.teams ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.team_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.usage_stats ENABLE ROW LEVEL SECURITY;

CREATE POLICY profiles_select_own ON public.profiles FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) = id);
CREATE POLICY profiles_update_own ON public.profiles FOR UPDATE TO authenticated
  USING ((SELECT auth.uid()) = id) WITH CHECK ((SELECT auth.uid()) = id);
CREATE POLICY subscriptions_select_own ON public.subscriptions FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) = user_id);
CREATE POLICY teams_select_member ON public.teams FOR SELECT TO authenticated
  USING (public.is_team_member(id));
CREATE POLICY team_members_select_team ON public.team_members FOR SELECT TO authenticated
  USING (public.is_team_member(team_id));
CREATE POLICY usage_stats_select_own ON public.usage_stats FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) = user_id);
