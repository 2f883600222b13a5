"""The playbook runner: the skeleton every agent run shares (playbook section 1).

context → knowledge → hypothesis → checks → verdict → communication (or escalation) → suggestion

Each step is recorded on the run when it completes; a run that crashed is resumed at the first
step not completed, and every note and event carries an idempotency key derived from the run,
so a resumed run writes nothing twice. One run per ticket at a time (advisory lock).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from support_mcp.agents.base import Check
from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import Conflict, SupportMCPError
from support_mcp.domain.models import (
    AgentName,
    CheckStatus,
    Finding,
    Hypothesis,
    Language,
    RunStatus,
    Verdict,
    parse_agent,
)
from support_mcp.services import playbook
from support_mcp.services.context import ContextBundle, ContextService
from support_mcp.services.execution import ContextFactory
from support_mcp.services.journal import Blocker, HumanHandover, TicketJournal
from support_mcp.services.repairs import RepairService
from support_mcp.services.texts import text
from support_mcp.services.triage import hypothesis_for, triage
from support_mcp.store.runs import RunStore

ProgressFn = Callable[[str, str], None]


class KnowledgeHit(Protocol):
    breadcrumb: str
    anchor: str
    rank: float


KnowledgeSearch = Callable[[str, str | None, int], Awaitable[Sequence[Any]]]
ChecksFor = Callable[[str], Sequence[Check]]
# (ticket, agent, title, body) -> suggestion id
SuggestFn = Callable[[uuid.UUID, str, str, str], Awaitable[uuid.UUID]]


@dataclass
class RunReport:
    run_id: uuid.UUID
    ticket_id: uuid.UUID
    agent: str
    hypothesis: Hypothesis
    verdict: Verdict
    findings: list[Finding]
    checklist: dict[str, bool]
    knowledge: list[str]
    escalated: bool
    resumed: bool
    steps: list[str] = field(default_factory=list)


def judge(findings: Sequence[Finding], confirming: Sequence[str]) -> Verdict:
    """Confirmed when a confirming check warns or fails; refuted when all of them ran ok."""
    relevant = [f for f in findings if f.check in confirming]
    if any(f.status in (CheckStatus.WARN, CheckStatus.FAIL) for f in relevant):
        return Verdict.CONFIRMED
    ran = {f.check for f in relevant if f.status == CheckStatus.OK}
    if confirming and ran == set(confirming):
        return Verdict.REFUTED
    return Verdict.INCONCLUSIVE


class PlaybookRunner:
    def __init__(
        self,
        *,
        runs: RunStore,
        context: ContextService,
        journal: TicketJournal,
        knowledge_search: KnowledgeSearch,
        checks_for: ChecksFor,
        contexts: ContextFactory,
        repairs: RepairService | None = None,
        language: Language = "de",
        oncall_assignee: str | None = None,
        suggest: SuggestFn | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._runs = runs
        self._context = context
        self._journal = journal
        self._search = knowledge_search
        self._checks_for = checks_for
        self._contexts = contexts
        self._repairs = repairs
        self._language = language
        self._oncall = oncall_assignee
        self._suggest = suggest
        self._clock = clock

    async def run(
        self, ticket_id: uuid.UUID, agent: AgentName, *, progress: ProgressFn | None = None
    ) -> RunReport:
        """Run (or resume) the agent's playbook on the ticket and return what it concluded."""
        notify = progress or (lambda step, status: None)
        async with self._runs.ticket_lock(ticket_id):
            existing = await self._runs.latest_unfinished(ticket_id, agent)
            run = existing or await self._runs.create_run(ticket_id, agent, RunStatus.RUNNING)
            await self._runs.update_run(run.id, status=RunStatus.RUNNING)
            done = {s.name: s.output for s in run.steps if s.status == "done"}
            state = _RunState(run.id, ticket_id, agent, resumed=existing is not None, done=done)
            try:
                for ordinal, name in enumerate(playbook.RUNNER_STEPS):
                    if name in done:
                        notify(name, "resumed")
                        continue
                    notify(name, "running")
                    started = self._clock()
                    output = await getattr(self, f"_step_{name}")(state)
                    await self._runs.record_step(run.id, ordinal, name, "done", started_at=started,
                                                 finished_at=self._clock(), output=output)
                    state.done[name] = output
                    notify(name, "done")
            except BaseException:
                await self._runs.update_run(run.id, status=RunStatus.FAILED)
                raise
            checklist = playbook.evaluate_checklist(
                agent,
                checks_ok=[f["check"] for f in state.done["checks"]["findings"]
                           if f["status"] not in ("error", "skipped")],
                steps_done=state.done.keys(),
                verdict=state.done["verdict"]["verdict"],
            )
            escalated = bool(state.done["communication"].get("escalated"))
            await self._runs.update_run(
                run.id, status=RunStatus.ESCALATED if escalated else RunStatus.SUCCEEDED, checklist=checklist
            )
            return RunReport(
                run_id=run.id, ticket_id=ticket_id, agent=agent,
                hypothesis=Hypothesis(**state.done["hypothesis"]["hypothesis"]),
                verdict=Verdict(state.done["verdict"]["verdict"]),
                findings=[Finding(**f) for f in state.done["checks"]["findings"]],
                checklist=checklist,
                knowledge=state.done["knowledge"]["sections"],
                escalated=escalated, resumed=state.resumed, steps=list(state.done),
            )

    async def enqueue(self, ticket_id: uuid.UUID, agent: AgentName) -> uuid.UUID:
        """Queue a run for a worker (`support-mcp worker`); returns the run id."""
        run = await self._runs.create_run(ticket_id, agent, RunStatus.QUEUED)
        return run.id

    async def work_once(self, *, progress: ProgressFn | None = None) -> RunReport | None:
        """Claim the oldest queued run (FOR UPDATE SKIP LOCKED: never claimed twice) and run it."""
        claimed = await self._runs.claim_queued()
        if claimed is None:
            return None
        try:
            return await self.run(claimed.ticket_id, parse_agent(claimed.agent), progress=progress)
        except Conflict:
            # Another process holds this ticket right now: give the run back for later.
            await self._runs.update_run(claimed.id, status=RunStatus.QUEUED)
            return None

    # --- steps: each returns the JSON-able output stored on the run ---------------------------
    async def _bundle(self, state: _RunState) -> ContextBundle:
        if state.bundle is None:
            state.bundle = await self._context.bundle(state.ticket_id)
        return state.bundle

    async def _step_context(self, state: _RunState) -> dict[str, Any]:
        bundle = await self._bundle(state)
        out = {
            "customer_messages": len(bundle.customer_messages),
            "internal_notes": len(bundle.internal_notes),
            "open_events": [{"id": str(e.id), "type": e.event_type} for e in bundle.open_events],
            "escalation_path": bundle.ticket.escalation_path,
        }
        await self._journal.event(state.ticket_id, "run_started", status="info", agent=state.agent,
                                  payload={"run_id": str(state.run_id), **out}, key=state.key("started"))
        return out

    async def _step_knowledge(self, state: _RunState) -> dict[str, Any]:
        bundle = await self._bundle(state)
        hits = await self._search(bundle.customer_text(), state.agent, 3)
        return {"sections": [h.breadcrumb for h in hits], "anchors": [h.anchor for h in hits]}

    async def _step_hypothesis(self, state: _RunState) -> dict[str, Any]:
        bundle = await self._bundle(state)
        result = triage(bundle.customer_text())
        hypothesis, confirming = hypothesis_for(parse_agent(state.agent), bundle.ticket.subject, result,
                                                self._language)
        await self._journal.record_hypothesis(
            state.ticket_id, state.agent, hypothesis, references=state.done["knowledge"]["sections"],
            key=state.key("hypothesis"),
        )
        await self._runs.update_run(state.run_id, hypothesis=hypothesis)
        return {"hypothesis": hypothesis.model_dump(), "confirming_checks": list(confirming),
                "triage": result.reason}

    async def _step_checks(self, state: _RunState) -> dict[str, Any]:
        checks = list(self._checks_for(state.agent))
        # One context (and so one command counter) for all checks of the run.
        bundle = await self._bundle(state)
        ctx = self._contexts(state.ticket_id, state.agent, f"run:{state.run_id}", ticket_text=bundle.customer_text())

        async def run_one(check: Check) -> list[Finding]:
            try:
                return await check.run(ctx)
            except SupportMCPError as exc:  # a probe that could not run is a finding, not a crash
                return [Finding(check=check.name, status=CheckStatus.ERROR, title=check.title, detail=str(exc))]

        # Independent probes run concurrently.
        results = await asyncio.gather(*(run_one(c) for c in checks))
        findings = [f for group in results for f in group]
        if not checks:
            findings = [Finding(check="none", status=CheckStatus.SKIPPED,
                                title=text("run.no_checks", self._language, agent=state.agent))]
        await self._journal.event(state.ticket_id, "checks_completed", agent=state.agent,
                                  payload={"checks": [c.name for c in checks],
                                           "statuses": {f.check: str(f.status) for f in findings}},
                                  key=state.key("checks"))
        return {"findings": [f.model_dump(mode="json") for f in findings]}

    async def _step_verdict(self, state: _RunState) -> dict[str, Any]:
        findings = [Finding(**f) for f in state.done["checks"]["findings"]]
        verdict = judge(findings, state.done["hypothesis"]["confirming_checks"])
        await self._journal.record_findings(state.ticket_id, state.agent, findings, verdict,
                                            key=state.key("findings"))
        await self._runs.update_run(state.run_id, verdict=verdict)
        return {"verdict": str(verdict)}

    async def _step_repair(self, state: _RunState) -> dict[str, Any]:
        """Confirmed causes get repair plans drafted and dry-run; they wait for a human's approval."""
        if self._repairs is None or state.done["verdict"]["verdict"] != Verdict.CONFIRMED:
            return {"plans": []}
        findings = [Finding(**f) for f in state.done["checks"]["findings"]]
        plans = []
        for repair in self._repairs.available(state.agent):
            params = repair.proposes(findings)
            if params is None:
                continue
            plan = await self._repairs.draft(state.ticket_id, state.agent, repair.name, params, run_id=state.run_id)
            plan = await self._repairs.dry_run(plan.id)
            plans.append({"plan_id": str(plan.id), "title": plan.title, "plan_hash": plan.plan_hash,
                          "dry_run_ok": plan.dry_run_ok})
        return {"plans": plans}

    async def _step_communication(self, state: _RunState) -> dict[str, Any]:
        lang = self._language
        bundle = await self._bundle(state)
        verdict = Verdict(state.done["verdict"]["verdict"])
        hyp = Hypothesis(**state.done["hypothesis"]["hypothesis"])
        findings = [Finding(**f) for f in state.done["checks"]["findings"]]
        bad = [f for f in findings if f.status in (CheckStatus.WARN, CheckStatus.FAIL)]
        plans = [p for p in state.done["repair"]["plans"] if p["dry_run_ok"]]
        if verdict == Verdict.CONFIRMED:
            steps = [text("runner.remedy", lang, title=f.title, detail=f.detail or f.status) for f in bad]
            steps += [text("plan.pending", lang, title=p["title"], plan=p["plan_id"], hash=p["plan_hash"])
                      for p in plans]
            steps.append(text("runner.reproduce", lang))
            await self._journal.next_steps(state.ticket_id, state.agent, verdict, steps=steps, key=state.key("next"))
            escalated = False
            if not plans:
                # Cause known, but no repair this agent may plan (a foreign process on the port,
                # no valid backup, a patch someone must write): a human has to act (playbook 5.1).
                await self._journal.escalate(
                    state.ticket_id, state.agent,
                    text("runner.no_repair", lang, cause=hyp.suspected_cause,
                         evidence="; ".join(f"{f.title}: {f.detail}" if f.detail else f.title for f in bad)),
                    {"run_id": str(state.run_id), "verdict": str(verdict),
                     "findings": ", ".join(f.check for f in bad)},
                    key=state.key("escalate"),
                )
                escalated = True
            summary = text("runner.confirmed_summary", lang, cause=hyp.suspected_cause,
                           evidence=", ".join(f.title for f in bad))
            await self._journal.tier1_handover(state.ticket_id, state.agent, summary,
                                               text("runner.confirmed_ask", lang),
                                               customer_message=text("runner.confirmed_customer", lang),
                                               key=state.key("tier1"))
            return {"escalated": escalated}
        blocker = Blocker(
            blocker=text("runner.blocker", lang, cause=hyp.suspected_cause),
            next_action=text("runner.next_action", lang),
            resources=text("runner.resources", lang),
        )
        await self._journal.next_steps(state.ticket_id, state.agent, verdict, blocker=blocker, key=state.key("next"))
        await self._journal.escalate(
            state.ticket_id, state.agent, blocker.blocker,
            {"run_id": str(state.run_id), "verdict": str(verdict), "hypothesis": hyp.suspected_cause},
            key=state.key("escalate"),
        )
        summary = text("runner.escalated_summary", lang, agent=state.agent, count=len(findings))
        await self._journal.tier1_handover(state.ticket_id, state.agent, summary,
                                           text("runner.escalated_ask", lang),
                                           customer_message=text("runner.escalated_customer", lang),
                                           key=state.key("tier1"))
        if self._oncall:
            await self._journal.hand_over_to_human(
                state.ticket_id, state.agent, self._oncall,
                HumanHandover(problem=bundle.ticket.subject, cause=blocker.blocker,
                              steps_taken=text("runner.steps_taken", lang, count=len(findings)),
                              current_state=text(f"verdict.{verdict}", lang),
                              recommended_action=blocker.next_action),
                key=state.key("handover"),
            )
        return {"escalated": True, "assigned_agent": self._oncall}

    async def _step_suggestion(self, state: _RunState) -> dict[str, Any]:
        """Playbook 7: a confirmed cause becomes a knowledge suggestion, reviewed in /intern."""
        if self._suggest is None or state.done["verdict"]["verdict"] != Verdict.CONFIRMED:
            return {"proposed": False}
        hyp = Hypothesis(**state.done["hypothesis"]["hypothesis"])
        findings = [Finding(**f) for f in state.done["checks"]["findings"]]
        evidence = "\n".join(f"- {f.title}: {f.detail}" for f in findings
                             if f.status in (CheckStatus.WARN, CheckStatus.FAIL))
        lang = self._language
        suggestion_id = await self._suggest(
            state.ticket_id, state.agent,
            text("runner.suggestion_title", lang, symptom=hyp.symptom, cause=hyp.suspected_cause),
            text("runner.suggestion_body", lang, run=state.run_id, agent=state.agent, evidence=evidence),
        )
        return {"proposed": True, "suggestion_id": str(suggestion_id)}


@dataclass
class _RunState:
    run_id: uuid.UUID
    ticket_id: uuid.UUID
    agent: str
    resumed: bool
    done: dict[str, dict[str, Any]]
    bundle: ContextBundle | None = None

    def key(self, name: str) -> str:
        return f"run:{self.run_id}:{name}"
