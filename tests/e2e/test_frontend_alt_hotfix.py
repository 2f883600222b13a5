"""Every fault of the second Next.js app (labs/frontend_alt: Pages Router with one App Router
route, `src/` with `@/` aliases, `next.config.mjs`, CSP from `src/proxy.ts`, vitest, its own flat
ESLint config) end to end — and the fault kinds added with it (client-side exception, import letter
case, stale build) on our app too: the playbook run names the cause with the file; the hotfix plan
with the patch given (the fault undone, as a person would supply it) — or, for a build older than its
config, the redeploy the agent drafts by itself — is approved by a human, applied (patch, build,
lint, test, rsync, PM2 restart) and validated by the browser smoke test and the live headers.

A fault that breaks the build never reached the server: there the last good build runs, as on a
real host after a failed deploy, and the hotfix deploys the fixed one over it."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers.outcomes import Cause
from integration.frontend_diagnostics.frontend_lab import FAULTS, UNDEPLOYABLE, Scenario, lab_dir, scenario
from support_mcp.agents.frontend_diagnostics.parsers import find_digests
from support_mcp.bootstrap import Settings, open_services
from support_mcp.domain.models import AuthorKind, Verdict

AGENT = "frontend-diagnostics-agent"
LAB = "frontend_alt"
NEW_KINDS = ("client_exception", "import_case", "stale_build")
# on ours also csp_blocked: its fix patches next.config.js, which the validation must read as patched
CASES = [(LAB, fault) for fault in FAULTS] + [("frontend", fault) for fault in (*NEW_KINDS, "csp_blocked")]
# (lab, fault) -> the finding that names its cause (as in tests/e2e/test_outcomes.py)
CAUSES = {
    (LAB, "type_error"): Cause("frontend.build", {"kind": "type_error", "file": "src/pages/index.tsx"}),
    (LAB, "missing_module"): Cause("frontend.build", {"kind": "module_not_found", "file": "src/pages/index.tsx"}),
    (LAB, "runtime_digest"): Cause("frontend.digest",
                                   {"source": lambda s: str(s).startswith("src/components/Stats.tsx:")}),
    (LAB, "csp_blocked"): Cause("frontend.csp", {"directive": "img-src", "file": "src/proxy.ts"}),
    (LAB, "missing_asset"): Cause("frontend.assets", {"reference": "/css/theme.css", "status": 404}),
    (LAB, "lint_error"): Cause("frontend.lint", {"rule": "react-hooks/rules-of-hooks",
                                                 "file": "src/components/Counter.tsx"}),
    (LAB, "failing_test"): Cause("frontend.test", {"test": "formatPrice > writes euros with a decimal comma"}),
    (LAB, "client_exception"): Cause("frontend.smoke", {"kind": "client_exception", "method": "words",
                                                        "source": lambda s: str(s).startswith(
                                                            "src/components/Counter.tsx:")}),
    (LAB, "import_case"): Cause("frontend.build", {"kind": "module_not_found", "file": "src/pages/index.tsx",
                                                   "specifier": "@/components/priceTag",
                                                   "actual": "src/components/PriceTag.tsx"}),
    (LAB, "stale_build"): Cause("frontend.headers", {"kind": "stale_build", "file": "next.config.mjs"}),
    ("frontend", "client_exception"): Cause("frontend.smoke", {"kind": "client_exception", "method": "words",
                                                               "source": lambda s: str(s).startswith(
                                                                   "app/components/Greeting.tsx:")}),
    ("frontend", "import_case"): Cause("frontend.build", {"kind": "module_not_found", "file": "app/page.tsx",
                                                          "specifier": "./components/greeting",
                                                          "actual": "app/components/Greeting.tsx"}),
    ("frontend", "stale_build"): Cause("frontend.headers", {"kind": "stale_build", "file": "next.config.js"}),
    ("frontend", "csp_blocked"): Cause("frontend.csp", {"directive": "img-src", "file": "next.config.js"}),
}
REDEPLOY = {"stale_build"}  # no patch: the agent's own redeploy plan is the fix


@pytest.fixture(scope="module", params=CASES, ids=[f"{lab}-{fault}" for lab, fault in CASES])
def alt(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    lab, fault = request.param
    with scenario(tmp_path_factory.mktemp(f"{lab}-{fault}"), fault, deployed=True, lab=lab,
                  deploy_healthy=fault in UNDEPLOYABLE) as sc:
        yield sc


def _patch(fault: str, lab: str = LAB) -> str:
    """The fix as a person supplies it: each file of the fault overlay back to the app's version."""
    root = lab_dir(lab)
    overlay = root / "faults" / fault
    parts = []
    for path in sorted(p for p in overlay.rglob("*") if p.is_file()):
        rel = path.relative_to(overlay).as_posix()
        good = (root / "app" / rel).read_text().splitlines()
        parts += difflib.unified_diff(path.read_text().splitlines(), good, f"a/{rel}", f"b/{rel}", lineterm="")
    return "\n".join(parts) + "\n"


async def test_the_fault_is_named_with_its_file_and_the_hotfix_deploys_a_healthy_app(alt: Scenario,
                                                                                   fresh_dsn: str) -> None:
    fault = alt.fault
    assert fault is not None and alt.server is not None
    shown = [d for page in alt.target().pages for d in find_digests(httpx.get(alt.server.url + page, timeout=10).text)]
    message = f"Fehler auf der Seite, Digest: {shown[0]}" if shown else "Auf der Seite stimmt etwas nicht."
    async with open_services(Settings(database_url=fresh_dsn, targets=alt.targets())) as s:
        ticket = await s.tickets.create_ticket(subject="Problem mit der App", customer="acme")
        await s.tickets.add_message(ticket.id, author_kind=AuthorKind.CUSTOMER, internal_only=False, body=message)
        report = await s.runner.run(ticket.id, AGENT)
        cause = CAUSES[(alt.lab, fault)]
        named = [f for f in report.findings if cause.matches({"check": f.check, "status": str(f.status),
                                                               "data": f.data})]
        assert named, [(f.check, f.status, f.title, f.data.get("file")) for f in report.findings]
        assert report.verdict == Verdict.CONFIRMED
        drafted = await s.repairs.list_plans(ticket.id)
        if fault in REDEPLOY:  # the agent drafted the redeploy itself
            [plan] = [p for p in drafted if p.repair == "frontend.hotfix_deploy"]
            assert plan.params == {"redeploy": True}
        else:
            assert not [p for p in drafted if p.repair == "frontend.hotfix_deploy"], "no patch, no hotfix plan"
            plan = await s.repairs.draft(ticket.id, AGENT, "frontend.hotfix_deploy", {"patch": _patch(fault, alt.lab)})
        plan = await s.repairs.dry_run(plan.id)
        assert plan.dry_run_ok, plan.dry_run_output
        await s.repairs.approve(plan.id, plan.plan_hash, "Erika Muster", by="tier2-lead", ttl_minutes=30)
        applied = await s.repairs.apply(plan.id, plan.plan_hash)
        assert applied.status == "applied", applied.apply_output
        validated, findings = await s.repairs.validate(plan.id)
        assert validated.status == "validated", [(f.check, f.status, f.title, f.evidence) for f in findings]
        assert {f.check for f in findings} >= {"frontend.smoke", "frontend.headers"}
    # what the customer sees now: every page 200, no digest, the fixed files deployed
    for page in alt.target().pages:
        answer = httpx.get(alt.server.url + page, timeout=10)
        assert answer.status_code == 200 and not find_digests(answer.text), (page, answer.status_code)
        if fault == "stale_build":
            assert answer.headers["permissions-policy"] == "camera=(), microphone=(), geolocation=()"
    overlay = lab_dir(alt.lab) / "faults" / fault
    for path in (p for p in overlay.rglob("*") if p.is_file()):
        rel = path.relative_to(overlay)
        fixed = path if fault in REDEPLOY else lab_dir(alt.lab) / "app" / rel  # redeploy: the source as it is
        assert (alt.deploy / rel).read_text() == fixed.read_text(), rel


def test_the_patches_undo_exactly_the_overlays() -> None:
    for lab, fault in CASES:
        patch = _patch(fault, lab)
        assert patch.strip() and all(f"b/{p.relative_to(lab_dir(lab) / 'faults' / fault).as_posix()}" in patch
                                     for p in (lab_dir(lab) / "faults" / fault).rglob("*") if p.is_file())
    assert set(CAUSES) == set(CASES)


async def test_a_healthy_second_app_gives_no_warning(tmp_path: Path, fresh_dsn: str) -> None:
    """The second app without a fault: build, lint, vitest, digests, CSP from src/proxy.ts, assets
    and the browser on both pages — no warn/fail finding (no favicon is no fault)."""
    with scenario(tmp_path / "healthy", None, deployed=True, lab=LAB) as sc:
        async with open_services(Settings(database_url=fresh_dsn, targets=sc.targets())) as s:
            ticket = await s.tickets.create_ticket(subject="Kurze Frage", customer="acme")
            report = await s.runner.run(ticket.id, AGENT)
    alerts = [(f.check, f.status, f.title, f.evidence[:3]) for f in report.findings
              if f.status in ("warn", "fail", "error")]
    assert alerts == [], alerts
    by_check = {f.check: f for f in report.findings}
    assert by_check["frontend.test"].data["total"] == 2  # vitest's own report, read
    assert "src/proxy.ts" in by_check["frontend.csp"].title
    assert len([f for f in report.findings if f.check == "frontend.smoke"]) == 2  # both pages in the browser
