-- Seed as the auth server writes sign-ups (fixed ids for tests): four confirmed e-mail users,
-- each with an identity, a live session, a refresh token, an amr claim and a login audit entry;
-- one invited user who never confirmed. The sign-up trigger makes their profiles and plans.
--
--   mara@example.de   6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a51  pro plan, two bots, jonas on her team
--   jonas@example.de  6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a52  free, one bot
--   lea@example.de    6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a53  free, one bot
--   tobias@example.de 6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a54  business, no bot yet
--   nina@example.de   6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a55  invited, unconfirmed, no session
-- Password of the confirmed users: "lab-password" (bcrypt, as the server stores it).

insert into public.billing_plans (id, name, price_cents, max_bots, max_messages_per_month) values
  ('free', 'Free', 0, 1, 1000),
  ('pro', 'Pro', 1900, 5, 20000),
  ('business', 'Business', 7900, 25, 200000);

with seed (id, email, username, display_name, confirmed, age) as (values
  ('6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a51'::uuid, 'mara@example.de', 'mara', 'Mara Hoffmann', true, 40),
  ('6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a52'::uuid, 'jonas@example.de', 'jonas_k', 'Jonas Keller', true, 30),
  ('6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a53'::uuid, 'lea@example.de', 'lea.w', 'Lea Wagner', true, 20),
  ('6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a54'::uuid, 'tobias@example.de', 'tobi', 'Tobias Braun', true, 10),
  ('6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a55'::uuid, 'nina@example.de', null, null, false, 2)
)
insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, invited_at,
  confirmation_token, confirmation_sent_at, recovery_token, email_change_token_new, email_change,
  last_sign_in_at, raw_app_meta_data, raw_user_meta_data, is_super_admin, created_at, updated_at,
  is_sso_user, is_anonymous)
select
  '00000000-0000-0000-0000-000000000000', id, 'authenticated', 'authenticated', email,
  case when confirmed then extensions.crypt('lab-password', extensions.gen_salt('bf')) else '' end,
  case when confirmed then now() - make_interval(days => age) + interval '5 minutes' end,
  case when not confirmed then now() - make_interval(days => age) end,
  case when confirmed then '' else encode(extensions.digest(email, 'sha224'), 'hex') end,
  now() - make_interval(days => age),
  '', '', '',
  case when confirmed then now() - interval '1 hour' end,
  '{"provider": "email", "providers": ["email"]}'::jsonb,
  jsonb_strip_nulls(jsonb_build_object(
    'sub', id::text, 'email', email, 'email_verified', confirmed, 'phone_verified', false,
    'username', username, 'display_name', display_name)),
  null, now() - make_interval(days => age), now() - interval '1 hour',
  false, false
from seed;

insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
select u.id::text, u.id,
       jsonb_build_object('sub', u.id::text, 'email', u.email,
                          'email_verified', u.email_confirmed_at is not null, 'phone_verified', false),
       'email', u.last_sign_in_at, u.created_at, u.updated_at
from auth.users u;

-- one live session per confirmed user (no not_after: valid until signed out)
insert into auth.sessions (id, user_id, created_at, updated_at, aal, refreshed_at, user_agent, ip)
select ('5e551000-0000-4000-8000-0000000000' || right(u.id::text, 2))::uuid, u.id,
       now() - interval '1 hour', now() - interval '10 minutes', 'aal1',
       (now() - interval '10 minutes')::timestamp,
       'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15',
       ('192.0.2.' || right(u.id::text, 2)::int)::inet
from auth.users u where u.email_confirmed_at is not null;

insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
select '00000000-0000-0000-0000-000000000000', 'rt' || right(s.id::text, 10), s.user_id::text, false,
       s.created_at, s.updated_at, null, s.id
from auth.sessions s;

insert into auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id)
select s.id, s.created_at, s.created_at, 'password', ('a3c00000-0000-4000-8000-0000000000' || right(s.id::text, 2))::uuid
from auth.sessions s;

insert into auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
select '00000000-0000-0000-0000-000000000000',
       ('a0d17000-0000-4000-8000-0000000000' || right(s.id::text, 2))::uuid,
       json_build_object('action', 'login', 'actor_id', s.user_id::text, 'actor_username', u.email,
                         'actor_via_sso', false, 'log_type', 'account',
                         'traits', json_build_object('provider', 'email')),
       s.created_at, host(s.ip)
from auth.sessions s join auth.users u on u.id = s.user_id;

-- plans beyond the free one the trigger gave everybody
update public.user_plans set plan_id = 'pro', stripe_customer_id = 'cus_lab_mara'
  where user_id = '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a51';
update public.user_plans set plan_id = 'business', stripe_customer_id = 'cus_lab_tobias'
  where user_id = '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a54';

insert into public.profiles (id, username, display_name, website) values
  ('6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a51', 'mara', 'Mara Hoffmann', 'https://salon-hoffmann.example.de')
  on conflict (id) do update set website = excluded.website;

insert into public.bots (id, owner_id, name, whatsapp_number, status, welcome_message, created_at) values
  ('b07b0700-0000-4000-8000-000000000001', '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a51', 'Salon Terminbot',
   '+49 30 1234561', 'live', 'Hallo! Möchtest du einen Termin buchen?', now() - interval '35 days'),
  ('b07b0700-0000-4000-8000-000000000002', '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a51', 'Salon Bewertungen',
   '+49 30 1234562', 'paused', 'Danke für deinen Besuch!', now() - interval '20 days'),
  ('b07b0700-0000-4000-8000-000000000003', '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a52', 'Fahrradladen Support',
   null, 'draft', null, now() - interval '12 days'),
  ('b07b0700-0000-4000-8000-000000000004', '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a53', 'Yoga Kursbuchung',
   '+49 89 7654321', 'live', 'Namaste! Welcher Kurs interessiert dich?', now() - interval '15 days');

insert into public.bot_members (bot_id, user_id, role) values
  ('b07b0700-0000-4000-8000-000000000001', '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a52', 'editor');

insert into public.bot_stats (bot_id, messages_in, messages_out, last_message_at) values
  ('b07b0700-0000-4000-8000-000000000001', 1840, 1795, now() - interval '2 hours'),
  ('b07b0700-0000-4000-8000-000000000002', 210, 205, now() - interval '6 days'),
  ('b07b0700-0000-4000-8000-000000000004', 532, 540, now() - interval '1 day');
