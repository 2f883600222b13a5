-- Five users signed up through the trigger, with sessions and a team (fixed ids for tests).
INSERT INTO auth.users (id, email, email_confirmed_at, raw_user_meta_data, last_sign_in_at) VALUES
  ('11111111-1111-4111-8111-111111111111', 'anna@example.com', now(), '{"full_name": "Anna Adler"}', now()),
  ('22222222-2222-4222-8222-222222222222', 'ben@example.com', now(), '{"full_name": "Ben Berg"}', now()),
  ('33333333-3333-4333-8333-333333333333', 'carla@example.com', now(), '{"full_name": "Carla Cruz"}', now()),
  ('44444444-4444-4444-8444-444444444444', 'dana@example.com', now(), '{"full_name": "Dana Dorn"}', now()),
  ('55555555-5555-4555-8555-555555555555', 'emil@example.com', NULL, '{"full_name": "Emil Eck"}', NULL);
INSERT INTO auth.identities (provider_id, user_id, identity_data, provider)
SELECT id::text, id, jsonb_build_object('sub', id::text, 'email', email), 'email' FROM auth.users;
INSERT INTO auth.sessions (id, user_id, user_agent, ip) VALUES
  ('a1111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-111111111111', 'Mozilla/5.0', '203.0.113.10'),
  ('a2222222-2222-4222-8222-222222222222', '22222222-2222-4222-8222-222222222222', 'Mozilla/5.0', '203.0.113.11'),
  ('a3333333-3333-4333-8333-333333333333', '33333333-3333-4333-8333-333333333333', 'Mozilla/5.0', '203.0.113.12');
INSERT INTO auth.refresh_tokens (token, user_id, session_id)
SELECT 'rt-' || left(id::text, 8), user_id::text, id FROM auth.sessions;
UPDATE public.usage_stats SET messages_sent = 42, bots = 2 WHERE user_id = '11111111-1111-4111-8111-111111111111';
INSERT INTO public.teams (id, name) VALUES ('77777777-7777-4777-8777-777777777777', 'Team Adler');
INSERT INTO public.team_members (team_id, user_id, role) VALUES
  ('77777777-7777-4777-8777-777777777777', '11111111-1111-4111-8111-111111111111', 'owner'),
  ('77777777-7777-4777-8777-777777777777', '22222222-2222-4222-8222-222222222222', 'member');
