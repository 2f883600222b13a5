-- Incident: a banned user and a deleted user still hold live sessions and refresh tokens.
UPDATE auth.users SET banned_until = now() + interval '100 years'
  WHERE id = '22222222-2222-4222-8222-222222222222';
UPDATE auth.users SET deleted_at = now() - interval '1 day'
  WHERE id = '44444444-4444-4444-8444-444444444444';
INSERT INTO auth.sessions (id, user_id, user_agent, ip) VALUES
  ('a4444444-4444-4444-8444-444444444444', '44444444-4444-4444-8444-444444444444', 'curl/8.5', '198.51.100.7');
INSERT INTO auth.refresh_tokens (token, user_id, session_id)
  VALUES ('rt-a4444444', '44444444-4444-4444-8444-444444444444', 'a4444444-4444-4444-8444-444444444444');
