-- Incident: a migration recreated auth hooks and dropped on_auth_user_created; new users
-- sign up fine but have no profile.
DROP TRIGGER on_auth_user_created ON auth.users;
INSERT INTO auth.users (id, email, email_confirmed_at, raw_user_meta_data)
VALUES ('66666666-6666-4666-8666-666666666666', 'fritz@example.com', now(), '{"full_name": "Fritz Falk"}');
