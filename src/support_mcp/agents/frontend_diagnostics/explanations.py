"""Which frontend-diagnostics findings explain which symptoms (see `agents.explanations`)."""

from __future__ import annotations

from support_mcp.agents.explanations import Explanation
from support_mcp.domain.models import CheckStatus

# A server-side stack naming a database error points into the supabase analyst's layer.
_DATABASE_WORDS = r"SQLSTATE|PGRST\d|permission denied for|infinite recursion detected in policy|row-level security"

FRONTEND_EXPLANATIONS: tuple[Explanation, ...] = (
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
