"""Playbook 1.5, 1.6 and 5 at the end of a run: next steps, Tier-1 handover, escalation.

Everything here is written from the run's conclusion (`services.conclusion`): a named cause gets
numbered steps and the pending repair plans, an unexplained problem a blocker and an escalation
(`manual_followup`), a cause in another agent's layer a hand-over note ("Übergabe an …"). The
numbers in the texts are counted from the findings, by status.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from support_mcp.domain.models import CheckStatus, Finding, Hypothesis, Language, Verdict
from support_mcp.services.conclusion import Conclusion, count_findings
from support_mcp.services.journal import Blocker, HumanHandover, TicketJournal
from support_mcp.services.texts import text

_EVIDENCE_SHOWN = 3


def evidence_text(titles: Sequence[str]) -> str:
    shown = "; ".join(titles[:_EVIDENCE_SHOWN])
    return shown + (f" (+{len(titles) - _EVIDENCE_SHOWN})" if len(titles) > _EVIDENCE_SHOWN else "")


class Communication:
    """Writes the run's conclusion onto the ticket in the configured language."""

    def __init__(self, journal: TicketJournal, language: Language, oncall_assignee: str | None) -> None:
        self._journal = journal
        self._lang = language
        self._oncall = oncall_assignee

    def conclusion_lines(self, conclusion: Conclusion, findings: Sequence[Finding]) -> list[str]:
        """The lines under the verdict in the findings note: cause with evidence, counts."""
        lang = self._lang
        if conclusion.cause:
            first = text("conclusion.cause", lang, cause=conclusion.cause,
                         evidence=evidence_text([f.title for f in conclusion.evidence]))
        else:
            first = text("conclusion.none", lang)
        return [first, text("conclusion.counts", lang, counts=count_findings(findings, lang))]

    async def new_hypothesis(self, ticket_id: uuid.UUID, agent: str, old: Hypothesis, conclusion: Conclusion,
                             *, key: str) -> None:
        """The second hypothesis note: the first refuted, the cause the findings name instead."""
        lang = self._lang
        body = "\n".join([
            f"## {text('hypothesis.revised_title', lang, agent=agent)}",
            text("hypothesis.revised", lang, old=old.suspected_cause, cause=conclusion.cause,
                 evidence=evidence_text([f.title for f in conclusion.evidence])),
        ])
        revised = Hypothesis(symptom=old.symptom, suspected_cause=conclusion.cause or "",
                             tools=list(dict.fromkeys(f.check for f in conclusion.evidence)))
        await self._journal.note(ticket_id, body, agent=agent, tags=["hypothesis", "revised_hypothesis"],
                                 metadata={"hypothesis": revised.model_dump(), "refuted": old.model_dump()}, key=key)

    async def conclude_run(
        self, ticket_id: uuid.UUID, agent: str, run_id: uuid.UUID, *, subject: str, hypothesis: Hypothesis,
        findings: Sequence[Finding], conclusion: dict[str, Any], plans: Sequence[dict[str, Any]],
        faults: Sequence[dict[str, Any]], defer: bool = False,
    ) -> dict[str, Any]:
        """Next steps, then the hand-over to another agent, a human or Tier 1. `defer`: a lead run
        goes on with another agent, which speaks to Tier 1 (or escalates) for the whole ticket;
        this run writes its next steps and its hand-over note only."""
        lang = self._lang
        key = f"run:{run_id}"
        verdict = Verdict(conclusion["verdict"])
        fault_steps = [text("runner.fault_step", lang, title=f["title"], detail=f["detail"]) for f in faults]
        cause = conclusion["cause"]
        if cause:
            evidence = evidence_text(conclusion["evidence_titles"])
            bad = [f for f in findings if f.status in (CheckStatus.WARN, CheckStatus.FAIL)]
            # the evidence for the cause first, then the other problems
            bad.sort(key=lambda f: f.title not in conclusion["evidence_titles"])
            steps = [text("runner.remedy", lang, title=f.title, detail=f.detail or f.status) for f in bad]
            steps += [text("plan.pending", lang, title=p["title"], plan=p["plan_id"], hash=p["plan_hash"])
                      for p in plans]
            handover_to = conclusion.get("handover_to")
            if handover_to:
                steps.append(text("runner.handover_step", lang, agent=handover_to, ticket=ticket_id))
            steps += fault_steps
            steps.append(text("runner.reproduce", lang))
            await self._journal.next_steps(ticket_id, agent, verdict, steps=steps, key=f"{key}:next")
            escalated = False
            if handover_to:
                await self._journal.note(
                    ticket_id, text("runner.handover", lang, agent=handover_to, cause=cause, evidence=evidence),
                    agent=agent, tags=["agent_handover"], metadata={"to": handover_to, "cause": cause},
                    key=f"{key}:agent_handover")
                await self._journal.event(ticket_id, "agent_handover", status="info", agent=agent,
                                          payload={"to": handover_to, "cause": cause, "run_id": str(run_id)},
                                          key=f"{key}:agent_handover:event")
            if defer:
                return {"escalated": False, "handover_to": handover_to, "deferred": True}
            if not handover_to and not plans:
                # Cause known, but no repair this agent may plan (a foreign process on the port,
                # no valid backup, a patch someone must write): a human has to act (playbook 5.1).
                await self._journal.escalate(
                    ticket_id, agent,
                    text("runner.no_repair", lang, cause=cause, evidence="; ".join(
                        f"{f.title}: {f.detail}" if f.detail else f.title for f in bad)),
                    {"run_id": str(run_id), "verdict": str(verdict), "findings": ", ".join(f.check for f in bad)},
                    key=f"{key}:escalate",
                )
                escalated = True
            summary_key = "runner.revised_summary" if conclusion.get("revised") else "runner.confirmed_summary"
            await self._journal.tier1_handover(ticket_id, agent, text(summary_key, lang, cause=cause, evidence=evidence),
                                               text("runner.confirmed_ask", lang),
                                               # "we are fixing it" only when a fix is planned here
                                               customer_message=text("runner.confirmed_customer" if plans else
                                                                     "runner.escalated_customer", lang),
                                               key=f"{key}:tier1")
            return {"escalated": escalated, "handover_to": handover_to}
        blocker = Blocker(
            blocker=text("runner.blocker", lang, cause=hypothesis.suspected_cause),
            next_action=text("runner.next_action", lang),
            resources=text("runner.resources", lang),
        )
        await self._journal.next_steps(ticket_id, agent, verdict, steps=fault_steps, blocker=blocker,
                                       key=f"{key}:next")
        if defer:
            return {"escalated": False, "deferred": True}
        await self._journal.escalate(
            ticket_id, agent, blocker.blocker,
            {"run_id": str(run_id), "verdict": str(verdict), "hypothesis": hypothesis.suspected_cause},
            key=f"{key}:escalate",
        )
        counts = count_findings(findings, lang)
        await self._journal.tier1_handover(ticket_id, agent, text("runner.escalated_summary", lang, agent=agent,
                                                                  counts=counts),
                                           text("runner.escalated_ask", lang),
                                           customer_message=text("runner.escalated_customer", lang),
                                           key=f"{key}:tier1")
        if self._oncall:
            await self._journal.hand_over_to_human(
                ticket_id, agent, self._oncall,
                HumanHandover(problem=subject, cause=blocker.blocker,
                              steps_taken=text("runner.steps_taken", lang,
                                               counts=count_findings(findings, lang, reasons=False)),
                              current_state=text(f"verdict.{verdict}", lang),
                              recommended_action=blocker.next_action),
                key=f"{key}:handover",
            )
        return {"escalated": True, "assigned_agent": self._oncall}

    async def after_fault(self, ticket_id: uuid.UUID, agent: str, run_id: uuid.UUID,
                          fault: Finding) -> dict[str, Any]:
        """The communication itself raised: escalate with fixed texts so a human still sees the ticket."""
        lang = self._lang
        message = text("runner.fault_escalation", lang, detail=fault.detail)
        await self._journal.escalate(ticket_id, agent, message, {"run_id": str(run_id), "fault": fault.detail},
                                     key=f"run:{run_id}:escalate:fault")
        await self._journal.tier1_handover(ticket_id, agent, message, text("runner.escalated_ask", lang),
                                           customer_message=text("runner.escalated_customer", lang),
                                           key=f"run:{run_id}:tier1:fault")
        return {"escalated": True, "fault": fault.model_dump(mode="json")}
