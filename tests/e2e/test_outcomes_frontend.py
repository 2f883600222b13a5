"""The outcome matrix, frontend part: every fault of both Next.js labs (labs/frontend and
labs/frontend_alt) through the real command line, with the scenario's own ticket and a neutral one
(what each run must show: test_outcomes_supabase.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers.outcomes import NEUTRAL, TICKETS, Cause, Cli, assert_outcome, cli_env
from integration.frontend_diagnostics.frontend_lab import (
    BUILD_BREAKING,
    FAULTS,
    LABS,
    UNDEPLOYABLE,
    Scenario,
    scenario,
)
from support_mcp.agents.frontend_diagnostics.parsers import find_digests

pytestmark = pytest.mark.outcomes

# --- frontend: one deployed scenario per fault, shared by its two tickets -----------------------

FRONTEND = "frontend-diagnostics"

# fault -> (subject, customer message ({digest}: the one the page shows), the finding that names the cause)
FRONTEND_FAULTS: dict[str, tuple[str, str, Cause]] = {
    "type_error": ("Build schlägt fehl", "Der Deploy bricht ab, npm run build meldet einen Type error.",
                   Cause("frontend.build", {"kind": "type_error", "file": "app/page.tsx"})),
    "missing_module": ("Build kaputt nach Merge", "Module not found: Can't resolve './components/PriceBadge'",
                       Cause("frontend.build", {"kind": "module_not_found", "file": "app/page.tsx"})),
    "runtime_digest": ("Weiße Seite nach Login", "Die Startseite zeigt nur 'Application error', Digest: {digest}",
                       Cause("frontend.digest", {"source": lambda s: str(s).startswith(
                           "app/components/Greeting.tsx:")})),
    "csp_blocked": ("Logo fehlt", "Auf der Startseite fehlt das Logo, die Konsole meldet Content Security Policy.",
                    Cause("frontend.csp", {"directive": "img-src"})),
    "missing_asset": ("Seite ohne Styling", "Die Seite sieht kaputt aus, das Stylesheet lädt nicht (404).",
                      Cause("frontend.assets", {"reference": "/styles/theme.css", "status": 404})),
    "lint_error": ("CI rot: ESLint", "Die Pipeline scheitert an ESLint (react-hooks) im Counter.",
                   Cause("frontend.lint", {"rule": "react-hooks/rules-of-hooks"})),
    "failing_test": ("Tests schlagen fehl", "npm test ist rot, die Preisformatierung stimmt nicht.",
                     Cause("frontend.test", {"test": "formatPrice writes euros with a decimal comma"})),
    "client_exception": ("Seite stürzt ab", "Die Startseite zeigt 'Application error: a client-side exception has "
                         "occurred'.", Cause("frontend.smoke", {"kind": "client_exception",
                                                                "file": "app/components/Greeting.tsx"})),
    "import_case": ("Build auf dem Server rot", "Lokal baut es, auf dem Server: Module not found.",
                    Cause("frontend.build", {"kind": "module_not_found", "file": "app/page.tsx",
                                             "actual": "app/components/Greeting.tsx"})),
    "stale_build": ("Header fehlt", "Der Security-Scan vermisst Permissions-Policy, obwohl sie in next.config steht.",
                    Cause("frontend.headers", {"kind": "stale_build", "file": "next.config.js"})),
}


# the same faults on the second app (labs/frontend_alt: Pages Router + one App Router route, src/
# with @/ aliases, CSP from src/proxy.ts, vitest, its own ESLint flat config)
FRONTEND_ALT_FAULTS: dict[str, tuple[str, str, Cause]] = {
    "type_error": ("Build schlägt fehl", "Der Deploy bricht ab, npm run build meldet einen Type error.",
                   Cause("frontend.build", {"kind": "type_error", "file": "src/pages/index.tsx"})),
    "missing_module": ("Build kaputt nach Merge", "Module not found: Can't resolve '@/components/PriceBadge'",
                       Cause("frontend.build", {"kind": "module_not_found", "file": "src/pages/index.tsx"})),
    "runtime_digest": ("Dashboard leer", "Das Dashboard zeigt nur 'Application error', Digest: {digest}",
                       Cause("frontend.digest", {"source": lambda s: str(s).startswith("src/components/Stats.tsx:")})),
    "csp_blocked": ("Logo fehlt", "Auf der Startseite fehlt das Logo, die Konsole meldet Content Security Policy.",
                    Cause("frontend.csp", {"directive": "img-src", "file": "src/proxy.ts"})),
    "missing_asset": ("Seite ohne Styling", "Die Seite sieht kaputt aus, das Stylesheet lädt nicht (404).",
                      Cause("frontend.assets", {"reference": "/css/theme.css", "status": 404})),
    "lint_error": ("CI rot: ESLint", "Die Pipeline scheitert an ESLint (react-hooks) im Counter.",
                   Cause("frontend.lint", {"rule": "react-hooks/rules-of-hooks", "file": "src/components/Counter.tsx"})),
    "failing_test": ("Tests schlagen fehl", "npm test ist rot, die Preisformatierung stimmt nicht.",
                     Cause("frontend.test", {"test": "formatPrice > writes euros with a decimal comma"})),
    "client_exception": ("Seite stürzt ab", "Die Startseite zeigt 'Application error: a client-side exception has "
                         "occurred'.", Cause("frontend.smoke", {"kind": "client_exception",
                                                                "file": "src/components/Counter.tsx"})),
    "import_case": ("Build auf dem Server rot", "Lokal baut es, auf dem Server: Module not found.",
                    Cause("frontend.build", {"kind": "module_not_found", "file": "src/pages/index.tsx",
                                             "actual": "src/components/PriceTag.tsx"})),
    "stale_build": ("Header fehlt", "Der Security-Scan vermisst Permissions-Policy, obwohl sie in next.config steht.",
                    Cause("frontend.headers", {"kind": "stale_build", "file": "next.config.mjs"})),
}
# one worker group per scenario (tests/conftest.py): its two tickets share the deployment
FRONTEND_CASES = [pytest.param((lab, fault), id=f"{lab}-{fault}") for lab in LABS for fault in FAULTS]


@pytest.fixture(scope="module")
def frontend_lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The fault's project on its lab, and unless it cannot build, its deployment served by next
    start under PM2; pytest groups the tests by (lab, fault), so each is set up once for both tickets."""
    lab, fault = request.param
    with scenario(tmp_path_factory.mktemp(f"{lab}-{fault}"), fault, deployed=fault not in BUILD_BREAKING, lab=lab,
                  deploy_healthy=fault in UNDEPLOYABLE) as sc:
        yield sc


def _shown_digest(sc: Scenario) -> str:
    """The digest the page that fails shows (the first of the lab's pages with one)."""
    assert sc.server is not None
    for page in sc.target().pages:
        if digests := find_digests(httpx.get(sc.server.url + page, timeout=10).text):
            return digests[0]
    raise AssertionError(f"no page of {sc.lab} shows a digest")


@pytest.mark.parametrize("ticket", TICKETS)
@pytest.mark.parametrize("frontend_lab", FRONTEND_CASES, indirect=True)
def test_frontend_fault_is_named_through_the_cli(frontend_lab: Scenario, fresh_dsn: str, ticket: str) -> None:
    fault = frontend_lab.fault
    assert fault is not None
    subject, message, cause = (FRONTEND_ALT_FAULTS if frontend_lab.lab == "frontend_alt" else FRONTEND_FAULTS)[fault]
    if "{digest}" in message:
        message = message.format(digest=_shown_digest(frontend_lab))
    cli = Cli(cli_env(fresh_dsn, frontend_lab.targets()))
    subject, message = (subject, message) if ticket == "scenario" else NEUTRAL
    outcome = cli.run_ticket((frontend_lab.lab, fault, ticket), FRONTEND, subject, message)
    assert_outcome(outcome, cause)


def test_every_frontend_fault_is_run_here() -> None:
    assert set(FAULTS) == set(FRONTEND_FAULTS), "a frontend lab fault without a ticket text and a cause"
    assert set(FAULTS) == set(FRONTEND_ALT_FAULTS), "a frontend_alt fault without a ticket text and a cause"
    for lab in LABS:
        overlays = {p.name for p in (Path(__file__).resolve().parents[2] / "labs" / lab / "faults").iterdir()}
        assert overlays == set(FAULTS), f"{lab}: fault overlays {overlays} differ from the faults run here"
