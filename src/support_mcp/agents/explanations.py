"""Which findings explain which symptoms: declared by each agent next to its checks.

A rule says "a `fail` of `pm2_status` with `restart_loop` explains a 502 (`bad_gateway`), and the
cause is a crash loop". The runner judges a hypothesis by these rules over *all* findings of a
run, so what confirms a hypothesis is data a person can read and a test can check, not a keyword
table. Symptom keys are the ones of the triage table (`services.triage.SYMPTOMS`); a test keeps
both in step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from support_mcp.domain.models import AgentName, CheckStatus, Finding, Language

PROBLEM = (CheckStatus.FAIL, CheckStatus.WARN)


@dataclass(frozen=True)
class Explanation:
    """A finding of `check` (status in `statuses`, and `data` holding `when`, and its text matching
    `mentions`) explains `symptom`; `cause` names that cause for people.

    `weight` orders causes from symptom (1: "502 through Caddy") to root cause (4: "invalid
    Caddyfile"); `layer` names another agent when the evidence points into its layer."""

    symptom: str
    check: str
    cause: dict[Language, str]
    weight: int = 1
    statuses: tuple[CheckStatus, ...] = PROBLEM
    when: tuple[tuple[str, object], ...] = ()
    mentions: str | None = None  # regex over title, detail and evidence (case-insensitive)
    layer: AgentName | None = None

    def matches(self, finding: Finding) -> bool:
        if finding.check != self.check or finding.status not in self.statuses:
            return False
        if any(finding.data.get(key) != value for key, value in self.when):
            return False
        if self.mentions is None:
            return True
        text = "\n".join([finding.title, finding.detail, *finding.evidence])
        return re.search(self.mentions, text, re.IGNORECASE) is not None


@dataclass(frozen=True)
class Explained:
    """A finding together with the rule that explains it."""

    finding: Finding
    rule: Explanation


def explain(findings: Sequence[Finding], rules: Sequence[Explanation]) -> list[Explained]:
    """Every (finding, best rule) pair, root causes first: highest weight, a `fail` before a
    `warn`, then finding order."""
    pairs = []
    for index, finding in enumerate(findings):
        matching = [r for r in rules if r.matches(finding)]
        if matching:
            best = max(matching, key=lambda r: r.weight)
            pairs.append(((-best.weight, finding.status != CheckStatus.FAIL, index), Explained(finding, best)))
    return [pair for _, pair in sorted(pairs, key=lambda p: p[0])]


def support(explained: Sequence[Explained]) -> float:
    """How strongly these findings support their symptom: the weights added, a `warn` half."""
    return sum(e.rule.weight * (1.0 if e.finding.status == CheckStatus.FAIL else 0.5) for e in explained)


def code_is(code: str) -> tuple[tuple[str, object], ...]:
    """`when` for findings that name their cause as `data["code"]` (the supabase analyst's)."""
    return (("code", code),)


RuleTable = Sequence[Explanation]
RuleSource = Callable[[str], RuleTable]
