-- Incident: support banned jonas and soft-deleted tobias (the dashboard's "Delete user" with
-- soft delete), but nobody signed them out: both sessions stay live, the refresh tokens are
-- not revoked, and tobias's client even rotated its refresh token after the deletion.
update auth.users set banned_until = now() + interval '876000 hours', updated_at = now()
  where id = '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a52';
update auth.users set deleted_at = now() - interval '1 day', updated_at = now() - interval '1 day'
  where id = '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a54';
insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
select '00000000-0000-0000-0000-000000000000', 'rt-rotated-54', r.user_id, false, now(), now(), r.token, r.session_id
from auth.refresh_tokens r where r.user_id = '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a54';
