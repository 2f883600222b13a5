"""Every sentence Support MCP writes for support staff or customers, in German and English.

German is the default (the customer's support team works in German); English on request.
Kept in one table so a translator sees all of it at once and no text hides in code.
"""

from __future__ import annotations

from typing import Any

from support_mcp.domain.models import Language

TEXTS: dict[str, dict[Language, str]] = {
    "hypothesis.title": {"de": "Hypothese ({agent})", "en": "Hypothesis ({agent})"},
    "hypothesis.symptom": {"de": "Fehlerbild", "en": "Symptom"},
    "hypothesis.cause": {"de": "Mögliche Ursache", "en": "Suspected cause"},
    "hypothesis.tools": {"de": "Benötigte Tools", "en": "Tools needed"},
    "command.title": {"de": "Kommando ausgeführt", "en": "Command executed"},
    "command.time": {"de": "Zeit", "en": "Time"},
    "command.agent": {"de": "Agent", "en": "Agent"},
    "command.target": {"de": "Ziel", "en": "Target"},
    "command.command": {"de": "Kommando", "en": "Command"},
    "command.exit": {"de": "Exit-Code", "en": "Exit code"},
    "command.timeout": {"de": "Zeitüberschreitung", "en": "timed out"},
    "command.duration": {"de": "Dauer", "en": "Duration"},
    "command.output": {"de": "Ausgabe (geschwärzt, gekürzt)", "en": "Output (redacted, capped)"},
    "command.truncated": {"de": "Ausgabe gekürzt", "en": "output truncated"},
    "findings.title": {"de": "Befunde ({agent})", "en": "Findings ({agent})"},
    "findings.none": {"de": "Keine Befunde.", "en": "No findings."},
    "verdict.confirmed": {"de": "Hypothese bestätigt", "en": "Hypothesis confirmed"},
    "verdict.refuted": {"de": "Hypothese widerlegt", "en": "Hypothesis refuted"},
    "verdict.inconclusive": {
        "de": "Hypothese weder bestätigt noch widerlegt (Prüfungen unvollständig)",
        "en": "Hypothesis neither confirmed nor refuted (checks incomplete)",
    },
    "next_steps.title": {"de": "Nächste Schritte", "en": "Next steps"},
    "next_steps.blocker": {"de": "Blocker", "en": "Blocker"},
    "next_steps.next_action": {"de": "Empfohlene nächste Aktion", "en": "Recommended next action"},
    "next_steps.resources": {"de": "Benötigte Ressourcen", "en": "Resources needed"},
    "tier1.title": {"de": "Zusammenfassung für Tier 1", "en": "Summary for Tier 1"},
    "tier1.customer": {"de": "Empfohlene Kundenkommunikation", "en": "Recommended customer communication"},
    "customer_draft.title": {
        "de": "Entwurf Kundennachricht (nicht versendet)",
        "en": "Draft customer message (not sent)",
    },
    "customer_draft.greeting": {"de": "Hallo,", "en": "Hello,"},
    "customer_draft.ask": {"de": "Kunde bitte um {ask}", "en": "Please ask the customer for {ask}"},
    "customer_draft.closing": {
        "de": "Viele Grüße\nIhr Support-Team",
        "en": "Kind regards\nYour support team",
    },
    "escalation.title": {"de": "Eskalation: manuelle Nachbearbeitung nötig", "en": "Escalation: manual follow-up"},
    "escalation.context": {"de": "Kontext", "en": "Context"},
    "handover.title": {
        "de": "Übergabe an {assignee}",
        "en": "Handed over to {assignee}",
    },
    "handover.summary": {
        "de": "Problem: {problem}; Ursache: {cause}. Durchgeführt: {steps}. "
        "Aktueller Zustand: {state}; empfohlene Maßnahme: {action}.",
        "en": "Problem: {problem}; cause: {cause}. Done: {steps}. "
        "Current state: {state}; recommended action: {action}.",
    },
    "research.title": {"de": "Externe Recherche", "en": "External research"},
    "research.sources": {"de": "Quellen", "en": "Sources"},
    "research.suggestion": {
        "de": "Wissensbasis-Update eingeplant: {title}",
        "en": "Knowledge-base update planned: {title}",
    },
    "run.started": {"de": "{agent} übernimmt Ticket (Lauf {run})", "en": "{agent} takes the ticket (run {run})"},
    "run.no_checks": {
        "de": "Für {agent} sind noch keine Prüfungen hinterlegt.",
        "en": "No checks are registered for {agent} yet.",
    },
    "context.escalation_running": {
        "de": "Achtung: Eskalation läuft bereits ({path}).",
        "en": "Note: an escalation is already running ({path}).",
    },
    "runner.remedy": {"de": "{title} beheben ({detail}).", "en": "Resolve {title} ({detail})."},
    "runner.reproduce": {
        "de": "Reproduktion erneut prüfen und Ergebnis im Ticket festhalten.",
        "en": "Re-run the reproduction and record the result on the ticket.",
    },
    "runner.confirmed_summary": {
        "de": "{cause} — bestätigt durch: {evidence}.",
        "en": "{cause} — confirmed by: {evidence}.",
    },
    "runner.confirmed_ask": {
        "de": "kurze Rückmeldung, ob das Problem nach der Behebung weiterhin auftritt",
        "en": "a short confirmation whether the problem persists after the fix",
    },
    "runner.confirmed_customer": {
        "de": "wir haben die Ursache der Störung gefunden und beheben sie gerade. Bitte geben Sie uns "
        "kurz Bescheid, ob das Problem danach weiterhin auftritt.",
        "en": "we have found the cause of the disruption and are fixing it. Please let us know "
        "whether the problem persists afterwards.",
    },
    "runner.escalated_customer": {
        "de": "wir haben Ihr Anliegen an unser Technik-Team weitergegeben und melden uns, sobald wir "
        "die Ursache gefunden haben. Vielen Dank für Ihre Geduld.",
        "en": "we have passed your request to our engineering team and will get back to you as soon "
        "as we have found the cause. Thank you for your patience.",
    },
    "runner.blocker": {
        "de": "Hypothese „{cause}“ nicht bestätigt; Ursache weiter unklar.",
        "en": "Hypothesis '{cause}' not confirmed; cause still unknown.",
    },
    "runner.no_repair": {
        "de": "Ursache bestätigt ({cause}), aber keine Reparatur, die der Agent planen darf; "
        "manuelle Nachbearbeitung nötig. Befunde: {evidence}",
        "en": "Cause confirmed ({cause}), but no repair this agent may plan; manual follow-up needed. "
        "Findings: {evidence}",
    },
    "runner.next_action": {
        "de": "Tier-2-Prüfungen der weiteren Agenten ausführen bzw. manuell prüfen.",
        "en": "Run the other agents' Tier-2 checks or investigate manually.",
    },
    "runner.resources": {
        "de": "Zugriff auf Server-Logs und das Supabase-Projekt.",
        "en": "Access to server logs and the Supabase project.",
    },
    "runner.escalated_summary": {
        "de": "Tier 2 ({agent}), Prüfergebnisse: {counts}. Ursache unklar; an das Team eskaliert.",
        "en": "Tier 2 ({agent}), check results: {counts}. Cause unknown; escalated to the team.",
    },
    "runner.revised_summary": {
        "de": "{cause} — belegt durch: {evidence} (ursprüngliche Hypothese widerlegt).",
        "en": "{cause} — shown by: {evidence} (the first hypothesis was refuted).",
    },
    "runner.step_failed": {"de": "Interner Fehler im Schritt „{step}“", "en": "Internal error in step '{step}'"},
    "runner.repair_failed": {"de": "Reparaturentwurf „{repair}“ fehlgeschlagen",
                             "en": "Drafting repair '{repair}' failed"},
    "runner.fault_note": {
        "de": "## Interner Fehler (der Lauf geht weiter)\n{title}: {detail}",
        "en": "## Internal error (the run goes on)\n{title}: {detail}",
    },
    "runner.fault_step": {
        "de": "Internen Fehler prüfen: {title} ({detail}); sein Ergebnis fehlt in diesem Lauf.",
        "en": "Look into the internal error: {title} ({detail}); its result is missing from this run.",
    },
    "runner.fault_escalation": {
        "de": "Der Lauf konnte die Kommunikation nicht vollständig schreiben ({detail}); Ticket bitte manuell "
        "prüfen.",
        "en": "The run could not write its communication in full ({detail}); please review the ticket manually.",
    },
    "conclusion.cause": {"de": "Schlussfolgerung: {cause} — belegt durch: {evidence}",
                         "en": "Conclusion: {cause} — shown by: {evidence}"},
    "conclusion.none": {"de": "Schlussfolgerung: keine Ursache belegt.",
                        "en": "Conclusion: no cause shown."},
    "conclusion.counts": {"de": "Prüfergebnisse: {counts}", "en": "Check results: {counts}"},
    "hypothesis.revised_title": {"de": "Neue Hypothese ({agent})", "en": "New hypothesis ({agent})"},
    "hypothesis.revised": {
        "de": "Hypothese widerlegt: {old}. Neue Hypothese: {cause}, belegt durch {evidence}.",
        "en": "Hypothesis refuted: {old}. New hypothesis: {cause}, shown by {evidence}.",
    },
    "lead.handover_hypothesis": {
        "de": "Übergabe von {agent}: {cause}, belegt durch {evidence}",
        "en": "Handed over by {agent}: {cause}, shown by {evidence}",
    },
    "lead.title": {"de": "Gesamtbefund (Lead-Run, {count} Agenten)", "en": "Overall conclusion (lead run, {count} agents)"},
    "lead.title_one": {"de": "Gesamtbefund (Lead-Run, ein Agent)", "en": "Overall conclusion (lead run, one agent)"},
    "lead.no_cause": {"de": "Keine Ursache gefunden: kein Agent hat eine Ursache in seiner Ebene belegt",
                      "en": "No cause found: no agent showed a cause in its layer"},
    "lead.cause": {"de": "Ursache", "en": "Root cause"},
    "lead.confirmed": {"de": "bestätigt durch {by}", "en": "confirmed by {by}"},
    "lead.unconfirmed": {"de": "nicht bestätigt – {by}", "en": "not confirmed – {by}"},
    "lead.layer": {"de": "Ebene", "en": "Layer"},
    "lead.chain": {"de": "Beweiskette", "en": "Chain of evidence"},
    "lead.notes": {"de": "Befehlsnotizen", "en": "command notes"},
    "lead.no_command": {"de": "ohne Befehl", "en": "no command"},
    "lead.runs": {"de": "Läufe", "en": "Runs"},
    "lead.plans": {"de": "Reparaturpläne für die Ursache (warten auf Freigabe)",
                   "en": "Repair plans for the root cause (awaiting approval)"},
    "lead.escalated_summary": {
        "de": "Lead-Run ohne Abschluss: {cause} (Belege: {evidence}). Die zuständige Ebene hat die Ursache nicht "
              "bestätigt; ein Mensch übernimmt.",
        "en": "Lead run without a close: {cause} (evidence: {evidence}). The responsible layer did not confirm "
              "the cause; a human takes over.",
    },
    "layer.supabase-analyst-agent": {"de": "Datenbank (Supabase: Postgres, Auth, RLS)",
                                     "en": "Database (Supabase: Postgres, auth, RLS)"},
    "layer.hetzner-ops-agent": {"de": "Server (Hetzner: PM2, Caddy, System)",
                                "en": "Server (Hetzner: PM2, Caddy, system)"},
    "layer.frontend-diagnostics-agent": {"de": "Frontend (Next.js: Build, Browser, CSP)",
                                         "en": "Frontend (Next.js: build, browser, CSP)"},
    "runner.handover": {
        "de": "Übergabe an {agent}: {cause}, belegt durch {evidence}.",
        "en": "Handed over to {agent}: {cause}, shown by {evidence}.",
    },
    "runner.handover_step": {
        "de": "{agent} auf dieses Ticket ansetzen: `support-mcp run --ticket {ticket} --agent {agent}`",
        "en": "Put {agent} on this ticket: `support-mcp run --ticket {ticket} --agent {agent}`",
    },
    "runner.escalated_ask": {
        "de": "etwas Geduld, bis das Technik-Team die Ursache gefunden hat",
        "en": "patience until the engineering team has found the cause",
    },
    "runner.steps_taken": {"de": "Prüfungen ausgeführt ({counts})", "en": "checks run ({counts})"},
    "runner.suggestion_title": {
        "de": "Symptom „{symptom}“ → Ursache „{cause}“",
        "en": "Symptom '{symptom}' → cause '{cause}'",
    },
    "runner.suggestion_body": {
        "de": "Lauf {run} ({agent}) hat die Hypothese bestätigt. Belege:\n{evidence}\n"
        "Vorschlag: diesen Zusammenhang im passenden Abschnitt der Wissensbasis ergänzen.",
        "en": "Run {run} ({agent}) confirmed the hypothesis. Evidence:\n{evidence}\n"
        "Suggestion: add this relation to the matching knowledge-base section.",
    },
    "hypothesis.references": {"de": "Wissensbasis", "en": "Knowledge base"},
    "plan.drafted": {"de": "Reparaturplan (Entwurf): {title}", "en": "Repair plan (draft): {title}"},
    "plan.dry_run": {"de": "Trockentest: {title}", "en": "Dry-run: {title}"},
    "plan.dry_run_ok": {"de": "Trockentest erfolgreich; wartet auf Freigabe.",
                        "en": "Dry-run succeeded; waiting for approval."},
    "plan.dry_run_failed": {"de": "Trockentest fehlgeschlagen; Plan kann nicht freigegeben werden.",
                            "en": "Dry-run failed; the plan cannot be approved."},
    "plan.approved": {
        "de": "Reparaturplan „{title}“ freigegeben von {approver} (gültig bis {until}, Hash `{hash}`).",
        "en": "Repair plan '{title}' approved by {approver} (valid until {until}, hash `{hash}`).",
    },
    "plan.applied": {"de": "Reparatur ausgeführt: {title}", "en": "Repair applied: {title}"},
    "plan.apply_failed": {"de": "Reparatur fehlgeschlagen: {title}", "en": "Repair failed: {title}"},
    "plan.changed": {"de": "Änderungen", "en": "Changes"},
    "plan.validated": {"de": "Validierung erfolgreich: {title}", "en": "Validation passed: {title}"},
    "plan.validation_failed": {"de": "Validierung fehlgeschlagen: {title}", "en": "Validation failed: {title}"},
    "plan.pending": {
        "de": "Reparaturplan „{title}“ wartet auf Freigabe: `support-mcp plans approve {plan} --hash {hash} "
        "--approver <Name>`",
        "en": "Repair plan '{title}' awaits approval: `support-mcp plans approve {plan} --hash {hash} "
        "--approver <name>`",
    },
}


def text(key: str, language: Language = "de", **values: Any) -> str:
    """The text for `key` in `language`, with `values` filled in."""
    return TEXTS[key][language].format(**values)
