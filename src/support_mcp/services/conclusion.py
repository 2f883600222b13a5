"""From findings to a stated conclusion: is the hypothesis confirmed, refuted, or replaced?

The hypothesis (from triage) names a symptom; each agent declares which of its findings explain
which symptom (`agents.explanations`). The conclusion looks at *all* findings of the run:

- findings that explain the hypothesised symptom confirm it, and the strongest names the cause;
- otherwise the hypothesis is refuted ("widerlegt"); when other `fail`/`warn` findings explain a
  symptom, the symptom they support most (weights added, a `warn` half) becomes the new
  hypothesis, named by its strongest cause ("Neue Hypothese: …, belegt durch …");
- with nothing wrong it is refuted when the checks that could have confirmed it ran, and
  inconclusive when they could not run (skipped, error).

A generic hypothesis (no symptom recognised in the ticket) is confirmed by whatever the findings
name in the agent's layer: the verdict comes from the findings, not from the ticket's words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from support_mcp.agents.explanations import Explained, Explanation, explain, support
from support_mcp.domain.models import AgentName, CheckStatus, Finding, Language, Verdict

# The symptom of a `fail` finding no rule explains: still evidence, never ignored.
UNDECLARED = "undeclared"


@dataclass(frozen=True)
class Conclusion:
    verdict: Verdict
    cause: str | None
    symptom: str | None
    evidence: tuple[Finding, ...]
    revised: bool
    handover_to: AgentName | None = None

    @property
    def cause_known(self) -> bool:
        return self.cause is not None

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": str(self.verdict), "cause": self.cause, "symptom": self.symptom,
                "evidence": list(dict.fromkeys(f.check for f in self.evidence)),
                "evidence_titles": [f.title for f in self.evidence], "revised": self.revised,
                "handover_to": self.handover_to}


def conclude(
    findings: Sequence[Finding],
    rules: Sequence[Explanation],
    hypothesis_symptom: str | None,
    *,
    agent: str,
    language: Language = "de",
) -> Conclusion:
    """The verdict on the hypothesis and the cause the findings name (see the module docstring)."""
    explained = explain(findings, rules)
    seen = {id(e.finding) for e in explained}
    explained += [Explained(f, Explanation(UNDECLARED, f.check, {"de": f.title, "en": f.title}, weight=0))
                  for f in findings if f.status == CheckStatus.FAIL and id(f) not in seen]
    if hypothesis_symptom is not None:
        support = [e for e in explained if e.rule.symptom == hypothesis_symptom]
        if support:
            return _named(Verdict.CONFIRMED, support, revised=False, agent=agent, language=language)
        if explained:
            return _named(Verdict.REFUTED, _best_supported(explained), revised=True, agent=agent, language=language)
        judged = {r.check for r in rules if r.symptom == hypothesis_symptom}
    else:
        if explained:
            return _named(Verdict.CONFIRMED, _best_supported(explained), revised=False, agent=agent,
                          language=language)
        judged = {f.check for f in findings}
    mine = [f for f in findings if f.check in judged]
    could_not_look = any(f.status == CheckStatus.ERROR for f in mine)
    looked = any(f.status == CheckStatus.OK for f in mine)
    verdict = Verdict.REFUTED if looked and not could_not_look else Verdict.INCONCLUSIVE
    return Conclusion(verdict, None, None, (), revised=False)


def _best_supported(explained: Sequence[Explained]) -> list[Explained]:
    """The findings of the symptom they support most (all its findings added up, so a crash loop
    seen by four checks outweighs one warning about load); ties go to the strongest single cause."""
    by_symptom: dict[str, list[Explained]] = {}
    for e in explained:
        by_symptom.setdefault(e.rule.symptom, []).append(e)
    return max(by_symptom.values(), key=lambda group: (support(group), group[0].rule.weight))


def _named(verdict: Verdict, support: Sequence[Explained], *, revised: bool, agent: str,
           language: Language) -> Conclusion:
    best = support[0].rule
    layer = best.layer if best.layer and best.layer != agent else None
    return Conclusion(verdict, best.cause[language], best.symptom, tuple(e.finding for e in support), revised, layer)


_COUNT_WORDS: dict[Language, dict[str, tuple[str, str]]] = {
    "de": {"fail": ("Fehler", "Fehler"), "warn": ("Warnung", "Warnungen"), "ok": ("ok", "ok"),
           "skipped": ("übersprungen", "übersprungen"), "error": ("nicht ausführbar", "nicht ausführbar")},
    "en": {"fail": ("failure", "failures"), "warn": ("warning", "warnings"), "ok": ("ok", "ok"),
           "skipped": ("skipped", "skipped"), "error": ("could not run", "could not run")},
}
_ORDER = ("fail", "warn", "error", "ok", "skipped")


def count_findings(findings: Sequence[Finding], language: Language = "de", *, reasons: bool = True) -> str:
    """What the checks found, counted by status: '1 Fehler, 2 Warnungen, 5 ok, 1 übersprungen'.
    When every check was skipped it says so, with the reasons (unless `reasons` is False)."""
    if not findings:
        return "keine Befunde" if language == "de" else "no findings"
    counts = Counter(str(f.status) for f in findings)
    if counts["skipped"] == len(findings):
        why = " (" + "; ".join(dict.fromkeys(f.title.rstrip(".") for f in findings)) + ")" if reasons else ""
        return (f"keine Befunde: alle {len(findings)} Prüfungen übersprungen{why}" if language == "de"
                else f"no findings: all {len(findings)} checks skipped{why}")
    words = _COUNT_WORDS[language]
    return ", ".join(f"{counts[s]} {words[s][0] if counts[s] == 1 else words[s][1]}" for s in _ORDER if counts[s])
