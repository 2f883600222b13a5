-- Incident: a billing change made new subscriptions start as 'trialing', which the status
-- CHECK does not allow; every sign-up now fails ("Database error saving new user").
CREATE OR REPLACE FUNCTION public.create_free_subscription(p_user_id uuid)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  INSERT INTO public.subscriptions (user_id, plan, status, current_period_end)
  VALUES (p_user_id, 'free', 'trialing', now() + interval '14 days')
  ON CONFLICT (user_id) DO NOTHING;
  INSERT INTO public.usage_stats (user_id) VALUES (p_user_id) ON CONFLICT (user_id) DO NOTHING;
END
$$;
