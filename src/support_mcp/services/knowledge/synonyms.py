"""Curated English↔German support vocabulary that widens a knowledge query.

Why a table: the playbook is German prose full of English tool names, while tickets arrive in
either language and in the customer's words ("502", "login fails", "site is down"). PostgreSQL's
stemmers cannot know that "restart" means "Neustart" or that a 502 points at Caddy/Nginx/PM2,
and the knowledge base is too small for learned embeddings to pay off. A short, reviewed list
of the words Tier-1 and customers actually use closes that gap; it is data, kept in one place,
and applied to queries only (the index stays the documents' own text).

Keys are lowercase words or two-word phrases as they appear in a query; values are the terms
that are searched *in addition* (as one extra, lower-weighted concept per key).
"""

from __future__ import annotations

SYNONYMS: dict[str, tuple[str, ...]] = {
    # deployments and builds
    "deploy": ("Deployment", "Deploy-Pipeline"),
    "deployed": ("Deployment", "Deploy-Pipeline"),
    "deployment": ("Deploy-Pipeline", "Deployment"),
    "rollout": ("Deployment", "Deploy-Pipeline"),
    "release": ("Deployment", "Deploy-Pipeline"),
    "ausrollen": ("Deployment", "Deploy-Pipeline"),
    "build": ("npm run build", "Build Errors"),
    "kompilieren": ("Build",),
    "digest": ("Digest-Fehler", "chunks"),
    # restarts and processes
    "restart": ("Neustart", "pm2 restart"),
    "restarted": ("Neustart", "pm2 restart"),
    "reboot": ("Neustart", "uptime"),
    "neustart": ("restart",),
    "neu starten": ("restart", "Neustart"),
    "crash": ("pm2", "Logs"),
    "crashed": ("pm2", "Logs"),
    "errored": ("pm2 status", "pm2 logs"),
    "abgestürzt": ("pm2", "Logs"),
    "absturz": ("pm2", "Logs"),
    "reload": ("systemctl reload", "Neustart"),
    # gateways and reachability
    "502": ("Caddy", "Nginx", "PM2"),
    "503": ("Caddy", "Nginx", "PM2"),
    "504": ("Caddy", "Nginx", "PM2"),
    "bad gateway": ("Caddy", "Nginx", "PM2"),
    "gateway": ("Caddy", "Nginx"),
    "down": ("Systemstatus", "pm2 status"),
    "offline": ("Systemstatus", "pm2 status"),
    "erreichbar": ("Systemstatus", "Netzwerk"),
    "unreachable": ("Netzwerk", "Systemstatus"),
    "port": ("ss -tulpen", "Netzwerk", "Firewall"),
    "firewall": ("ufw", "nftables", "Netzwerk"),
    "ssl": ("Caddy",),
    "certificate": ("Caddy",),
    "zertifikat": ("Caddy",),
    # host resources
    "disk": ("df", "Disk"),
    "festplatte": ("df", "Disk"),
    "speicherplatz": ("df", "Disk"),
    "memory": ("free", "RAM"),
    "ram": ("free", "RAM"),
    "arbeitsspeicher": ("free", "RAM"),
    "cpu": ("top", "uptime", "CPU"),
    "load": ("uptime", "top", "CPU"),
    "slow": ("Systemstatus", "top"),
    "langsam": ("Systemstatus", "top"),
    "logs": ("journalctl", "pm2 logs", "Logs"),
    "log": ("journalctl", "pm2 logs", "Logs"),
    # auth, sessions, profiles
    "login": ("Auth", "Sitzungen", "auth.sessions"),
    "log in": ("Auth", "Sitzungen", "auth.sessions"),
    "sign in": ("Auth", "Sitzungen"),
    "signin": ("Auth", "Sitzungen"),
    "sign up": ("auth.users", "handle_new_user", "profiles"),
    "signup": ("auth.users", "handle_new_user", "profiles"),
    "anmelden": ("Auth", "Sitzungen"),
    "anmeldung": ("Auth", "Sitzungen"),
    "einloggen": ("Auth", "Sitzungen"),
    "registrierung": ("auth.users", "handle_new_user", "profiles"),
    "session": ("Sitzungen", "auth.sessions"),
    "sessions": ("Sitzungen", "auth.sessions"),
    "otp": ("verifyOtp", "Auth"),
    "magic link": ("verifyOtp", "Auth"),
    "profile": ("profiles", "handle_new_user"),
    "profil": ("profiles", "handle_new_user"),
    "subscription": ("create_free_subscription",),
    "abo": ("create_free_subscription",),
    # database, policies, migrations
    "policy": ("Policies", "RLS", "pg_policy"),
    "policies": ("RLS", "pg_policy"),
    "permission": ("RLS", "Policies"),
    "permissions": ("RLS", "Policies"),
    "berechtigung": ("RLS", "Policies"),
    "berechtigungen": ("RLS", "Policies"),
    "row level security": ("RLS", "Policies"),
    "trigger": ("handle_new_user",),
    "rpc": ("supabase.rpc",),
    "function": ("Funktion", "rpc"),
    "migration": ("apply_migration", "SQL/Migration"),
    "schema": ("Migration", "SQL"),
    "dry run": ("Trockentest", "ROLLBACK", "EXPLAIN"),
    "rollback": ("Trockentest",),
    "database": ("Postgres", "SQL"),
    "datenbank": ("Postgres", "SQL"),
    # frontend
    "csp": ("Content Security Policy", "next.config.js"),
    "content security policy": ("CSP",),
    "assets": ("Assets", "Netzwerktraces"),
    "asset": ("Assets", "Netzwerktraces"),
    "images": ("Assets",),
    "bilder": ("Assets",),
    "hotfix": ("Hotfix vorbereiten",),
    "screenshot": ("Screenshots", "UI-Bug"),
    "cache": ("Cache leeren",),
    # workflow: fix, validation, communication, escalation
    "fix": ("Reparatur",),
    "repair": ("Reparatur",),
    "beheben": ("Reparatur",),
    "verify": ("Verifikation", "Validieren"),
    "validate": ("Validieren", "Verifikation"),
    "hypothesis": ("Hypothese",),
    "escalate": ("Eskalation", "manual_followup"),
    "escalation": ("Eskalation", "manual_followup"),
    "human": ("menschliches Team", "assigned_agent"),
    "handover": ("Übergabe", "Weitergabe", "Hand-over"),
    "hand over": ("Übergabe", "Hand-over"),
    "handoff": ("Übergabe", "Weitergabe", "Hand-over"),
    "customer": ("Kunde", "Kundenkommunikation"),
    "kunde": ("Kundenkommunikation",),
    "internal note": ("interne Notiz",),
    "research": ("Externe Recherche", "Quellenliste"),
    "sources": ("Quellenliste",),
    "knowledge base": ("Wissensbasis", "Knowledge Suggestion"),
    "suggestion": ("Knowledge Suggestion", "registerKnowledgeSuggestionAction"),
    "checklist": ("Checklisten",),
    "update": ("Aktualisierung",),
}


def expansions(words: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """The (trigger, extra terms) pairs that a lowercased word list contains, phrases included."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            key = " ".join(words[start : start + size])
            if key in SYNONYMS:
                found.append((key, SYNONYMS[key]))
    return found
