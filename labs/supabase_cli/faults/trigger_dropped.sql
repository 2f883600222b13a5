-- Incident: a script that "re-created the auth hooks" dropped on_auth_user_created and did not
-- create it again; handle_new_user() still exists. paul signed up since and has neither a
-- profile nor a plan.
drop trigger on_auth_user_created on auth.users;
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  confirmation_token, recovery_token, email_change_token_new, email_change, raw_app_meta_data,
  raw_user_meta_data, created_at, updated_at, last_sign_in_at)
values ('00000000-0000-0000-0000-000000000000', '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a56', 'authenticated',
  'authenticated', 'paul@example.de', extensions.crypt('lab-password', extensions.gen_salt('bf')), now(),
  '', '', '', '', '{"provider": "email", "providers": ["email"]}',
  '{"sub": "6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a56", "email": "paul@example.de", "email_verified": true, "phone_verified": false, "username": "paul", "display_name": "Paul Neumann"}',
  now(), now(), now());
insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
values ('6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a56', '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a56',
  '{"sub": "6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a56", "email": "paul@example.de", "email_verified": true, "phone_verified": false}',
  'email', now(), now(), now());
