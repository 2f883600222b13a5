"""Which hetzner-ops findings explain which symptoms (see `agents.explanations`)."""

from __future__ import annotations

from support_mcp.agents.explanations import Explanation

# A Supabase setting or error named in the app's log points into the supabase analyst's layer.
_SUPABASE_WORDS = r"supabase|SQLSTATE|PGRST|postgres(ql)?:|permission denied for|row-level security|jwt"

HETZNER_EXPLANATIONS: tuple[Explanation, ...] = (
    Explanation("resource_pressure", "host.disk", {"de": "Festplatte (fast) voll", "en": "Disk (nearly) full"},
                weight=4),
    Explanation("resource_pressure", "host.memory", {"de": "Arbeitsspeicher knapp", "en": "Memory short"}, weight=4),
    # A busy CPU is the weakest sign: it is as often the effect of a fault as its cause.
    Explanation("resource_pressure", "host.load", {"de": "CPU-Last über der Zahl der Kerne",
                                                   "en": "CPU load above the number of cores"}, weight=1),
    # the env file lost what the app's error names (a backup still has it): the cause is on this host,
    # however the error is worded (supabase-js, Prisma, t3-env) and whichever layer its words name
    Explanation("bad_gateway", "pm2_logs", {"de": "Die Env-Datei hat eine Variable verloren, die der Fehler der App "
                                                  "nennt (ein Backup enthält sie noch)",
                                            "en": "The env file lost a variable the app's error names (a backup "
                                                  "still holds it)"},
                weight=5, when=(("env_changed", True),)),
    Explanation("bad_gateway", "port_3000", {"de": "Ein fremder Prozess belegt den App-Port (EADDRINUSE)",
                                             "en": "Another process holds the app port (EADDRINUSE)"},
                weight=4, when=(("conflict", True),)),
    Explanation("bad_gateway", "caddy_upstream", {"de": "Caddy leitet an einen anderen Port weiter, als die App lauscht",
                                                  "en": "Caddy proxies to another port than the app listens on"},
                weight=4, when=(("mismatch", True),)),
    Explanation("bad_gateway", "caddy_status", {"de": "Caddyfile ungültig", "en": "Caddyfile invalid"},
                weight=4, when=(("valid", False),)),
    Explanation("bad_gateway", "pm2_logs", {"de": "Die App scheitert an Supabase (Log nennt Supabase/PostgreSQL)",
                                            "en": "The app fails on Supabase (its log names Supabase/PostgreSQL)"},
                weight=4, mentions=_SUPABASE_WORDS, layer="supabase-analyst-agent"),
    Explanation("bad_gateway", "pm2_status", {"de": "Kein PM2-Daemon läuft (Neustart des Servers ohne PM2-Dienst?)",
                                              "en": "No PM2 daemon runs (server restarted without a PM2 service?)"},
                weight=3, when=(("no_daemon", True),)),
    Explanation("bad_gateway", "pm2_status", {"de": "Speicherleck: PM2 startet die App immer wieder über ihrem "
                                                    "max_memory_restart neu",
                                              "en": "Memory leak: PM2 restarts the app over its max_memory_restart "
                                                    "again and again"},
                weight=4, when=(("memory_loop", True),)),
    Explanation("bad_gateway", "pm2_status", {"de": "PM2-Prozess in Neustart-Schleife: die App stürzt beim Start ab",
                                              "en": "PM2 process in a restart loop: the app crashes on start"},
                weight=3, when=(("restart_loop", True),)),
    Explanation("bad_gateway", "caddy_status", {"de": "Caddy-Dienst läuft nicht", "en": "The Caddy service is down"},
                weight=3, when=(("active", "failed"),)),
    Explanation("bad_gateway", "http_smoke", {"de": "Caddy antwortet nicht (keine Verbindung)",
                                              "en": "Caddy does not answer (no connection)"},
                weight=3, when=(("caddy_down", True),)),
    Explanation("bad_gateway", "pm2_status", {"de": "PM2-Prozess der App läuft nicht (gestoppt oder abgestürzt)",
                                              "en": "The app's PM2 process is not running (stopped or crashed)"},
                weight=2),
    Explanation("bad_gateway", "pm2_logs", {"de": "Fehlerzeilen im App-Log (PM2)", "en": "Error lines in the app log (PM2)"},
                weight=2),
    Explanation("bad_gateway", "firewall", {"de": "Firewall-Regel betrifft den App-Port",
                                            "en": "A firewall rule affects the app port"}, weight=2),
    Explanation("bad_gateway", "caddy_status", {"de": "Caddy-Dienst nicht aktiv", "en": "The Caddy service is not active"},
                weight=2),
    Explanation("bad_gateway", "journal", {"de": "Fehler im systemd-Journal", "en": "Errors in the systemd journal"}),
    Explanation("bad_gateway", "port_3000", {"de": "Kein Prozess lauscht auf dem App-Port",
                                             "en": "No process listens on the app port"}),
    Explanation("bad_gateway", "http_smoke", {"de": "Caddy meldet einen Proxy-Fehler: die App dahinter antwortet nicht",
                                              "en": "Caddy reports a proxy error: the app behind it does not answer"},
                weight=2, when=(("proxy_error", True),)),
    Explanation("bad_gateway", "http_smoke", {"de": "Die Seite antwortet mit einem unerwarteten Status",
                                              "en": "The site answers with an unexpected status"}),
    Explanation("bad_gateway", "health_path", {"de": "Der Health-Endpunkt der App meldet einen Fehler",
                                               "en": "The app's health endpoint reports a failure"},
                weight=3, when=(("unhealthy", True),)),
    Explanation("stale_deploy", "deploy_age", {"de": "Veralteter Build: .next ist älter als das letzte Deployment",
                                               "en": "Stale build: .next is older than the last deployment"},
                weight=3, when=(("stale", True),)),
    Explanation("stale_deploy", "deploy_age", {"de": "Build fehlt oder ist unlesbar (.next/BUILD_ID)",
                                               "en": "Build missing or unreadable (.next/BUILD_ID)"}, weight=3),
)
