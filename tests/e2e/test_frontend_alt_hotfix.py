"""Every fault of the second Next.js app (labs/frontend_alt: Pages Router with one App Router
route, `src/` with `@/` aliases, `next.config.mjs`, CSP from `src/proxy.ts`, vitest, its own flat
ESLint config) end to end: the playbook run names the cause with the file; the hotfix plan with
the patch given (the fault undone, as a person would supply it) is approved by a human, applied
(patch, build, lint, test, rsync, PM2 restart) and validated by the browser smoke test.

A fault that breaks the build never reached the server: there the last good build runs, as on a
real host after a failed deploy, and the hotfix deploys the fixed one over it."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers.outcomes import Cause
from integration.frontend_diagnostics.frontend_lab import FAULTS, Scenario, lab_dir, scenario
from support_mcp.agents.frontend_diagnostics.parsers import find_digests
from support_mcp.bootstrap import Settings, open_services
from support_mcp.domain.models import AuthorKind, Verdict

AGENT = "frontend-diagnostics-agent"
LAB = "frontend_alt"
UNDEPLOYABLE = {"type_error", "missing_module", "lint_error", "failing_test"}
# fault -> the finding that names its cause (same as tests/e2e/test_outcomes.py's FRONTEND_ALT_FAULTS)
CAUSES = {
    "type_error": Cause("frontend.build", {"kind": "type_error", "file": "src/pages/index.tsx"}),
    "missing_module": Cause("frontend.build", {"kind": "module_not_found", "file": "src/pages/index.tsx"}),
    "runtime_digest": Cause("frontend.digest", {"source": lambda s: str(s).startswith("src/components/Stats.tsx:")}),
    "csp_blocked": Cause("frontend.csp", {"directive": "img-src", "file": "src/proxy.ts"}),
    "missing_asset": Cause("frontend.assets", {"reference": "/css/theme.css", "status": 404}),
    "lint_error": Cause("frontend.lint", {"rule": "react-hooks/rules-of-hooks", "file": "src/components/Counter.tsx"}),
    "failing_test": Cause("frontend.test", {"test": "formatPrice > writes euros with a decimal comma"}),
}


@pytest.fixture(scope="module", params=FAULTS)
def alt(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    fault: str = request.param
    with scenario(tmp_path_factory.mktemp(f"alt-{fault}"), fault, deployed=True, lab=LAB,
                  deploy_healthy=fault in UNDEPLOYABLE) as sc:
        yield sc


def _patch(fault: str) -> str:
    """The fix as a person supplies it: each file of the fault overlay back to the app's version."""
    root = lab_dir(LAB)
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
        cause = CAUSES[fault]
        named = [f for f in report.findings if cause.matches({"check": f.check, "status": str(f.status),
                                                               "data": f.data})]
        assert named, [(f.check, f.status, f.title, f.data.get("file")) for f in report.findings]
        assert report.verdict == Verdict.CONFIRMED
        plan = await s.repairs.draft(ticket.id, AGENT, "frontend.hotfix_deploy", {"patch": _patch(fault)})
        plan = await s.repairs.dry_run(plan.id)
        assert plan.dry_run_ok, plan.dry_run_output
        await s.repairs.approve(plan.id, plan.plan_hash, "Erika Muster", ttl_minutes=30)
        applied = await s.repairs.apply(plan.id, plan.plan_hash)
        assert applied.status == "applied", applied.apply_output
        validated, findings = await s.repairs.validate(plan.id)
        assert validated.status == "validated", [(f.check, f.status, f.title, f.evidence) for f in findings]
    # what the customer sees now: every page 200, no digest, the fixed files deployed
    for page in alt.target().pages:
        answer = httpx.get(alt.server.url + page, timeout=10)
        assert answer.status_code == 200 and not find_digests(answer.text), (page, answer.status_code)
    overlay = lab_dir(LAB) / "faults" / fault
    for path in (p for p in overlay.rglob("*") if p.is_file()):
        rel = path.relative_to(overlay)
        assert (alt.deploy / rel).read_text() == (lab_dir(LAB) / "app" / rel).read_text(), rel


def test_the_patches_undo_exactly_the_overlays() -> None:
    for fault in FAULTS:
        patch = _patch(fault)
        assert patch.strip() and all(f"b/{p.relative_to(lab_dir(LAB) / 'faults' / fault).as_posix()}" in patch
                                     for p in (lab_dir(LAB) / "faults" / fault).rglob("*") if p.is_file())


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
