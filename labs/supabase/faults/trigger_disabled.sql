-- Incident: someone disabled the sign-up trigger during a data import and forgot it;
-- users who signed up since have no profile (and no subscription).
ALTER TABLE auth.users DISABLE TRIGGER on_auth_user_created;
INSERT INTO auth.users (id, email, email_confirmed_at, raw_user_meta_data)
VALUES ('66666666-6666-4666-8666-666666666666', 'fritz@example.com', now(), '{"full_name": "Fritz Falk"}');
