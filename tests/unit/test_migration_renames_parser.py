"""The rename statements `migration_renames` follows, parsed by PostgreSQL's parser (pglast):
qualified and unqualified names, a column renamed before its table, and what is not a rename."""

from __future__ import annotations

from pathlib import Path

from support_mcp.agents.supabase_analyst.renames import newest_renames


def test_renames_of_a_migration_with_their_schema_and_the_tables_name_now(tmp_path: Path) -> None:
    (tmp_path / "20260101000000_a.sql").write_text(
        "alter function get_stats(uuid) rename to get_summary;\n"
        "alter procedure app.refresh() rename to refresh_all;\n"
        "alter table bots rename column name to title;\n"
        "alter table bots rename to chat_bots;\n"
        "alter view app.usage rename to usage_v2;\n"
        "alter table bots add column x int;\n"  # not a rename
        "alter index bots_pkey rename to bots_key;\n")  # an index: no caller names it
    found = [(r.kind, r.schema, r.old, r.new, r.table, r.lookup_table) for r in newest_renames([*tmp_path.glob("*.sql")])]
    assert found == [("function", "public", "get_stats", "get_summary", None, None),
                     ("function", "app", "refresh", "refresh_all", None, None),
                     ("column", "public", "name", "title", "bots", "chat_bots"),
                     ("table", "public", "bots", "chat_bots", None, None),
                     ("view", "app", "usage", "usage_v2", None, None)]


def test_only_the_newest_migrations_count_and_an_unparsable_one_yields_nothing(tmp_path: Path) -> None:
    (tmp_path / "20250101000000_old.sql").write_text("alter table a rename to b;\n")
    (tmp_path / "20260101000000_new.sql").write_text("alter table c rename to d;\n")
    (tmp_path / "20260102000000_broken.sql").write_text("alter table e rename to ;\n")
    files = [*tmp_path.glob("*.sql")]
    assert [r.old for r in newest_renames(files, newest=2)] == ["c"]
    assert [r.old for r in newest_renames(files, newest=3)] == ["a", "c"]
