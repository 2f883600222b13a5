-- Document frequencies of the knowledge index, kept by triggers (issue 12: search at 100,000 sections).
--
-- The search weighs each concept by its idf. Counting the sections that contain a word through
-- the GIN index visits every matching row: at 100,000 sections that cost 166 ms per query, more
-- than the ranking itself. `knowledge_lexemes` holds, per lexeme of `search_vector`, the number of
-- sections that contain it, and `knowledge_stats` the number of sections; statement triggers with
-- transition tables keep both exact on every insert, update and delete (a document's cascade
-- delete included), so no code path can forget them. The search reads them with one index seek
-- per lexeme.

create table if not exists knowledge_lexemes (
    lexeme text collate "C" primary key,  -- "C": prefix lookups (`'word':*`) are range scans
    ndoc integer not null check (ndoc > 0)
);

create table if not exists knowledge_stats (
    id boolean primary key default true check (id),
    sections bigint not null check (sections >= 0)
);

create or replace function knowledge_lexemes_add() returns trigger language plpgsql as $$
begin
    insert into knowledge_lexemes (lexeme, ndoc)
        select u.lexeme, count(*) from new_rows n cross join lateral unnest(n.search_vector) u group by u.lexeme
    on conflict (lexeme) do update set ndoc = knowledge_lexemes.ndoc + excluded.ndoc;
    update knowledge_stats set sections = sections + (select count(*) from new_rows);
    return null;
end $$;

create or replace function knowledge_lexemes_remove() returns trigger language plpgsql as $$
begin
    with gone as (
        select u.lexeme, count(*) as n from old_rows o cross join lateral unnest(o.search_vector) u group by u.lexeme
    ), dropped as (
        delete from knowledge_lexemes l using gone g where l.lexeme = g.lexeme and l.ndoc <= g.n returning l.lexeme
    )
    update knowledge_lexemes l set ndoc = l.ndoc - g.n from gone g
        where l.lexeme = g.lexeme and l.lexeme not in (select lexeme from dropped);
    update knowledge_stats set sections = sections - (select count(*) from old_rows);
    return null;
end $$;

drop trigger if exists knowledge_sections_lexemes_insert on knowledge_sections;
create trigger knowledge_sections_lexemes_insert after insert on knowledge_sections
    referencing new table as new_rows for each statement execute function knowledge_lexemes_add();
drop trigger if exists knowledge_sections_lexemes_delete on knowledge_sections;
create trigger knowledge_sections_lexemes_delete after delete on knowledge_sections
    referencing old table as old_rows for each statement execute function knowledge_lexemes_remove();
-- An update counts as remove + add (sections are replaced, not updated, but nothing may drift);
-- either order of the two gives the same counts.
drop trigger if exists knowledge_sections_lexemes_update_old on knowledge_sections;
create trigger knowledge_sections_lexemes_update_old after update on knowledge_sections
    referencing old table as old_rows for each statement execute function knowledge_lexemes_remove();
drop trigger if exists knowledge_sections_lexemes_update_new on knowledge_sections;
create trigger knowledge_sections_lexemes_update_new after update on knowledge_sections
    referencing new table as new_rows for each statement execute function knowledge_lexemes_add();

create or replace function knowledge_lexemes_clear() returns trigger language plpgsql as $$
begin
    delete from knowledge_lexemes;
    update knowledge_stats set sections = 0;
    return null;
end $$;
drop trigger if exists knowledge_sections_lexemes_truncate on knowledge_sections;
create trigger knowledge_sections_lexemes_truncate after truncate on knowledge_sections
    for each statement execute function knowledge_lexemes_clear();

-- What is indexed already.
insert into knowledge_stats (sections) select count(*) from knowledge_sections on conflict (id) do nothing;
insert into knowledge_lexemes (lexeme, ndoc)
    select word, ndoc from ts_stat('select search_vector from knowledge_sections')
on conflict (lexeme) do nothing;

-- Sections indexed before this migration carry the document title among their headings; the
-- next sync re-indexes every document (title now weighs as body text, see ingest._sections).
update knowledge_documents set content_hash = '' where content_hash <> '';
