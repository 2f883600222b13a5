"""The markdown parser as a pure function: front matter, sections, breadcrumbs, fences, agents."""

from __future__ import annotations

import pytest

from support_mcp.domain.errors import InvalidInput
from support_mcp.services.knowledge.ingest import bundled_playbook_text
from support_mcp.services.knowledge.markdown import content_hash, detect_language, parse_markdown


def test_front_matter_sets_title_version_and_language() -> None:
    doc = parse_markdown("---\ntitle: Runbook\nversion: 3\nlanguage: en\n---\n# Runbook\ntext\n")
    assert (doc.title, doc.version, doc.language) == ("Runbook", "3", "en")


def test_title_falls_back_to_the_single_h1_then_to_the_file_name() -> None:
    assert parse_markdown("# Heading One\nbody").title == "Heading One"
    assert parse_markdown("just text", fallback_title="notes").title == "notes"


def test_invalid_front_matter_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parse_markdown("---\ntitle: [unclosed\n---\nbody")
    with pytest.raises(InvalidInput):
        parse_markdown("---\n- a list\n---\nbody")


def test_playbook_breadcrumbs_start_at_the_document_title() -> None:
    doc = parse_markdown(bundled_playbook_text())
    by_anchor = {s.anchor: s for s in doc.sections}
    assert doc.title == "Tier\u20112 Incident Playbook"  # the non-breaking hyphen is kept as written
    assert doc.version == "2025-11-09"
    assert by_anchor["31-diagnose"].breadcrumb == (
        "Tier\u20112 Incident Playbook",
        "3. Hetzner Ops Agent \u2013 Strategy",
        "3.1 Diagnose",
    )
    assert by_anchor["hetzner-ops"].breadcrumb_text == (
        "Tier\u20112 Incident Playbook › 6. Checklisten (Kurzfassung) › Hetzner Ops"
    )


def test_playbook_sections_are_tagged_with_their_agent() -> None:
    doc = parse_markdown(bundled_playbook_text())
    agents = {s.anchor: s.agents for s in doc.sections}
    assert agents["21-diagnose"] == ("supabase-analyst-agent",)
    assert agents["32-reparatur"] == ("hetzner-ops-agent",)
    assert agents["43-kommunikation"] == ("frontend-diagnostics-agent",)
    assert agents["supabase-analyst"] == ("supabase-analyst-agent",)
    assert agents["frontend-diagnostics"] == ("frontend-diagnostics-agent",)
    for common in ("1-gemeinsame-leitplanken", "5-eskalation--übergabe", "7-aktualisierung"):
        assert agents[common] == ()


def test_front_matter_agents_tag_a_whole_document_unless_a_heading_names_one() -> None:
    doc = parse_markdown("---\nagents: [hetzner-ops]\n---\n## Caddy\nx\n## Supabase Analyst notes\ny\n")
    assert [s.agents for s in doc.sections] == [("hetzner-ops-agent",), ("supabase-analyst-agent",)]


def test_text_before_the_first_heading_is_the_root_section() -> None:
    doc = parse_markdown("---\ntitle: Notes\n---\nIntro line.\n\n## First\nbody\n")
    root, first = doc.sections
    assert (root.level, root.heading, root.body, root.breadcrumb) == (0, "Notes", "Intro line.", ("Notes",))
    assert first.breadcrumb == ("Notes", "First")


def test_heading_levels_nest_and_deeper_headings_stay_body() -> None:
    doc = parse_markdown("# A\n## B\n### C\n#### D\n##### E\ndeep\n## F\n")
    assert [s.heading for s in doc.sections] == ["A", "B", "C", "D", "F"]
    d = doc.sections[3]
    assert d.breadcrumb == ("A", "B", "C", "D")  # lone H1 is the title, not repeated
    assert "##### E" in d.body and d.subheadings == ("E",)
    assert doc.sections[4].breadcrumb == ("A", "F")


def test_code_fences_are_never_split_and_hash_lines_inside_are_not_headings() -> None:
    text = "## Run\n```bash\n# not a heading\necho hi\n```\n~~~\n## also not\n~~~\n## Next\nafter\n"
    doc = parse_markdown(text)
    assert [s.heading for s in doc.sections] == ["Run", "Next"]
    assert "# not a heading" in doc.sections[0].body and "## also not" in doc.sections[0].body


def test_an_unclosed_fence_runs_to_the_end_of_the_document() -> None:
    doc = parse_markdown("## Only\n````\n## inside\n```\n## still inside\n")
    assert [s.heading for s in doc.sections] == ["Only"]


def test_duplicate_headings_get_distinct_anchors() -> None:
    doc = parse_markdown("## Diagnose\na\n## Diagnose\nb\n")
    assert [s.anchor for s in doc.sections] == ["diagnose", "diagnose-1"]


def test_bold_lead_ins_are_subheadings_and_thematic_breaks_are_dropped() -> None:
    doc = parse_markdown("## S\n1. **Health Check**\n   - run it\n\n---\n")
    assert doc.sections[0].subheadings == ("Health Check",)
    assert "---" not in doc.sections[0].body


def test_language_is_detected_when_front_matter_has_none() -> None:
    assert detect_language("Die Seite ist nicht erreichbar und der Server antwortet nicht.") == "de"
    assert detect_language("The page is not reachable and the server does not answer.") == "en"
    assert parse_markdown("## X\nThe build is broken and the logs are empty.").language == "en"


def test_content_hash_ignores_line_ending_style() -> None:
    assert content_hash("a\r\nb\n") == content_hash("a\nb\n")
    assert content_hash("a\nb\n") != content_hash("a\nc\n")


def test_authority_comes_from_the_front_matter_and_defaults_to_1() -> None:
    assert parse_markdown("# A\ntext\n").authority == 1.0
    assert parse_markdown("---\ntitle: A\nauthority: 2.5\n---\n# A\ntext\n").authority == 2.5
    assert parse_markdown(bundled_playbook_text()).authority > 1  # the binding procedure weighs more


@pytest.mark.parametrize("value", ["0", "11", "-1", "high", "true", "[2]", "null"])
def test_an_authority_outside_0_1_to_10_or_not_a_number_is_invalid_input(value: str) -> None:
    with pytest.raises(InvalidInput, match="authority"):
        parse_markdown(f"---\ntitle: A\nauthority: {value}\n---\n# A\ntext\n")
