"""The lead run (`run --agent auto`, MCP `start_run` with agent "auto"): one ticket, the agents
whose layers the evidence crosses, one conclusion.

Triage's first agent runs (all of triage's agents, in order, when it cannot tell them apart).
When a run's findings name a cause in another agent's layer (the agents' declared explanations
with a `layer`, e.g. "the app's log names Supabase/SQLSTATE" → supabase-analyst), that agent
runs next on the same ticket with the evidence as its starting hypothesis. Each agent runs at
most once. The runs before the last write their findings and hand-over notes but no Tier-1
handover: the lead writes one conclusion note — the root cause, its layer and the chain of
evidence across agents, each link citing the command notes it came from — and exactly one Tier-1
handover reaches the ticket (the last run's, or the lead's own when the chain ends at an agent
that already ran).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import AgentName, CheckStatus, Finding, Language, Message, parse_agent
from support_mcp.services.communication import evidence_text
from support_mcp.services.conclusion import count_findings
from support_mcp.services.journal import TicketJournal
from support_mcp.services.routing import TriageService
from support_mcp.services.runner import LeadStep, PlaybookRunner, ProgressFn, RunReport
from support_mcp.services.texts import text
from support_mcp.store.tickets import TicketStore

LEAD_AUTHOR = "lead"
_NOTES_PER_LINK = 3


@dataclass(frozen=True)
class Link:
    """One finding of the chain: which agent saw it, by which check, and the command notes."""

    agent: str
    check: str
    status: str
    title: str
    notes: tuple[uuid.UUID, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"agent": self.agent, "check": self.check, "status": self.status, "title": self.title,
                "notes": [str(n) for n in self.notes]}


@dataclass(frozen=True)
class LeadConclusion:
    """The root cause across the runs of a lead run.

    `confirmed`: the agent of the cause's layer named it from its own findings; False when the
    chain ends at a hand-over the next agent could not confirm (its checks found nothing or could
    not run); `cause` None when no run named a cause."""

    cause: str | None
    layer: str | None
    confirmed: bool
    chain: tuple[Link, ...]
    runs: tuple[tuple[str, uuid.UUID], ...]
    unconfirmed_by: str | None = None  # the agent that found nothing for a handed-over cause, with its counts
    plans: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "layer": self.layer, "confirmed": self.confirmed,
                "chain": [link.to_dict() for link in self.chain],
                "runs": [{"agent": agent, "run_id": str(run_id)} for agent, run_id in self.runs],
                "unconfirmed_by": self.unconfirmed_by, "plans": [p["plan_id"] for p in self.plans]}


@dataclass
class LeadReport:
    triage: str
    ambiguous: bool
    runs: list[RunReport]
    conclusion: LeadConclusion
    note_id: uuid.UUID | None = None
    escalated: bool = False


def _evidence(report: RunReport) -> list[Finding]:
    """The findings a run's conclusion rests on, in the order it names them."""
    titles = report.conclusion.get("evidence_titles") or []
    checks = set(report.conclusion.get("evidence") or [])
    chosen = [f for f in report.findings if f.check in checks and f.title in titles
              and f.status in (CheckStatus.FAIL, CheckStatus.WARN)]
    return sorted(chosen, key=lambda f: titles.index(f.title))


def conclude_lead(reports: Sequence[RunReport], command_notes: Sequence[Message],
                  language: Language = "de") -> LeadConclusion:
    """The root cause and the chain of evidence over the runs of one lead run, in run order."""
    chain: list[Link] = []
    for report in reports:
        for finding in _evidence(report):
            notes = tuple(n.id for n in command_notes
                          if n.metadata.get("run") == f"run:{report.run_id}"
                          and n.metadata.get("check") == finding.check)[:_NOTES_PER_LINK]
            chain.append(Link(report.agent, finding.check, str(finding.status), finding.title, notes))
    runs = tuple((r.agent, r.run_id) for r in reports)
    own = [r for r in reports if r.conclusion.get("cause") and not r.handover_to]
    if own:
        root = own[-1]
        return LeadConclusion(root.conclusion["cause"], root.agent, True, tuple(chain), runs,
                              plans=tuple(root.plans))
    handed = [r for r in reports if r.handover_to]
    if handed:
        last = handed[-1]
        target = parse_agent(str(last.handover_to))
        after = next((r for r in reports if r.agent == target), None)
        unconfirmed = (f"{target}: {count_findings(after.findings, language)}" if after is not None else None)
        return LeadConclusion(last.conclusion["cause"], target, False, tuple(chain), runs, unconfirmed)
    return LeadConclusion(None, None, False, tuple(chain), runs)


def render_lead(conclusion: LeadConclusion, language: Language = "de") -> str:
    """The conclusion note: root cause, layer, the chain (finding → finding → cause), the runs."""
    lang = language
    agents = list(dict.fromkeys(agent for agent, _ in conclusion.runs))
    title = text("lead.title_one", lang) if len(agents) == 1 else text("lead.title", lang, count=len(agents))
    lines = [f"## {title}"]
    if conclusion.cause is None:
        lines.append(f"- {text('lead.no_cause', lang)}")
    else:
        state = text("lead.confirmed" if conclusion.confirmed else "lead.unconfirmed", lang,
                     by=conclusion.unconfirmed_by or conclusion.layer)
        lines += [f"- {text('lead.cause', lang)}: {conclusion.cause} ({state})",
                  f"- {text('lead.layer', lang)}: {text(f'layer.{conclusion.layer}', lang)} ({conclusion.layer})"]
    if conclusion.chain:
        lines.append(f"- {text('lead.chain', lang)}:")
        for number, link in enumerate(conclusion.chain, 1):
            cited = ", ".join(str(n) for n in link.notes) or text("lead.no_command", lang)
            lines.append(f"  {number}. {link.agent} · {link.check} ({link.status}): {link.title} "
                         f"— {text('lead.notes', lang)}: {cited}")
        if conclusion.cause is not None:
            lines.append(f"  → {text('lead.cause', lang)}: {conclusion.cause}")
    lines.append(f"- {text('lead.runs', lang)}: " + ", ".join(f"{agent} ({run_id})" for agent, run_id in conclusion.runs))
    if conclusion.plans:
        lines.append(f"- {text('lead.plans', lang)}: " + ", ".join(f"{p['title']} ({p['plan_id']})"
                                                                   for p in conclusion.plans))
    return "\n".join(lines)


class LeadRunner:
    """Runs a ticket through the agents its evidence crosses and writes the one conclusion."""

    def __init__(self, *, runner: PlaybookRunner, triage: TriageService, tickets: TicketStore,
                 journal: TicketJournal, language: Language = "de") -> None:
        self._runner = runner
        self._triage = triage
        self._tickets = tickets
        self._journal = journal
        self._language = language

    async def run(self, ticket_id: uuid.UUID, *, progress: ProgressFn | None = None,
                  order: Sequence[AgentName] | None = None) -> LeadReport:
        """Triage, then the agents the evidence leads to; `order`: start with these agents
        instead of triage's (each still runs once, hand-overs still lead)."""
        result = await self._triage.triage_ticket(ticket_id)
        starts = order if order is not None else (result.agents if result.ambiguous else result.agents[:1])
        queue: list[AgentName] = list(starts)
        reports: list[RunReport] = []
        ran: set[str] = set()
        handover: dict[str, Any] | None = None
        while queue:
            agent = queue.pop(0)
            if agent in ran:
                continue
            ran.add(agent)
            more = any(a not in ran for a in queue)
            report = await self._runner.run(ticket_id, agent, progress=progress,
                                            lead=LeadStep(handover=handover, more_follow=more))
            reports.append(report)
            handover = None
            if report.handover_to:
                target = parse_agent(report.handover_to)
                if target not in ran:
                    handover = {"from": report.agent, "cause": report.conclusion["cause"],
                                "evidence": list(report.conclusion.get("evidence_titles") or []),
                                "run_id": str(report.run_id)}
                    queue.insert(0, target)
            elif report.conclusion.get("cause"):
                break
        if not reports:
            raise InvalidInput("a lead run needs at least one agent to start with")
        notes = await self._tickets.messages(ticket_id, internal_only=True, tag="command", limit=5000)
        conclusion = conclude_lead(reports, notes, self._language)
        note = await self._journal.note(
            ticket_id, render_lead(conclusion, self._language), agent=LEAD_AUTHOR, tags=["lead_conclusion"],
            metadata=conclusion.to_dict(), key=f"lead:{reports[0].run_id}:conclusion")
        escalated = any(r.escalated for r in reports)
        if reports[-1].deferred:
            # The chain ended at an agent that ran already: nobody else speaks, so the lead does.
            escalated = await self._speak_last(ticket_id, conclusion, reports[0].run_id)
        return LeadReport(triage=result.reason, ambiguous=result.ambiguous, runs=reports, conclusion=conclusion,
                          note_id=note.id, escalated=escalated)

    async def _speak_last(self, ticket_id: uuid.UUID, conclusion: LeadConclusion, first_run: uuid.UUID) -> bool:
        lang = self._language
        cause = conclusion.cause or text("lead.no_cause", lang)
        evidence = evidence_text([link.title for link in conclusion.chain]) if conclusion.chain else "-"
        summary = text("lead.escalated_summary", lang, cause=cause, evidence=evidence)
        await self._journal.escalate(ticket_id, LEAD_AUTHOR, summary,
                                     {"lead": str(first_run), "layer": conclusion.layer or "-"},
                                     key=f"lead:{first_run}:escalate")
        await self._journal.tier1_handover(ticket_id, LEAD_AUTHOR, summary, text("runner.escalated_ask", lang),
                                           customer_message=text("runner.escalated_customer", lang),
                                           key=f"lead:{first_run}:tier1")
        return True
