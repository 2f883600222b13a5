"""Which frontend-diagnostics findings explain which symptoms (see `agents.explanations`)."""

from __future__ import annotations

from support_mcp.agents.explanations import Explanation
from support_mcp.domain.models import CheckStatus

# A server-side stack naming a database error points into the supabase analyst's layer.
_DATABASE_WORDS = r"SQLSTATE|PGRST\d|permission denied for|infinite recursion detected in policy|row-level security"

# The proxy in front of the app answers for it (502/503/504): the app behind it is down or does
# not answer, which the host's process manager and proxy tell — the hetzner-ops agent's layer.
_GATEWAY_STATUSES = (502, 503, 504)
# A build that stops because a setting is missing from the environment: the env the deploy gives
# the app (the env file on the server), not the code.
_MISSING_SETTING = (r"invalid environment variables|missing (required )?env(ironment)? var|"
                    r"environment variables? .{0,40}(is|are) (required|missing)|\b[A-Z][A-Z0-9_]{2,} is required\b")

FRONTEND_EXPLANATIONS: tuple[Explanation, ...] = (
    *(Explanation("bad_gateway", "frontend.smoke",
                  {"de": f"Der Proxy vor der App antwortet mit {status}: die App dahinter läuft nicht oder antwortet "
                         "nicht (Ursache auf dem Server)",
                   "en": f"The proxy in front of the app answers {status}: the app behind it is not running or does "
                         "not answer (a cause on the server)"},
                  weight=4, when=(("status", status),), layer="hetzner-ops-agent") for status in _GATEWAY_STATUSES),
    Explanation("build_failure", "frontend.build",
                {"de": "Der Build scheitert an einer fehlenden Umgebungsvariable (Env-Datei auf dem Server)",
                 "en": "The build fails on a missing environment variable (the env file on the server)"},
                weight=5, mentions=_MISSING_SETTING, layer="hetzner-ops-agent"),
    Explanation("build_failure", "frontend.build", {"de": "Der Build bricht ab (Datei und Zeile im Befund)",
                                                    "en": "The build fails (file and line in the finding)"}, weight=4),
    Explanation("runtime_digest", "frontend.digest", {"de": "Die Seite scheitert an einem Datenbankfehler (Supabase)",
                                                      "en": "The page fails on a database error (Supabase)"},
                weight=4, mentions=_DATABASE_WORDS, layer="supabase-analyst-agent"),
    Explanation("runtime_digest", "frontend.digest", {"de": "Eine Server-Komponente wirft zur Laufzeit (Digest)",
                                                      "en": "A server component throws at run time (digest)"}, weight=4),
    Explanation("runtime_digest", "frontend.smoke", {"de": "Eine Komponente wirft im Browser (Datei im Befund)",
                                                     "en": "A component throws in the browser (file in the finding)"},
                weight=4, when=(("kind", "client_exception"),)),
    Explanation("csp_assets", "frontend.headers", {"de": "Der laufende Build ist älter als next.config (neu bauen)",
                                                   "en": "The running build is older than next.config (rebuild)"},
                weight=4, when=(("kind", "stale_build"),)),
    Explanation("csp_assets", "frontend.headers", {"de": "Ein in next.config deklarierter Header kommt nicht an",
                                                   "en": "A header next.config declares does not arrive"}),
    Explanation("csp_assets", "frontend.csp", {"de": "Die CSP blockiert eine benötigte Ressource",
                                               "en": "The CSP blocks a resource the page needs"},
                weight=4, statuses=(CheckStatus.FAIL,)),
    Explanation("build_failure", "frontend.test", {"de": "Ein Unit-Test schlägt fehl", "en": "A unit test fails"},
                weight=3),
    Explanation("csp_assets", "frontend.assets", {"de": "Ein statisches Asset fehlt oder antwortet mit Fehler",
                                                  "en": "A static asset is missing or answers with an error"}, weight=3),
    Explanation("build_failure", "frontend.lint", {"de": "Eine Lint-Regel wird verletzt", "en": "A lint rule is violated"},
                weight=2),
    Explanation("csp_assets", "frontend.csp", {"de": "CSP fehlt oder weicht von next.config ab",
                                               "en": "The CSP is missing or differs from next.config"}),
    Explanation("runtime_digest", "frontend.smoke", {"de": "Die Seite zeigt im Browser Fehler",
                                                     "en": "The page shows errors in the browser"}),
)
