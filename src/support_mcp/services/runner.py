"""The playbook runner: the skeleton every agent run shares (playbook section 1).

context → knowledge → hypothesis → checks → verdict → repair → communication (or escalation)
→ suggestion

Each step is recorded on the run when it completes; a run that crashed is resumed at the first
step not completed, and every note and event carries an idempotency key derived from the run,
so a resumed run writes nothing twice. One run per ticket at a time (advisory lock).

A run always reaches the playbook's end. A check, parser, repair draft or step that raises
becomes an `error` finding and the run goes on (the step boundaries below are the runner's
top-level handlers); only the loss of the database (`StoreUnavailable`) ends a run, which is
then marked `failed` and resumed by the next `run` on the same ticket and agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from support_mcp.agents.base import Check
from support_mcp.agents.explanations import Explanation
from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import Conflict, StoreUnavailable
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
from support_mcp.policy.redaction import redact
from support_mcp.services import playbook
from support_mcp.services.communication import Communication, evidence_text
from support_mcp.services.conclusion import Conclusion, conclude
from support_mcp.services.context import ContextBundle, ContextService
from support_mcp.services.execution import CURRENT_CHECK, ContextFactory
from support_mcp.services.journal import TicketJournal
from support_mcp.services.knowledge import PLAYBOOK_KEY, consultation
from support_mcp.services.repairs import RepairService
from support_mcp.services.texts import text
from support_mcp.services.triage import hypothesis_for, triage
from support_mcp.store.runs import RunStore

ProgressFn = Callable[[str, str], None]


class KnowledgeHit(Protocol):
    breadcrumb: str
    anchor: str
    rank: float


class KnowledgeSearch(Protocol):
    """Ranked knowledge sections for a ticket's text; `document` limits them to one document."""

    def __call__(self, query: str, agent: str | None, limit: int,
                 document: str | None = None) -> Awaitable[Sequence[Any]]: ...


ChecksFor = Callable[[str], Sequence[Check]]
ExplanationsFor = Callable[[str], Sequence[Explanation]]
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
    # cause, symptom, evidence (check names), revised, handover_to: see services.conclusion
    conclusion: dict[str, Any] = field(default_factory=dict)
    handover_to: str | None = None
    faults: list[str] = field(default_factory=list)  # steps and repair drafts that raised
    plans: list[dict[str, Any]] = field(default_factory=list)  # drafted: plan_id, title, plan_hash, dry_run_ok
    deferred: bool = False  # a lead run goes on: this run wrote no Tier-1 handover or escalation


@dataclass(frozen=True)
class LeadStep:
    """What a lead run (`services.lead`) tells the run of one of its agents.

    `handover`: the evidence of the agent that handed over (from, cause, evidence titles, run id);
    it becomes this run's starting hypothesis. `more_follow`: another agent runs when this one
    names no cause, so this run neither escalates nor writes a Tier-1 handover (one per lead run).
    """

    handover: dict[str, Any] | None = None
    more_follow: bool = False


def fault_finding(check: str, title: str, exc: BaseException) -> Finding:
    """A check, parser, repair draft or step that raised, as an `error` finding (redacted)."""
    message = redact(" ".join(str(exc).split()))[:500] or "-"
    return Finding(check=check, status=CheckStatus.ERROR, title=title,
                   detail=f"{type(exc).__name__}: {message}", data={"exception": type(exc).__name__})


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
        explanations_for: ExplanationsFor = lambda agent: (),
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
        self._explanations_for = explanations_for
        self._language = language
        self._oncall = oncall_assignee
        self._suggest = suggest
        self._clock = clock
        self._communication = Communication(journal, language, oncall_assignee)

    async def run(
        self, ticket_id: uuid.UUID, agent: AgentName, *, progress: ProgressFn | None = None,
        lead: LeadStep | None = None,
    ) -> RunReport:
        """Run (or resume) the agent's playbook on the ticket and return what it concluded;
        `lead`: the run is one of a lead run's (see LeadStep)."""
        notify = progress or (lambda step, status: None)
        bundle = await self._context.bundle(ticket_id)  # NotFound for an unknown ticket, before any run
        async with self._runs.ticket_lock(ticket_id):
            existing = await self._runs.latest_unfinished(ticket_id, agent)
            run = existing or await self._runs.create_run(ticket_id, agent, RunStatus.RUNNING)
            await self._runs.update_run(run.id, status=RunStatus.RUNNING)
            done = {s.name: s.output for s in run.steps if s.status == "done"}
            state = _RunState(run.id, ticket_id, agent, resumed=existing is not None, done=done, bundle=bundle,
                              lead=lead)
            try:
                for ordinal, name in enumerate(playbook.RUNNER_STEPS):
                    if name in done:
                        notify(name, "resumed")
                        continue
                    notify(name, "running")
                    started = self._clock()
                    output = await self._guarded_step(state, name)
                    await self._runs.record_step(run.id, ordinal, name, "done", started_at=started,
                                                 finished_at=self._clock(), output=output)
                    state.done[name] = output
                    notify(name, "done" if "fault" not in output else "error")
            except BaseException:
                # The database is gone (or the process is being stopped): the run stays resumable.
                with contextlib.suppress(StoreUnavailable):
                    await self._runs.update_run(run.id, status=RunStatus.FAILED)
                raise
            return await self._finish(state)

    async def _guarded_step(self, state: _RunState, name: str) -> dict[str, Any]:
        """Run one step; anything but the loss of the database becomes a recorded fault."""
        try:
            output: dict[str, Any] = await getattr(self, f"_step_{name}")(state)
            return output
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 -- the step boundary: the playbook goes on whatever a step raises
            fault = fault_finding(f"step:{name}", text("runner.step_failed", self._language, step=name), exc)
            await self._journal.note(state.ticket_id, text("runner.fault_note", self._language, title=fault.title,
                                                           detail=fault.detail),
                                     agent=state.agent, tags=["fault"], key=state.key(f"fault:{name}"))
            if name == "communication":
                return await self._communication.after_fault(state.ticket_id, state.agent, state.run_id, fault)
            return {**self._fallback(state, name), "fault": fault.model_dump(mode="json")}

    def _fallback(self, state: _RunState, name: str) -> dict[str, Any]:
        """What a step that raised leaves for the steps after it."""
        generic, _ = hypothesis_for(parse_agent(state.agent), state.subject, triage(""), self._language)
        fallbacks: dict[str, dict[str, Any]] = {
            "context": {"customer_messages": 0, "internal_notes": 0, "open_events": [], "escalation_path": []},
            "knowledge": {"sections": [], "anchors": []},
            "hypothesis": {"hypothesis": generic.model_dump(), "symptom": None, "triage": ""},
            "checks": {"findings": []},
            "verdict": {"verdict": str(Verdict.INCONCLUSIVE),
                        "conclusion": Conclusion(Verdict.INCONCLUSIVE, None, None, (), False).to_dict()},
            "repair": {"plans": [], "errors": []},
            "suggestion": {"proposed": False},
        }
        return fallbacks[name]

    async def _finish(self, state: _RunState) -> RunReport:
        findings = [Finding(**f) for f in state.done["checks"]["findings"]]
        checklist = playbook.evaluate_checklist(
            state.agent,
            checks_ok=[f.check for f in findings if f.status not in ("error", "skipped")],
            steps_done=[name for name, out in state.done.items() if "fault" not in out],
            verdict=state.done["verdict"]["verdict"],
        )
        communication = state.done["communication"]
        escalated = bool(communication.get("escalated"))
        await self._runs.update_run(
            state.run_id, status=RunStatus.ESCALATED if escalated else RunStatus.SUCCEEDED, checklist=checklist
        )
        return RunReport(
            run_id=state.run_id, ticket_id=state.ticket_id, agent=state.agent,
            hypothesis=Hypothesis(**state.done["hypothesis"]["hypothesis"]),
            verdict=Verdict(state.done["verdict"]["verdict"]),
            findings=findings, checklist=checklist,
            knowledge=state.done["knowledge"]["sections"],
            escalated=escalated, resumed=state.resumed, steps=list(state.done),
            conclusion=state.done["verdict"]["conclusion"],
            handover_to=communication.get("handover_to"),
            faults=[f["check"] for f in _faults(state.done)],
            plans=list(state.done["repair"]["plans"]), deferred=bool(communication.get("deferred")),
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
    async def _step_context(self, state: _RunState) -> dict[str, Any]:
        bundle = state.bundle
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
        # Playbook 1.2: consult the knowledge base "and this playbook". The playbook's two best
        # sections (ranked with the playbook's own word weights) come first, then the best of
        # everything else: a large knowledge base must not push the binding procedure out.
        text_ = state.bundle.search_text()
        playbook_hits = await self._search(text_, state.agent, 2, PLAYBOOK_KEY)
        others = await self._search(text_, state.agent, 3)
        hits = consultation(playbook_hits, others, 3)
        return {"sections": [h.breadcrumb for h in hits], "anchors": [h.anchor for h in hits]}

    async def _step_hypothesis(self, state: _RunState) -> dict[str, Any]:
        result = triage(state.bundle.customer_text())
        hypothesis, symptom = hypothesis_for(parse_agent(state.agent), state.subject, result, self._language)
        handover = state.lead.handover if state.lead else None
        if handover:
            # A lead run hands over with evidence: that evidence is the hypothesis here, and
            # whatever this agent's findings name in its own layer confirms or refutes it.
            hypothesis = Hypothesis(symptom=state.subject, suspected_cause=text(
                "lead.handover_hypothesis", self._language, agent=handover["from"], cause=handover["cause"],
                evidence=evidence_text(handover["evidence"])), tools=hypothesis.tools)
            symptom = None
        await self._journal.record_hypothesis(
            state.ticket_id, state.agent, hypothesis, references=state.done["knowledge"]["sections"],
            key=state.key("hypothesis"),
        )
        await self._runs.update_run(state.run_id, hypothesis=hypothesis)
        return {"hypothesis": hypothesis.model_dump(), "symptom": symptom, "triage": result.reason}

    async def _step_checks(self, state: _RunState) -> dict[str, Any]:
        # The hypothesis decides which checks start first, not which count: all of them run.
        symptom = state.done["hypothesis"].get("symptom")
        first = {r.check for r in self._explanations_for(state.agent) if r.symptom == symptom}
        checks = sorted(self._checks_for(state.agent), key=lambda c: c.name not in first)
        # One context (and so one command counter) for all checks of the run.
        ctx = self._contexts(state.ticket_id, state.agent, f"run:{state.run_id}",
                             ticket_text=state.bundle.customer_text(),
                             ticket_customer=state.bundle.ticket.customer or "")

        async def run_one(check: Check) -> list[Finding]:
            CURRENT_CHECK.set(check.name)  # this task's own context: its command notes name the check
            try:
                return await check.run(ctx)
            except StoreUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001 -- the check boundary: a raising check or parser is a finding
                return [fault_finding(check.name, check.title, exc)]

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
        """Hypothesis, evidence, conclusion: judged by the agent's declared explanations over all findings."""
        lang = self._language
        findings = [Finding(**f) for f in state.done["checks"]["findings"]]
        conclusion = conclude(findings, self._explanations_for(state.agent), state.done["hypothesis"].get("symptom"),
                              agent=state.agent, language=lang)
        await self._journal.record_findings(
            state.ticket_id, state.agent, findings, conclusion.verdict,
            conclusion=self._communication.conclusion_lines(conclusion, findings), key=state.key("findings"))
        if conclusion.revised:
            hyp = Hypothesis(**state.done["hypothesis"]["hypothesis"])
            await self._communication.new_hypothesis(state.ticket_id, state.agent, hyp, conclusion,
                                                     key=state.key("hypothesis2"))
        await self._runs.update_run(state.run_id, verdict=conclusion.verdict)
        return {"verdict": str(conclusion.verdict), "conclusion": conclusion.to_dict()}

    async def _step_repair(self, state: _RunState) -> dict[str, Any]:
        """A named cause gets repair plans drafted and dry-run; they wait for a human's approval."""
        conclusion = state.done["verdict"]["conclusion"]
        # A cause in another agent's layer is repaired there (after the hand-over), not here.
        if self._repairs is None or not conclusion["cause"] or conclusion.get("handover_to"):
            return {"plans": [], "errors": []}
        findings = [Finding(**f) for f in state.done["checks"]["findings"]]
        plans, errors = [], []
        for repair in self._repairs.available(state.agent):
            try:
                params = repair.proposes(findings)
                if params is None:
                    continue
                plan = await self._repairs.draft(state.ticket_id, state.agent, repair.name, params,
                                                 run_id=state.run_id)
                plan = await self._repairs.dry_run(plan.id)
            except StoreUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001 -- a repair that cannot be drafted is a finding
                fault = fault_finding(f"repair:{repair.name}", text("runner.repair_failed", self._language,
                                                                   repair=repair.name), exc)
                await self._journal.note(state.ticket_id, text("runner.fault_note", self._language, title=fault.title,
                                                               detail=fault.detail),
                                         agent=state.agent, tags=["fault"], key=state.key(f"fault:{repair.name}"))
                errors.append(fault.model_dump(mode="json"))
                continue
            plans.append({"plan_id": str(plan.id), "title": plan.title, "plan_hash": plan.plan_hash,
                          "dry_run_ok": plan.dry_run_ok})
        return {"plans": plans, "errors": errors}

    async def _step_communication(self, state: _RunState) -> dict[str, Any]:
        return await self._communication.conclude_run(
            state.ticket_id, state.agent, state.run_id, subject=state.subject,
            hypothesis=Hypothesis(**state.done["hypothesis"]["hypothesis"]),
            findings=[Finding(**f) for f in state.done["checks"]["findings"]],
            conclusion=state.done["verdict"]["conclusion"],
            plans=[p for p in state.done["repair"]["plans"] if p["dry_run_ok"]],
            faults=_faults(state.done), defer=self._defers(state))

    @staticmethod
    def _defers(state: _RunState) -> bool:
        """Within a lead run, the next agent speaks last: after a hand-over, or when this run named
        no cause and another agent follows."""
        if state.lead is None:
            return False
        conclusion = state.done["verdict"]["conclusion"]
        return bool(conclusion.get("handover_to")) or (not conclusion["cause"] and state.lead.more_follow)

    async def _step_suggestion(self, state: _RunState) -> dict[str, Any]:
        """Playbook 7: a named cause becomes a knowledge suggestion, reviewed in /intern."""
        conclusion = state.done["verdict"]["conclusion"]
        if self._suggest is None or not conclusion["cause"]:
            return {"proposed": False}
        findings = [Finding(**f) for f in state.done["checks"]["findings"]]
        evidence = "\n".join(f"- {f.title}: {f.detail}" for f in findings
                             if f.status in (CheckStatus.WARN, CheckStatus.FAIL))
        lang = self._language
        # Written by the agent from its conclusion: nothing of the ticket's text reaches the title.
        title = text("runner.suggestion_title", lang, symptom=conclusion.get("symptom") or state.agent,
                     cause=_clip(" ".join(str(conclusion["cause"]).split()), 120))
        suggestion_id = await self._suggest(
            state.ticket_id, state.agent, title,
            text("runner.suggestion_body", lang, run=state.run_id, agent=state.agent, evidence=evidence or "-"),
        )
        return {"proposed": True, "suggestion_id": str(suggestion_id)}


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _faults(done: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Faults of steps and repair drafts so far (error findings of checks are in the findings)."""
    faults = [out["fault"] for out in done.values() if "fault" in out]
    return faults + list(done.get("repair", {}).get("errors", []))


@dataclass
class _RunState:
    run_id: uuid.UUID
    ticket_id: uuid.UUID
    agent: str
    resumed: bool
    done: dict[str, dict[str, Any]]
    bundle: ContextBundle
    lead: LeadStep | None = None

    @property
    def subject(self) -> str:
        return self.bundle.ticket.subject

    def key(self, name: str) -> str:
        return f"run:{self.run_id}:{name}"
