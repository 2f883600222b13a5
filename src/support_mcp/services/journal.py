"""Everything an agent writes onto a ticket (playbook 1.3 to 1.6 and 5): hypothesis, command log,
findings and verdict, next steps, Tier-1 handover, escalation, hand-over to a human, research.

Every text passes redaction before it reaches the database; every write can carry an
idempotency key so that a resumed run does not write the same note twice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.errors import InvalidInput
from support_mcp.domain.models import (
    MANUAL_FOLLOWUP,
    AutomationEvent,
    Finding,
    Hypothesis,
    Language,
    Message,
    Source,
    Ticket,
    Verdict,
)
from support_mcp.policy.fencing import quote_untrusted
from support_mcp.policy.redaction import prepare_output, redact, redact_mapping
from support_mcp.services.texts import text
from support_mcp.store.tickets import TicketStore

_STATUS_ICON = {"ok": "✔", "warn": "⚠", "fail": "✖", "skipped": "–", "error": "!"}
# A sentence ends at . ! ? followed by whitespace or the end; abbreviations such as "z. B."
# would count double, so the handover fields are checked one by one instead of free text.
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@dataclass(frozen=True)
class Blocker:
    """An unsolved incident (playbook 1.5): the blocker, the next action, the resources needed."""

    blocker: str
    next_action: str
    resources: str


@dataclass(frozen=True)
class HumanHandover:
    """The five parts of the hand-over summary of playbook 5.3."""

    problem: str
    cause: str
    steps_taken: str
    current_state: str
    recommended_action: str


def count_sentences(value: str) -> int:
    return len(_SENTENCE_END.findall(value.strip())) or (1 if value.strip() else 0)


class TicketJournal:
    """Writes notes and events onto tickets, redacted, in the configured language."""

    def __init__(
        self,
        tickets: TicketStore,
        *,
        language: Language = "de",
        output_cap_bytes: int = 16_384,
        clock: Clock = utc_now,
    ) -> None:
        self._tickets = tickets
        self.language = language
        self._cap = output_cap_bytes
        self._clock = clock

    def _lang(self, language: Language | None) -> Language:
        return language or self.language

    async def note(
        self,
        ticket_id: uuid.UUID,
        body: str,
        *,
        agent: str | None = None,
        tags: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> Message:
        """An internal note (`internal_only = true`), redacted."""
        return await self._tickets.add_message(
            ticket_id,
            body=redact(body),
            author_name=agent,
            internal_only=True,
            tags=tags,
            metadata=redact_mapping(metadata or {}),
            idempotency_key=key,
        )

    async def event(
        self,
        ticket_id: uuid.UUID,
        event_type: str,
        *,
        status: str = "info",
        agent: str | None = None,
        payload: dict[str, Any] | None = None,
        resolves_event_id: uuid.UUID | None = None,
        key: str | None = None,
    ) -> AutomationEvent:
        """An automation event with a redacted payload."""
        return await self._tickets.add_event(
            ticket_id,
            event_type=event_type,
            status=status,
            agent=agent,
            payload=redact_mapping(payload or {}),
            resolves_event_id=resolves_event_id,
            idempotency_key=key,
        )

    async def record_hypothesis(
        self,
        ticket_id: uuid.UUID,
        agent: str,
        hypothesis: Hypothesis,
        *,
        references: Sequence[str] = (),
        language: Language | None = None,
        key: str | None = None,
    ) -> Message:
        """Playbook 1.3: the symptom and suspected cause as an internal note, before any command."""
        lang = self._lang(language)
        body = "\n".join(
            [
                f"## {text('hypothesis.title', lang, agent=agent)}",
                f"- {text('hypothesis.symptom', lang)}: {quote_untrusted(hypothesis.symptom)}",
                f"- {text('hypothesis.cause', lang)}: {hypothesis.suspected_cause}",
                f"- {text('hypothesis.tools', lang)}: {', '.join(hypothesis.tools) or '—'}",
                f"- {text('hypothesis.references', lang)}: {'; '.join(references) or '—'}",
            ]
        )
        message = await self.note(
            ticket_id, body, agent=agent, tags=["hypothesis"],
            metadata={"hypothesis": hypothesis.model_dump()}, key=key,
        )
        await self.event(
            ticket_id, "hypothesis_recorded", agent=agent, payload=hypothesis.model_dump(),
            key=f"{key}:event" if key else None,
        )
        return message

    async def log_command(
        self,
        ticket_id: uuid.UUID,
        *,
        agent: str,
        target: str,
        command: Sequence[str] | str,
        exit_code: int | None,
        duration_ms: float,
        output: str,
        started_at: datetime | None = None,
        timed_out: bool = False,
        language: Language | None = None,
        key: str | None = None,
        source: dict[str, str] | None = None,
    ) -> Message:
        """Playbook 1.4: one internal message per executed command, output redacted and capped.
        `source` says which run and check ran it (metadata: a conclusion cites the note by it)."""
        lang = self._lang(language)
        started = started_at or self._clock()
        shown_command = command if isinstance(command, str) else " ".join(command)
        safe_output, truncated = prepare_output(output, self._cap)
        exit_text = text("command.timeout", lang) if timed_out else str(exit_code)
        lines = [
            f"## {text('command.title', lang)}",
            f"- {text('command.time', lang)}: {started.isoformat(timespec='seconds')}",
            f"- {text('command.agent', lang)}: {agent}",
            f"- {text('command.target', lang)}: {target}",
            f"- {text('command.command', lang)}: `{redact(shown_command)}`",
            f"- {text('command.exit', lang)}: {exit_text}",
            f"- {text('command.duration', lang)}: {duration_ms:.0f} ms",
            f"- {text('command.output', lang)}" + (f" ({text('command.truncated', lang)})" if truncated else "") + ":",
            "```",
            safe_output.rstrip("\n"),
            "```",
        ]
        metadata = {
            "kind": "command",
            "target": target,
            "argv": [command] if isinstance(command, str) else list(command),
            "exit_code": exit_code,
            "timed_out": timed_out,
            "duration_ms": round(duration_ms, 1),
            "started_at": started.isoformat(),
            "truncated": truncated,
            **(source or {}),
        }
        return await self.note(
            ticket_id, "\n".join(lines), agent=agent, tags=["command"], metadata=metadata, key=key
        )

    async def record_findings(
        self,
        ticket_id: uuid.UUID,
        agent: str,
        findings: Sequence[Finding],
        verdict: Verdict,
        *,
        conclusion: Sequence[str] = (),
        language: Language | None = None,
        key: str | None = None,
    ) -> Message:
        """Findings with their evidence, and always the verdict on the hypothesis (1.5), followed
        by the `conclusion` lines (cause and evidence, counts by status)."""
        lang = self._lang(language)
        lines = [f"## {text('findings.title', lang, agent=agent)}"]
        for f in findings:
            lines.append(f"- {_STATUS_ICON[str(f.status)]} [{f.status}] {f.title}" + (f": {f.detail}" if f.detail else ""))
            lines.extend(f"    > {ev}" for ev in f.evidence[:5])
        if not findings:
            lines.append(text("findings.none", lang))
        lines.append("")
        lines.append(f"**{text(f'verdict.{verdict}', lang)}**")
        lines.extend(conclusion)
        message = await self.note(
            ticket_id, "\n".join(lines), agent=agent, tags=["findings", f"verdict:{verdict}"],
            metadata={"findings": [f.model_dump(mode="json") for f in findings], "verdict": str(verdict)},
            key=key,
        )
        await self.event(
            ticket_id, "verdict", agent=agent,
            payload={"verdict": str(verdict), "findings": len(findings),
                     "failed": [f.check for f in findings if f.status in ("fail", "error")]},
            key=f"{key}:event" if key else None,
        )
        return message

    async def next_steps(
        self,
        ticket_id: uuid.UUID,
        agent: str,
        verdict: Verdict,
        *,
        steps: Sequence[str] = (),
        blocker: Blocker | None = None,
        language: Language | None = None,
        key: str | None = None,
    ) -> Message:
        """Playbook 1.5: numbered steps, or blocker + next action + resources; with the verdict."""
        if not steps and blocker is None:
            raise InvalidInput("next steps need numbered steps or a blocker")
        if any(not s.strip() for s in steps):
            raise InvalidInput("a next step may not be empty")
        lang = self._lang(language)
        lines = [f"## {text('next_steps.title', lang)}", f"**{text(f'verdict.{verdict}', lang)}**", ""]
        lines.extend(f"{i}. {s.strip()}" for i, s in enumerate(steps, 1))
        if blocker:
            lines += [
                f"- {text('next_steps.blocker', lang)}: {blocker.blocker}",
                f"- {text('next_steps.next_action', lang)}: {blocker.next_action}",
                f"- {text('next_steps.resources', lang)}: {blocker.resources}",
            ]
        return await self.note(
            ticket_id, "\n".join(lines), agent=agent, tags=["next_steps"],
            metadata={"verdict": str(verdict), "steps": list(steps),
                      "blocker": blocker.__dict__ if blocker else None},
            key=key,
        )

    async def tier1_handover(
        self,
        ticket_id: uuid.UUID,
        agent: str,
        summary: str,
        customer_ask: str,
        *,
        customer_message: str | None = None,
        language: Language | None = None,
        key: str | None = None,
    ) -> tuple[Message, Message]:
        """Playbook 1.6: a short summary for Tier 1 and a draft of the customer communication
        (`customer_message`, or the ask itself when no message is given)."""
        if not summary.strip() or not customer_ask.strip():
            raise InvalidInput("a Tier-1 handover needs a summary and what to ask the customer")
        lang = self._lang(language)
        handover = await self.note(
            ticket_id,
            f"## {text('tier1.title', lang)}\n{summary.strip()}\n\n"
            f"{text('tier1.customer', lang)}: {text('customer_draft.ask', lang, ask=customer_ask.strip())}",
            agent=agent, tags=["tier1_handover"], key=key,
        )
        draft = await self.note(
            ticket_id,
            f"## {text('customer_draft.title', lang)}\n{text('customer_draft.greeting', lang)}\n\n"
            f"{(customer_message or customer_ask).strip()}\n\n{text('customer_draft.closing', lang)}",
            agent=agent, tags=["customer_draft"], key=f"{key}:draft" if key else None,
        )
        await self.event(ticket_id, "tier1_handover", status="done", agent=agent,
                         key=f"{key}:event" if key else None)
        return handover, draft

    async def escalate(
        self,
        ticket_id: uuid.UUID,
        agent: str,
        blocker: str,
        context: dict[str, Any] | None = None,
        *,
        language: Language | None = None,
        key: str | None = None,
    ) -> tuple[Message, AutomationEvent, Ticket]:
        """Playbook 5.1: a `manual_followup` message and event, and the hop on `escalation_path`."""
        if not blocker.strip():
            raise InvalidInput("an escalation needs the blocker, e.g. 'Benötigt manuellen Zugriff auf …'")
        lang = self._lang(language)
        context = context or {}
        body = f"## {text('escalation.title', lang)}\n{blocker.strip()}"
        if context:
            body += f"\n\n{text('escalation.context', lang)}:\n" + "\n".join(f"- {k}: {v}" for k, v in context.items())
        message = await self.note(
            ticket_id, body, agent=agent, tags=[MANUAL_FOLLOWUP], metadata={"context": context}, key=key
        )
        event = await self.event(
            ticket_id, MANUAL_FOLLOWUP, status="open", agent=agent,
            payload={"blocker": blocker.strip(), "context": context, "message_id": str(message.id)},
            key=f"{key}:event" if key else None,
        )
        ticket = await self._tickets.get_ticket(ticket_id)
        hop = f"{agent}:{MANUAL_FOLLOWUP}"
        if not ticket.escalation_path or ticket.escalation_path[-1] != hop:
            ticket = await self._tickets.append_escalation(ticket_id, hop)
        return message, event, ticket

    async def hand_over_to_human(
        self,
        ticket_id: uuid.UUID,
        agent: str,
        assignee: str,
        handover: HumanHandover,
        *,
        language: Language | None = None,
        key: str | None = None,
    ) -> tuple[Ticket, Message]:
        """Playbook 5.3: set `assigned_agent` and write a summary of fewer than five sentences."""
        if not assignee.strip():
            raise InvalidInput("hand-over needs the responsible person (assigned_agent)")
        parts = handover.__dict__
        missing = [name for name, value in parts.items() if not value.strip()]
        if missing:
            raise InvalidInput(f"hand-over summary lacks: {', '.join(missing)}")
        lang = self._lang(language)
        summary = text(
            "handover.summary", lang,
            problem=quote_untrusted(_clause(handover.problem), 120), cause=_clause(handover.cause),
            steps=_clause(handover.steps_taken), state=_clause(handover.current_state),
            action=_clause(handover.recommended_action),
        )
        sentences = count_sentences(summary)
        if sentences >= 5:
            raise InvalidInput(
                f"hand-over summary has {sentences} sentences; the playbook allows fewer than 5 — "
                "give each part (problem, cause, steps, state, action) as one short clause"
            )
        ticket = await self._tickets.update_ticket(ticket_id, assigned_agent=assignee.strip())
        message = await self.note(
            ticket_id, f"## {text('handover.title', lang, assignee=assignee.strip())}\n{summary}",
            agent=agent, tags=["handover"], metadata={"assigned_agent": assignee.strip(), **parts}, key=key,
        )
        await self.event(ticket_id, "handover", status="done", agent=agent,
                         payload={"assigned_agent": assignee.strip()}, key=f"{key}:event" if key else None)
        return ticket, message

    async def external_research(
        self,
        ticket_id: uuid.UUID,
        agent: str,
        sources: Sequence[Source],
        *,
        language: Language | None = None,
        key: str | None = None,
    ) -> Message:
        """Playbook 5.2: the sources list (URL, date, key statement) as an internal message."""
        if not sources:
            raise InvalidInput("external research needs at least one source (url, date, key statement)")
        for s in sources:
            if not re.match(r"^https?://[^\s]+$", s.url):
                raise InvalidInput(f"source URL must be http(s) without spaces: {s.url!r}")
        lang = self._lang(language)
        lines = [f"## {text('research.title', lang)}", f"{text('research.sources', lang)}:"]
        lines.extend(f"- {s.url} ({s.date}): {s.key_statement}" for s in sources)
        return await self.note(
            ticket_id, "\n".join(lines), agent=agent, tags=["external_research"],
            metadata={"sources": [s.model_dump() for s in sources]}, key=key,
        )


def _clause(value: str) -> str:
    """One clause of the hand-over sentence: trailing sentence punctuation is dropped."""
    return value.strip().rstrip(".!?;").strip()
