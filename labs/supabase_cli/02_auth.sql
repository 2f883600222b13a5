-- The `auth` schema as the Supabase auth server (supabase/auth) leaves it once all of its
-- migrations ran on top of the supabase/postgres init script: the final shape (columns in their
-- final order with type, default, nullability; keys, the indexes the server relies on, RLS,
-- grants), written as one script instead of ~80 migrations. See README.md for the sources.
--
-- What the analyst cares about: users (with its generated confirmed_at), identities (generated
-- email), sessions, refresh_tokens (bigserial id, user_id as varchar), mfa_*, one_time_tokens,
-- the server's own schema_migrations, and auth.uid()/role()/email()/jwt().
-- Note: the server generates ids itself; auth.users.id, sessions.id etc. have NO default.

CREATE SCHEMA IF NOT EXISTS auth;
ALTER SCHEMA auth OWNER TO supabase_admin;

-- ---------------------------------------------------------------- enum types
CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
CREATE TYPE auth.code_challenge_method AS ENUM ('s256', 'plain');
CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone');
CREATE TYPE auth.one_time_token_type AS ENUM (
  'confirmation_token', 'reauthentication_token', 'recovery_token',
  'email_change_token_new', 'email_change_token_current', 'phone_change_token');
CREATE TYPE auth.oauth_authorization_status AS ENUM ('pending', 'approved', 'denied', 'expired');
CREATE TYPE auth.oauth_client_type AS ENUM ('public', 'confidential');
CREATE TYPE auth.oauth_registration_type AS ENUM ('dynamic', 'manual');
CREATE TYPE auth.oauth_response_type AS ENUM ('code');

-- ---------------------------------------------------------------- users and identities
CREATE TABLE auth.users (
  instance_id                 uuid,
  id                          uuid NOT NULL,
  aud                         varchar(255),
  role                        varchar(255),
  email                       varchar(255),
  encrypted_password          varchar(255),
  email_confirmed_at          timestamptz,
  invited_at                  timestamptz,
  confirmation_token          varchar(255),
  confirmation_sent_at        timestamptz,
  recovery_token              varchar(255),
  recovery_sent_at            timestamptz,
  email_change_token_new      varchar(255),
  email_change                varchar(255),
  email_change_sent_at        timestamptz,
  last_sign_in_at             timestamptz,
  raw_app_meta_data           jsonb,
  raw_user_meta_data          jsonb,
  is_super_admin              boolean,
  created_at                  timestamptz,
  updated_at                  timestamptz,
  phone                       text DEFAULT NULL::varchar,
  phone_confirmed_at          timestamptz,
  phone_change                text DEFAULT ''::varchar,
  phone_change_token          varchar(255) DEFAULT ''::varchar,
  phone_change_sent_at        timestamptz,
  confirmed_at                timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
  email_change_token_current  varchar(255) DEFAULT ''::varchar,
  email_change_confirm_status smallint DEFAULT 0,
  banned_until                timestamptz,
  reauthentication_token      varchar(255) DEFAULT ''::varchar,
  reauthentication_sent_at    timestamptz,
  is_sso_user                 boolean NOT NULL DEFAULT false,
  deleted_at                  timestamptz,
  is_anonymous                boolean NOT NULL DEFAULT false,
  CONSTRAINT users_pkey PRIMARY KEY (id),
  CONSTRAINT users_phone_key UNIQUE (phone),
  CONSTRAINT users_email_change_confirm_status_check
    CHECK (email_change_confirm_status >= 0 AND email_change_confirm_status <= 2)
);
-- e-mail is unique only among non-SSO users; tokens are unique unless empty/numeric
CREATE UNIQUE INDEX users_email_partial_key ON auth.users (email) WHERE is_sso_user = false;
CREATE UNIQUE INDEX confirmation_token_idx ON auth.users (confirmation_token)
  WHERE confirmation_token::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX recovery_token_idx ON auth.users (recovery_token)
  WHERE recovery_token::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX email_change_token_new_idx ON auth.users (email_change_token_new)
  WHERE email_change_token_new::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX email_change_token_current_idx ON auth.users (email_change_token_current)
  WHERE email_change_token_current::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX reauthentication_token_idx ON auth.users (reauthentication_token)
  WHERE reauthentication_token::text !~ '^[0-9 ]*$';
CREATE INDEX users_instance_id_idx ON auth.users (instance_id);
CREATE INDEX users_instance_id_email_idx ON auth.users (instance_id, email);
CREATE INDEX users_is_anonymous_idx ON auth.users (is_anonymous);
COMMENT ON TABLE auth.users IS 'Auth: Stores user login data within a secure schema.';
COMMENT ON COLUMN auth.users.is_sso_user IS
  'Auth: true for accounts that come from SSO; these may share an e-mail address with another account.';

CREATE TABLE auth.identities (
  provider_id     text NOT NULL,
  user_id         uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  identity_data   jsonb NOT NULL,
  provider        text NOT NULL,
  last_sign_in_at timestamptz,
  created_at      timestamptz,
  updated_at      timestamptz,
  email           text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  CONSTRAINT identities_pkey PRIMARY KEY (id),
  CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);
CREATE INDEX identities_user_id_idx ON auth.identities (user_id);
CREATE INDEX identities_email_idx ON auth.identities (email text_pattern_ops);
COMMENT ON TABLE auth.identities IS 'Auth: Stores identities associated to a user.';

CREATE TABLE auth.instances (
  id              uuid NOT NULL,
  uuid            uuid,
  raw_base_config text,
  created_at      timestamptz,
  updated_at      timestamptz,
  CONSTRAINT instances_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE auth.instances IS 'Auth: Manages users across multiple sites.';

-- ---------------------------------------------------------------- OAuth server (clients first: sessions reference them)
CREATE TABLE auth.oauth_clients (
  id                         uuid NOT NULL,
  client_secret_hash         text,
  registration_type          auth.oauth_registration_type NOT NULL,
  redirect_uris              text NOT NULL,
  grant_types                text NOT NULL,
  client_name                text,
  client_uri                 text,
  logo_uri                   text,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  deleted_at                 timestamptz,
  client_type                auth.oauth_client_type NOT NULL DEFAULT 'confidential',
  token_endpoint_auth_method text NOT NULL,
  CONSTRAINT oauth_clients_pkey PRIMARY KEY (id),
  CONSTRAINT oauth_clients_client_name_length CHECK (char_length(client_name) <= 1024),
  CONSTRAINT oauth_clients_client_uri_length CHECK (char_length(client_uri) <= 2048),
  CONSTRAINT oauth_clients_logo_uri_length CHECK (char_length(logo_uri) <= 2048),
  CONSTRAINT oauth_clients_token_endpoint_auth_method_check
    CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none'))
);
CREATE INDEX oauth_clients_deleted_at_idx ON auth.oauth_clients (deleted_at);

-- ---------------------------------------------------------------- sessions and refresh tokens
CREATE TABLE auth.sessions (
  id                     uuid NOT NULL,
  user_id                uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  created_at             timestamptz,
  updated_at             timestamptz,
  factor_id              uuid,
  aal                    auth.aal_level,
  not_after              timestamptz,
  refreshed_at           timestamp,
  user_agent             text,
  ip                     inet,
  tag                    text,
  oauth_client_id        uuid REFERENCES auth.oauth_clients (id) ON DELETE CASCADE,
  refresh_token_hmac_key text,
  refresh_token_counter  bigint,
  scopes                 text,
  CONSTRAINT sessions_pkey PRIMARY KEY (id),
  CONSTRAINT sessions_scopes_length CHECK (char_length(scopes) <= 4096)
);
CREATE INDEX sessions_user_id_idx ON auth.sessions (user_id);
CREATE INDEX user_id_created_at_idx ON auth.sessions (user_id, created_at);
CREATE INDEX sessions_not_after_idx ON auth.sessions (not_after DESC);
CREATE INDEX sessions_oauth_client_id_idx ON auth.sessions (oauth_client_id);
COMMENT ON TABLE auth.sessions IS 'Auth: Stores session data associated to a user.';
COMMENT ON COLUMN auth.sessions.not_after IS
  'Auth: when set, the session counts as expired after this moment.';

CREATE TABLE auth.refresh_tokens (
  instance_id uuid,
  id          bigserial NOT NULL,
  token       varchar(255),
  user_id     varchar(255),
  revoked     boolean,
  created_at  timestamptz,
  updated_at  timestamptz,
  parent      varchar(255),
  session_id  uuid REFERENCES auth.sessions (id) ON DELETE CASCADE,
  CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
  CONSTRAINT refresh_tokens_token_unique UNIQUE (token)
);
CREATE INDEX refresh_tokens_instance_id_idx ON auth.refresh_tokens (instance_id);
CREATE INDEX refresh_tokens_instance_id_user_id_idx ON auth.refresh_tokens (instance_id, user_id);
CREATE INDEX refresh_tokens_parent_idx ON auth.refresh_tokens (parent);
CREATE INDEX refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens (session_id, revoked);
CREATE INDEX refresh_tokens_updated_at_idx ON auth.refresh_tokens (updated_at DESC);
COMMENT ON TABLE auth.refresh_tokens IS 'Auth: Store of tokens used to refresh JWT tokens once they expire.';

-- ---------------------------------------------------------------- MFA
CREATE TABLE auth.mfa_factors (
  id                           uuid NOT NULL,
  user_id                      uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  friendly_name                text,
  factor_type                  auth.factor_type NOT NULL,
  status                       auth.factor_status NOT NULL,
  created_at                   timestamptz NOT NULL,
  updated_at                   timestamptz NOT NULL,
  secret                       text,
  phone                        text,
  last_challenged_at           timestamptz,
  web_authn_credential         jsonb,
  web_authn_aaguid             uuid,
  last_webauthn_challenge_data jsonb,
  CONSTRAINT mfa_factors_pkey PRIMARY KEY (id),
  CONSTRAINT mfa_factors_last_challenged_at_key UNIQUE (last_challenged_at)
);
CREATE INDEX mfa_factors_user_id_idx ON auth.mfa_factors (user_id);
CREATE INDEX factor_id_created_at_idx ON auth.mfa_factors (user_id, created_at);
CREATE UNIQUE INDEX mfa_factors_user_friendly_name_unique ON auth.mfa_factors (friendly_name, user_id)
  WHERE TRIM(BOTH FROM friendly_name) <> '';
CREATE UNIQUE INDEX unique_phone_factor_per_user ON auth.mfa_factors (user_id, phone);
COMMENT ON TABLE auth.mfa_factors IS 'auth: stores metadata about factors';

CREATE TABLE auth.mfa_challenges (
  id                     uuid NOT NULL,
  factor_id              uuid NOT NULL,
  created_at             timestamptz NOT NULL,
  verified_at            timestamptz,
  ip_address             inet NOT NULL,
  otp_code               text,
  web_authn_session_data jsonb,
  CONSTRAINT mfa_challenges_pkey PRIMARY KEY (id),
  CONSTRAINT mfa_challenges_auth_factor_id_fkey FOREIGN KEY (factor_id)
    REFERENCES auth.mfa_factors (id) ON DELETE CASCADE
);
CREATE INDEX mfa_challenge_created_at_idx ON auth.mfa_challenges (created_at DESC);
COMMENT ON TABLE auth.mfa_challenges IS 'auth: stores metadata about challenge requests made';

CREATE TABLE auth.mfa_amr_claims (
  session_id            uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  authentication_method text NOT NULL,
  id                    uuid NOT NULL,
  CONSTRAINT amr_id_pk PRIMARY KEY (id),
  CONSTRAINT mfa_amr_claims_session_id_authentication_method_pkey UNIQUE (session_id, authentication_method)
);
COMMENT ON TABLE auth.mfa_amr_claims IS
  'auth: stores authenticator method reference claims for multi factor authentication';

-- ---------------------------------------------------------------- one-time tokens, audit log, flows
CREATE TABLE auth.one_time_tokens (
  id         uuid NOT NULL,
  user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  token_type auth.one_time_token_type NOT NULL,
  token_hash text NOT NULL,
  relates_to text NOT NULL,
  created_at timestamp NOT NULL DEFAULT now(),
  updated_at timestamp NOT NULL DEFAULT now(),
  CONSTRAINT one_time_tokens_pkey PRIMARY KEY (id),
  CONSTRAINT one_time_tokens_token_hash_check CHECK (char_length(token_hash) > 0)
);
CREATE UNIQUE INDEX one_time_tokens_user_id_token_type_key ON auth.one_time_tokens (user_id, token_type);
CREATE INDEX one_time_tokens_token_hash_hash_idx ON auth.one_time_tokens USING hash (token_hash);
CREATE INDEX one_time_tokens_relates_to_hash_idx ON auth.one_time_tokens USING hash (relates_to);

CREATE TABLE auth.audit_log_entries (
  instance_id uuid,
  id          uuid NOT NULL,
  payload     json,
  created_at  timestamptz,
  ip_address  varchar(64) NOT NULL DEFAULT ''::varchar,
  CONSTRAINT audit_log_entries_pkey PRIMARY KEY (id)
);
CREATE INDEX audit_logs_instance_id_idx ON auth.audit_log_entries (instance_id);
COMMENT ON TABLE auth.audit_log_entries IS 'Auth: Audit trail for user actions.';

CREATE TABLE auth.flow_state (
  id                     uuid NOT NULL,
  user_id                uuid,
  auth_code              text,
  code_challenge_method  auth.code_challenge_method,
  code_challenge         text,
  provider_type          text NOT NULL,
  provider_access_token  text,
  provider_refresh_token text,
  created_at             timestamptz,
  updated_at             timestamptz,
  authentication_method  text NOT NULL,
  auth_code_issued_at    timestamptz,
  invite_token           text,
  referrer               text,
  oauth_client_state_id  uuid,
  linking_target_id      uuid,
  email_optional         boolean NOT NULL DEFAULT false,
  CONSTRAINT flow_state_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_auth_code ON auth.flow_state (auth_code);
CREATE INDEX idx_user_id_auth_method ON auth.flow_state (user_id, authentication_method);
CREATE INDEX flow_state_created_at_idx ON auth.flow_state (created_at DESC);
COMMENT ON TABLE auth.flow_state IS 'Stores metadata for all OAuth/SSO login flows';

-- ---------------------------------------------------------------- SSO / SAML
CREATE TABLE auth.sso_providers (
  id          uuid NOT NULL,
  resource_id text,
  created_at  timestamptz,
  updated_at  timestamptz,
  disabled    boolean,
  CONSTRAINT sso_providers_pkey PRIMARY KEY (id),
  CONSTRAINT "resource_id not empty" CHECK (resource_id = NULL::text OR char_length(resource_id) > 0)
);
CREATE UNIQUE INDEX sso_providers_resource_id_idx ON auth.sso_providers (lower(resource_id));
CREATE INDEX sso_providers_resource_id_pattern_idx ON auth.sso_providers (resource_id text_pattern_ops);

CREATE TABLE auth.sso_domains (
  id              uuid NOT NULL,
  sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  domain          text NOT NULL,
  created_at      timestamptz,
  updated_at      timestamptz,
  CONSTRAINT sso_domains_pkey PRIMARY KEY (id),
  CONSTRAINT "domain not empty" CHECK (char_length(domain) > 0)
);
CREATE INDEX sso_domains_sso_provider_id_idx ON auth.sso_domains (sso_provider_id);
CREATE UNIQUE INDEX sso_domains_domain_idx ON auth.sso_domains (lower(domain));

CREATE TABLE auth.saml_providers (
  id                uuid NOT NULL,
  sso_provider_id   uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  entity_id         text NOT NULL,
  metadata_xml      text NOT NULL,
  metadata_url      text,
  attribute_mapping jsonb,
  created_at        timestamptz,
  updated_at        timestamptz,
  name_id_format    text,
  CONSTRAINT saml_providers_pkey PRIMARY KEY (id),
  CONSTRAINT saml_providers_entity_id_key UNIQUE (entity_id),
  CONSTRAINT "entity_id not empty" CHECK (char_length(entity_id) > 0),
  CONSTRAINT "metadata_url not empty" CHECK (metadata_url = NULL::text OR char_length(metadata_url) > 0),
  CONSTRAINT "metadata_xml not empty" CHECK (char_length(metadata_xml) > 0)
);
CREATE INDEX saml_providers_sso_provider_id_idx ON auth.saml_providers (sso_provider_id);

CREATE TABLE auth.saml_relay_states (
  id              uuid NOT NULL,
  sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  request_id      text NOT NULL,
  for_email       text,
  redirect_to     text,
  created_at      timestamptz,
  updated_at      timestamptz,
  flow_state_id   uuid REFERENCES auth.flow_state (id) ON DELETE CASCADE,
  CONSTRAINT saml_relay_states_pkey PRIMARY KEY (id),
  CONSTRAINT "request_id not empty" CHECK (char_length(request_id) > 0)
);
CREATE INDEX saml_relay_states_sso_provider_id_idx ON auth.saml_relay_states (sso_provider_id);
CREATE INDEX saml_relay_states_for_email_idx ON auth.saml_relay_states (for_email);
CREATE INDEX saml_relay_states_created_at_idx ON auth.saml_relay_states (created_at DESC);

-- ---------------------------------------------------------------- OAuth server: authorizations, consents, client states
CREATE TABLE auth.oauth_authorizations (
  id                    uuid NOT NULL,
  authorization_id      text NOT NULL,
  client_id             uuid NOT NULL REFERENCES auth.oauth_clients (id) ON DELETE CASCADE,
  user_id               uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  redirect_uri          text NOT NULL,
  scope                 text NOT NULL,
  state                 text,
  resource              text,
  code_challenge        text,
  code_challenge_method auth.code_challenge_method,
  response_type         auth.oauth_response_type NOT NULL DEFAULT 'code',
  status                auth.oauth_authorization_status NOT NULL DEFAULT 'pending',
  authorization_code    text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz NOT NULL DEFAULT (now() + interval '3 minutes'),
  approved_at           timestamptz,
  nonce                 text,
  CONSTRAINT oauth_authorizations_pkey PRIMARY KEY (id),
  CONSTRAINT oauth_authorizations_authorization_id_key UNIQUE (authorization_id),
  CONSTRAINT oauth_authorizations_authorization_code_key UNIQUE (authorization_code),
  CONSTRAINT oauth_authorizations_authorization_code_length CHECK (char_length(authorization_code) <= 255),
  CONSTRAINT oauth_authorizations_code_challenge_length CHECK (char_length(code_challenge) <= 128),
  CONSTRAINT oauth_authorizations_expires_at_future CHECK (expires_at > created_at),
  CONSTRAINT oauth_authorizations_nonce_length CHECK (char_length(nonce) <= 255),
  CONSTRAINT oauth_authorizations_redirect_uri_length CHECK (char_length(redirect_uri) <= 2048),
  CONSTRAINT oauth_authorizations_resource_length CHECK (char_length(resource) <= 2048),
  CONSTRAINT oauth_authorizations_scope_length CHECK (char_length(scope) <= 4096),
  CONSTRAINT oauth_authorizations_state_length CHECK (char_length(state) <= 4096)
);
CREATE INDEX oauth_auth_pending_exp_idx ON auth.oauth_authorizations (expires_at) WHERE status = 'pending';

CREATE TABLE auth.oauth_consents (
  id         uuid NOT NULL,
  user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  client_id  uuid NOT NULL REFERENCES auth.oauth_clients (id) ON DELETE CASCADE,
  scopes     text NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CONSTRAINT oauth_consents_pkey PRIMARY KEY (id),
  CONSTRAINT oauth_consents_user_client_unique UNIQUE (user_id, client_id),
  CONSTRAINT oauth_consents_revoked_after_granted CHECK (revoked_at IS NULL OR revoked_at >= granted_at),
  CONSTRAINT oauth_consents_scopes_length CHECK (char_length(scopes) <= 2048),
  CONSTRAINT oauth_consents_scopes_not_empty CHECK (char_length(TRIM(BOTH FROM scopes)) > 0)
);
CREATE INDEX oauth_consents_active_client_idx ON auth.oauth_consents (client_id) WHERE revoked_at IS NULL;
CREATE INDEX oauth_consents_active_user_client_idx ON auth.oauth_consents (user_id, client_id)
  WHERE revoked_at IS NULL;
CREATE INDEX oauth_consents_user_order_idx ON auth.oauth_consents (user_id, granted_at DESC);

CREATE TABLE auth.oauth_client_states (
  id            uuid NOT NULL,
  provider_type text NOT NULL,
  code_verifier text,
  created_at    timestamptz NOT NULL,
  CONSTRAINT oauth_client_states_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_oauth_client_states_created_at ON auth.oauth_client_states (created_at);

-- Custom OAuth/OIDC providers (2026). The upstream table carries ~20 URL/length CHECKs; the
-- ones that decide what a row may be are kept.
CREATE TABLE auth.custom_oauth_providers (
  id                      uuid NOT NULL DEFAULT gen_random_uuid(),
  provider_type           text NOT NULL,
  identifier              text NOT NULL,
  name                    text NOT NULL,
  client_id               text NOT NULL,
  client_secret           text NOT NULL,
  acceptable_client_ids   text[] NOT NULL DEFAULT '{}',
  scopes                  text[] NOT NULL DEFAULT '{}',
  pkce_enabled            boolean NOT NULL DEFAULT true,
  attribute_mapping       jsonb NOT NULL DEFAULT '{}',
  authorization_params    jsonb NOT NULL DEFAULT '{}',
  enabled                 boolean NOT NULL DEFAULT true,
  email_optional          boolean NOT NULL DEFAULT false,
  issuer                  text,
  discovery_url           text,
  skip_nonce_check        boolean NOT NULL DEFAULT false,
  cached_discovery        jsonb,
  discovery_cached_at     timestamptz,
  authorization_url       text,
  token_url               text,
  userinfo_url            text,
  jwks_uri                text,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  custom_claims_allowlist text[] NOT NULL DEFAULT '{}',
  CONSTRAINT custom_oauth_providers_pkey PRIMARY KEY (id),
  CONSTRAINT custom_oauth_providers_identifier_key UNIQUE (identifier),
  CONSTRAINT custom_oauth_providers_provider_type_check CHECK (provider_type IN ('oauth2', 'oidc')),
  CONSTRAINT custom_oauth_providers_identifier_format CHECK (identifier ~ '^[a-z0-9][a-z0-9:-]{0,48}[a-z0-9]$'),
  CONSTRAINT custom_oauth_providers_oauth2_requires_endpoints CHECK (
    provider_type <> 'oauth2' OR (authorization_url IS NOT NULL AND token_url IS NOT NULL AND userinfo_url IS NOT NULL)),
  CONSTRAINT custom_oauth_providers_oidc_requires_issuer CHECK (provider_type <> 'oidc' OR issuer IS NOT NULL)
);
CREATE INDEX custom_oauth_providers_identifier_idx ON auth.custom_oauth_providers (identifier);
CREATE INDEX custom_oauth_providers_provider_type_idx ON auth.custom_oauth_providers (provider_type);
CREATE INDEX custom_oauth_providers_enabled_idx ON auth.custom_oauth_providers (enabled);
CREATE INDEX custom_oauth_providers_created_at_idx ON auth.custom_oauth_providers (created_at);

-- ---------------------------------------------------------------- passkeys (WebAuthn)
CREATE TABLE auth.webauthn_credentials (
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id          uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  credential_id    bytea NOT NULL,
  public_key       bytea NOT NULL,
  attestation_type text NOT NULL DEFAULT '',
  aaguid           uuid,
  sign_count       bigint NOT NULL DEFAULT 0,
  transports       jsonb NOT NULL DEFAULT '[]',
  backup_eligible  boolean NOT NULL DEFAULT false,
  backed_up        boolean NOT NULL DEFAULT false,
  friendly_name    text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  last_used_at     timestamptz,
  CONSTRAINT webauthn_credentials_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX webauthn_credentials_credential_id_key ON auth.webauthn_credentials (credential_id);
CREATE INDEX webauthn_credentials_user_id_idx ON auth.webauthn_credentials (user_id);

CREATE TABLE auth.webauthn_challenges (
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id        uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  challenge_type text NOT NULL,
  session_data   jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  CONSTRAINT webauthn_challenges_pkey PRIMARY KEY (id),
  CONSTRAINT webauthn_challenges_challenge_type_check
    CHECK (challenge_type IN ('signup', 'registration', 'authentication'))
);
CREATE INDEX webauthn_challenges_user_id_idx ON auth.webauthn_challenges (user_id);
CREATE INDEX webauthn_challenges_expires_at_idx ON auth.webauthn_challenges (expires_at);

-- ---------------------------------------------------------------- the server's migration history
CREATE TABLE auth.schema_migrations (
  version varchar(255) NOT NULL,
  CONSTRAINT schema_migrations_pkey PRIMARY KEY (version)
);
COMMENT ON TABLE auth.schema_migrations IS 'Auth: Manages updates to the auth system.';
-- the seven versions the postgres image records for its initial auth tables, then one per
-- migration file of supabase/auth (the digits before the first underscore)
INSERT INTO auth.schema_migrations (version)
SELECT v FROM unnest(ARRAY[
  '20171026211738', '20171026211808', '20171026211834', '20180103212743', '20180108183307',
  '20180119214651', '20180125194653',
  '00', '20210710035447', '20210722035447', '20210730183235', '20210909172000', '20210927181326',
  '20211122151130', '20211124214934', '20211202183645', '20220114185221', '20220114185340',
  '20220224000811', '20220323170000', '20220429102000', '20220531120530', '20220614074223',
  '20220811173540', '20221003041349', '20221003041400', '20221011041400', '20221020193600',
  '20221021073300', '20221021082433', '20221027105023', '20221114143122', '20221114143410',
  '20221125140132', '20221208132122', '20221215195500', '20221215195800', '20221215195900',
  '20230116124310', '20230116124412', '20230131181311', '20230322519590', '20230402418590',
  '20230411005111', '20230508135423', '20230523124323', '20230818113222', '20230914180801',
  '20231027141322', '20231114161723', '20231117164230', '20240115144230', '20240214120130',
  '20240306115329', '20240314092811', '20240427152123', '20240612123726', '20240729123726',
  '20240802193726', '20240806073726', '20241009103726', '20250717082212', '20250731150234',
  '20250804100000', '20250901200500', '20250903112500', '20250904133000', '20250925093508',
  '20251007112900', '20251104100000', '20251111201300', '20251201000000', '20260115000000',
  '20260121000000', '20260219120000', '20260302000000', '20260625000000']) AS v;

-- ---------------------------------------------------------------- the JWT helpers
-- PostgREST puts the verified JWT into `request.jwt.claims`; the older per-claim settings
-- (`request.jwt.claim.sub`, …) are read first, empty strings count as unset.
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$fn$;
CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$fn$;
CREATE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$fn$;
CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $fn$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$fn$;
COMMENT ON FUNCTION auth.uid() IS 'Deprecated upstream in favour of auth.jwt() ->> ''sub''.';
COMMENT ON FUNCTION auth.role() IS 'Deprecated upstream in favour of auth.jwt() ->> ''role''.';
COMMENT ON FUNCTION auth.email() IS 'Deprecated upstream in favour of auth.jwt() ->> ''email''.';

-- ---------------------------------------------------------------- ownership, RLS, grants
-- Every auth object belongs to the auth server's role.
DO $own$
DECLARE
  obj record;
BEGIN
  FOR obj IN SELECT c.relname FROM pg_class c
             WHERE c.relnamespace = 'auth'::regnamespace AND c.relkind = 'r' LOOP
    EXECUTE format('ALTER TABLE auth.%I OWNER TO supabase_auth_admin', obj.relname);
  END LOOP;
  FOR obj IN SELECT t.typname FROM pg_type t
             WHERE t.typnamespace = 'auth'::regnamespace AND t.typtype = 'e' LOOP
    EXECUTE format('ALTER TYPE auth.%I OWNER TO supabase_auth_admin', obj.typname);
  END LOOP;
END
$own$;
ALTER FUNCTION auth.uid() OWNER TO supabase_auth_admin;
ALTER FUNCTION auth.role() OWNER TO supabase_auth_admin;
ALTER FUNCTION auth.email() OWNER TO supabase_auth_admin;
ALTER FUNCTION auth.jwt() OWNER TO supabase_auth_admin;

-- RLS on, no policies: the API roles get nothing from these tables even with a grant. The
-- tables added after mid-2024 (oauth_*, webauthn_*, custom_oauth_providers) are left without.
ALTER TABLE auth.audit_log_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.flow_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.instances ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_amr_claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_challenges ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.one_time_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_relay_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;

-- The API roles may use the schema (for auth.uid() & co.) but read no auth table; postgres
-- (the dashboard's role) may do everything and hand SELECT on.
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA auth TO supabase_auth_admin;
GRANT ALL ON SCHEMA auth TO postgres;
GRANT ALL ON ALL TABLES IN SCHEMA auth TO postgres;
GRANT SELECT ON ALL TABLES IN SCHEMA auth TO postgres WITH GRANT OPTION;
GRANT ALL ON ALL SEQUENCES IN SCHEMA auth TO postgres;
GRANT ALL ON ALL ROUTINES IN SCHEMA auth TO postgres;
