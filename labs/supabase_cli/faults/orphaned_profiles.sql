-- Incident: profiles lost its foreign key to auth.users (the table was re-created in the table
-- editor); lea deleted her account since, and her profile stayed behind. Her plan and her bot
-- went with her (their own foreign keys still cascade).
alter table public.profiles drop constraint profiles_id_fkey;
delete from auth.users where id = '6f1c2a90-3b7e-4d21-9a55-0c1d2e3f4a53';
