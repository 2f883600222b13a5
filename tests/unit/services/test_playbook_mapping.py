"""The executable playbook mapping stays in step with the bundled document."""

from __future__ import annotations

from support_mcp.agents.registry import registered_check_names
from support_mcp.services import playbook


def test_every_heading_step_and_checklist_line_of_the_playbook_is_mapped() -> None:
    assert playbook.unmapped(playbook.playbook_text()) == []


def test_a_new_heading_or_checklist_line_is_reported_as_unmapped() -> None:
    edited = playbook.playbook_text().replace(
        "## 7. Aktualisierung", "## 6.5 Neue Regel\n1. **Neuer Schritt**\n\n## 7. Aktualisierung"
    ).replace("- [ ] Logs auf Fehler geprüft?", "- [ ] Logs auf Fehler geprüft?\n- [ ] Firewall geprüft?")
    problems = playbook.unmapped(edited)
    assert "heading: 6.5 Neue Regel" in problems
    assert "step: 6.5 Neue Regel › Neuer Schritt" in problems
    assert "checklist: Hetzner Ops › Firewall geprüft?" in problems


def test_headings_inside_code_fences_are_not_headings() -> None:
    doc = "# T\n```\n## not a heading\n- [ ] not a line\n```\n## Real\n"
    outline = playbook.outline(doc)
    assert outline.headings == ("T", "Real")
    assert outline.checklist == ()


def test_implemented_steps_name_registered_checks_and_runner_steps() -> None:
    names = registered_check_names()
    for step in playbook.STEPS:
        assert set(step.checks) <= names, step
        assert step.runner_step is None or step.runner_step in playbook.RUNNER_STEPS, step
        if not step.checks and step.runner_step is None:
            # Neither carried out by the runner nor by a check: it must say which issue will,
            # or be a tool-only step (external research is done through the MCP tool).
            assert step.planned or step.step == "Externe Recherche", step


def test_checklist_has_four_lines_per_agent() -> None:
    for agent in ("supabase-analyst-agent", "hetzner-ops-agent", "frontend-diagnostics-agent"):
        assert len(playbook.checklist_for(agent)) == 4


def test_checklist_ticks_only_what_the_run_did() -> None:
    state = playbook.evaluate_checklist(
        "hetzner-ops-agent", checks_ok=["host.load", "host.disk", "host.memory"], steps_done=["checks", "communication"]
    )
    assert state == {
        "CPU/RAM/Disk ok?": True,
        "Logs auf Fehler geprüft?": False,
        "Dienste gezielt neu gestartet?": False,
        "Änderungen & Ergebnisse protokolliert?": True,
    }
    partial = playbook.evaluate_checklist("hetzner-ops-agent", checks_ok=["host.disk"], steps_done=[])
    assert partial["CPU/RAM/Disk ok?"] is False


def test_strategy_prompt_holds_sections_1_own_and_5() -> None:
    prompt = playbook.strategy_prompt("supabase-analyst-agent")
    assert "Gemeinsame Leitplanken" in prompt
    assert "Supabase Analyst Agent" in prompt
    assert "Eskalation & Übergabe" in prompt
    assert "Hetzner Ops Agent" not in prompt
    assert "- [ ] Auth/Profiles konsistent?" in prompt
