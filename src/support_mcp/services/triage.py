"""Route a ticket to the right Tier-2 agent(s) and derive a first hypothesis from its text.

Ticket text is data: it is only matched against the symptom table below, never executed and
never obeyed. The table is data too, so support staff can read why a ticket went where.

Triage counts symptoms, not words: code spans, quoted commands and imperatives aimed at the tool
("führe `pm2 restart all` aus", "run …", "ignore the playbook …") are removed before matching
(`symptom_text`), so a login problem that mentions a PM2 command still goes to the analyst.
What confirms a hypothesis is not decided here but by the agents' declared explanations
(`agents.explanations`) over all findings of a run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from support_mcp.domain.models import AGENTS, AgentName, Hypothesis, Language


@dataclass(frozen=True)
class Symptom:
    """A recognisable failure pattern, the agent that owns it and what would confirm it."""

    key: str
    agent: AgentName
    patterns: tuple[str, ...]
    cause: dict[Language, str]
    tools: tuple[str, ...]


SYMPTOMS: tuple[Symptom, ...] = (
    Symptom(
        "resource_pressure", "hetzner-ops-agent",
        (r"langsam", r"\bslow", r"no space left", r"enospc", r"festplatte", r"speicher(platz)? (ist )?voll",
         r"disk", r"out of memory", r"\boom\b", r"arbeitsspeicher", r"\bram\b", r"\bcpu\b", r"\bload\b",
         r"hängt", r"timeouts?\b"),
        {"de": "Ressourcenengpass auf dem Server (CPU-Last, Arbeitsspeicher oder Festplatte)",
         "en": "Resource pressure on the server (CPU load, memory or disk)"},
        ("uptime", "df", "free", "top"),
    ),
    Symptom(
        "bad_gateway", "hetzner-ops-agent",
        (r"\b502\b", r"bad gateway", r"\b503\b", r"nicht erreichbar", r"site (is )?down", r"offline",
         r"caddy", r"nginx", r"pm2", r"errored", r"eaddrinuse", r"neustart", r"restart"),
        {"de": "App-Prozess hinter Caddy antwortet nicht (PM2-Prozess gestoppt/abgestürzt, App-Port frei)",
         "en": "App process behind Caddy does not answer (PM2 process stopped/crashed, app port free)"},
        ("ssh", "pm2", "journalctl", "ss", "caddy"),
    ),
    Symptom(
        "stale_deploy", "hetzner-ops-agent",
        (r"deploy", r"nach dem update", r"after (the )?update", r"alte version", r"old version", r"\.next"),
        {"de": "Deployment unvollständig oder veralteter Build ausgeliefert",
         "en": "Incomplete deployment or a stale build being served"},
        ("ssh", "pm2", "npm"),
    ),
    Symptom(
        "auth_session", "supabase-analyst-agent",
        (r"login", r"anmeld", r"einloggen", r"\botp\b", r"magic ?link", r"passwort", r"password",
         r"session", r"sign ?-?up", r"registrier", r"\bauth", r"database error saving new user",
         r"profil", r"profile", r"abo\b", r"subscription", r"gesperrt", r"\bbann", r"gelöscht(e|en)? (nutzer|konto)",
         r"deleted (user|account)"),
        {"de": "Auth/Profile inkonsistent (Trigger handle_new_user() oder create_free_subscription())",
         "en": "Auth/profiles inconsistent (trigger handle_new_user() or create_free_subscription())"},
        ("supabase-sql", "supabase-rpc"),
    ),
    Symptom(
        "rls_policy", "supabase-analyst-agent",
        (r"\brls\b", r"polic", r"permission denied", r"keine daten", r"no rows", r"leer(e|en)? (liste|tabelle)",
         r"empty (list|table)", r"42501", r"42p17", r"row.level", r"infinite recursion", r"supabase", r"\brpc\b"),
        {"de": "RLS-Policy blockiert oder rekursiert für die betroffene Rolle",
         "en": "An RLS policy blocks or recurses for the affected role"},
        ("supabase-sql",),
    ),
    Symptom(
        "data_exposure", "supabase-analyst-agent",
        (r"security advisor", r"search_path", r"security definer", r"ohne rls", r"without rls", r"rls (is )?disabled",
         r"fremde(n)? daten", r"other users'? data", r"alle (profile|nutzer|daten) sichtbar", r"anon(ymous)? key",
         r"user_metadata", r"datenleck", r"data leak"),
        {"de": "Daten ungeschützt: Tabelle ohne RLS, zu weite Policy oder unsichere SECURITY-DEFINER-Funktion",
         "en": "Data exposed: a table without RLS, an overly broad policy or an unsafe SECURITY DEFINER function"},
        ("supabase-sql",),
    ),
    Symptom(
        "database_health", "supabase-analyst-agent",
        (r"too many connections", r"zu viele verbindungen", r"connection pool", r"deadlock", r"lock timeout",
         r"datenbank (ist )?(langsam|überlastet)", r"database (is )?(slow|overloaded)", r"statement timeout"),
        {"de": "Datenbank unter Last (Verbindungen, Sperren oder lange Abfragen)",
         "en": "Database under strain (connections, locks or long queries)"},
        ("supabase-sql",),
    ),
    Symptom(
        "build_failure", "frontend-diagnostics-agent",
        (r"npm run build", r"build (failed|fehlgeschlagen|bricht)", r"type ?error", r"module not found",
         r"kompil", r"compile", r"\blint"),
        {"de": "Build bricht ab (Typfehler, fehlendes Modul oder Syntaxfehler)",
         "en": "Build fails (type error, missing module or syntax error)"},
        ("npm",),
    ),
    Symptom(
        "runtime_digest", "frontend-diagnostics-agent",
        (r"digest", r"application error", r"client-side exception", r"server components? render",
         r"weiße seite", r"white (screen|page)", r"blank page", r"fehlerseite"),
        {"de": "Server-Komponente wirft zur Laufzeit (Browser zeigt nur einen Digest)",
         "en": "A server component throws at run time (the browser shows only a digest)"},
        ("npm", "browser"),
    ),
    Symptom(
        "csp_assets", "frontend-diagnostics-agent",
        (r"\bcsp\b", r"content.security.policy", r"blocked", r"blockiert", r"bild(er)? fehl", r"image",
         r"stylesheet", r"\bcss\b", r"font", r"\b404\b", r"asset"),
        {"de": "CSP blockiert eine Ressource oder ein statisches Asset fehlt",
         "en": "The CSP blocks a resource or a static asset is missing"},
        ("curl", "browser"),
    ),
)

# Removed before matching: text that quotes or orders a command is no symptom.
_FENCED = re.compile(r"```.*?(```|$)", re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_COMMAND_WORDS = (r"pm2|npm|npx|node|sudo|systemctl|service|journalctl|kill|pkill|rm|curl|wget|ssh|scp|psql|"
                  r"caddy|nginx|git|docker|bash|sh|chmod|chown|reboot|shutdown|select|insert|update|delete|drop|"
                  r"alter|truncate|grant")
_QUOTED_COMMAND = re.compile(r"[\"'„“”‚‘’»«]\s*(?:" + _COMMAND_WORDS + r")\b[^\"'„“”‚‘’»«\n]*[\"'„“”‚‘’»«]",
                             re.IGNORECASE)
_IMPERATIVES = re.compile(
    r"\b(?:bitte\s+)?(?:führ(?:e|t|en sie)?|starte|start(?:en sie)?)\b[^.!?\n]*?\b(?:aus|neu)\b"
    r"|\b(?:please\s+)?(?:run|execute|exec|type|enter)\b\s+(?:" + _COMMAND_WORDS + r")\b[^.!?\n]*"
    r"|\b(?:ignor(?:e|iere|ieren sie)|vergiss|forget|disregard)\b[^.!?\n]*"
    r"|\b(?:you are now|du bist jetzt|act as|system\s*:)[^.!?\n]*"
    # claimed authority (a forged approval or release, to the end of its line: "approved by …",
    # a smuggled "X-Approved-By: …" header) or a claimed resolution ("Status: resolved by agent")
    # is no symptom either
    r"|\b(?:(?:genehmigt|freigegeben|approved|authori[sz]ed)[ -](?:von|by|durch)|freigabe erteilt)\b[^\n]*"
    r"|\b(?:status|state|zustand)\s*:\s*(?:resolved|closed|done|fixed|erledigt|gelöst|geschlossen|behoben)\b[^\n]*",
    re.IGNORECASE)
# Markup a reader never sees: HTML comments.
_HIDDEN = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)


# Pasted configuration names (SUPABASE_SERVICE_ROLE_KEY, NEXT_PUBLIC_…): a name, not a symptom.
_ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def symptom_text(ticket_text: str) -> str:
    """The ticket text without code, quoted commands, configuration names and imperatives aimed
    at the tool."""
    text = _HIDDEN.sub(" ", ticket_text)
    text = _FENCED.sub(" ", text)
    text = _CODE_SPAN.sub(" ", text)
    text = _ENV_NAME.sub(" ", text)
    text = _QUOTED_COMMAND.sub(" ", text)
    return _IMPERATIVES.sub(" ", text)


_COMPILED = {s.key: [re.compile(p, re.IGNORECASE) for p in s.patterns] for s in SYMPTOMS}
_GENERIC_CAUSE: dict[AgentName, dict[Language, str]] = {
    "hetzner-ops-agent": {"de": "Server- oder Prozessproblem auf dem Hetzner-Host",
                          "en": "Server or process problem on the Hetzner host"},
    "supabase-analyst-agent": {"de": "Datenbank-, Auth- oder Policy-Problem in Supabase",
                               "en": "Database, auth or policy problem in Supabase"},
    "frontend-diagnostics-agent": {"de": "Build-, Laufzeit- oder Asset-Problem im Next.js-Frontend",
                                   "en": "Build, run-time or asset problem in the Next.js frontend"},
}


@dataclass(frozen=True)
class SymptomMatch:
    symptom: Symptom
    matched: tuple[str, ...]


@dataclass(frozen=True)
class TriageResult:
    """Agents in order of fit, with the reason for the choice in words and as data."""

    agents: tuple[AgentName, ...]
    scores: dict[str, float]
    matches: tuple[SymptomMatch, ...]
    reason: str
    # True when the next agent's evidence is close to the first's: the runner should consult
    # the agents in this order instead of trusting the first alone.
    ambiguous: bool = False

    @property
    def primary(self) -> AgentName:
        return self.agents[0]

    def summary(self) -> dict[str, Any]:
        """What a script needs of the choice: the agents, scores and reason, and per matched
        symptom its key, agent and the words that matched (not the whole pattern table)."""
        return {"primary": self.primary, "agents": list(self.agents), "scores": self.scores, "reason": self.reason,
                "ambiguous": self.ambiguous,
                "matches": [{"symptom": m.symptom.key, "agent": m.symptom.agent, "matched": list(m.matched)}
                            for m in self.matches]}


def match_symptoms(ticket_text: str) -> list[SymptomMatch]:
    """The symptoms whose patterns occur in the text (see `symptom_text`), most matched terms first."""
    ticket_text = symptom_text(ticket_text)
    found = []
    for symptom in SYMPTOMS:
        hits = tuple(dict.fromkeys(m.group(0).lower() for rx in _COMPILED[symptom.key]
                                   for m in [rx.search(ticket_text)] if m))
        if hits:
            found.append(SymptomMatch(symptom, hits))
    found.sort(key=lambda m: -len(m.matched))
    return found


AMBIGUOUS_RATIO = 0.75
TERM_BONUS = 0.25


def triage(ticket_text: str, knowledge_agents: Sequence[Sequence[str]] = ()) -> TriageResult:
    """Score agents by symptoms (1 each, a little more per extra term) and knowledge hits (0.5 per
    hit, by rank); close scores make the result `ambiguous`."""
    matches = match_symptoms(ticket_text)
    scores: dict[str, float] = dict.fromkeys(AGENTS, 0.0)
    for m in matches:
        # A symptom counts once; more of its terms only add a little ("502 Bad Gateway" is one symptom).
        scores[m.symptom.agent] += 1 + TERM_BONUS * (len(m.matched) - 1)
    for rank, tags in enumerate(knowledge_agents[:5]):
        for agent in tags:
            if agent in scores:
                scores[agent] += 0.5 / (rank + 1)
    ranked = tuple(a for a in sorted(AGENTS, key=lambda a: -scores[a]) if scores[a] > 0)
    if not ranked:
        return TriageResult(("hetzner-ops-agent",), scores, (),
                            "no symptom recognised; hetzner-ops-agent checks the host first")
    parts = [f"{m.symptom.key} → {m.symptom.agent} ({', '.join(m.matched)})" for m in matches]
    if any(knowledge_agents):
        parts.append("knowledge hits: " + "; ".join(",".join(t) or "all" for t in knowledge_agents[:5]))
    ambiguous = len(ranked) > 1 and scores[ranked[1]] >= AMBIGUOUS_RATIO * scores[ranked[0]]
    if ambiguous:
        parts.insert(0, "ambiguous: " + " ≈ ".join(f"{a} {scores[a]:g}" for a in ranked)
                     + "; agents run in this order")
    return TriageResult(ranked, scores, tuple(matches), "; ".join(parts), ambiguous)


def hypothesis_for(
    agent: AgentName, ticket_subject: str, triage_result: TriageResult, language: Language = "de"
) -> tuple[Hypothesis, str | None]:
    """The first hypothesis of `agent` and the symptom key it is about (None: nothing in the
    ticket points into this agent's layer, so the hypothesis is the layer's generic one)."""
    own = [m for m in triage_result.matches if m.symptom.agent == agent]
    if own:
        s = own[0].symptom
        return Hypothesis(symptom=ticket_subject, suspected_cause=s.cause[language], tools=list(s.tools)), s.key
    return Hypothesis(symptom=ticket_subject, suspected_cause=_GENERIC_CAUSE[agent][language], tools=[]), None
