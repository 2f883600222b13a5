"""Each lab fault injected into a real Next.js app, found by the check that claims it, with the
file or component named. Builds are the slow part: every scenario builds at most once."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.frontend_diagnostics.frontend_lab import Scenario, context, scenario
from support_mcp.agents.frontend_diagnostics.checks import (
    BuildCheck,
    DigestCheck,
    LintCheck,
    TestCheck,
    frontend_checks,
)
from support_mcp.agents.frontend_diagnostics.repairs import HotfixDeployRepair
from support_mcp.agents.frontend_diagnostics.session import FrontendSession
from support_mcp.agents.frontend_diagnostics.web_checks import AssetsCheck, CspCheck, SmokeCheck
from support_mcp.domain.models import CheckStatus


def _lab(tmp_path_factory: pytest.TempPathFactory, fault: str | None, deployed: bool) -> Iterator[Scenario]:
    with scenario(tmp_path_factory.mktemp(fault or "baseline"), fault, deployed=deployed) as sc:
        yield sc


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    yield from _lab(tmp_path_factory, None, True)


@pytest.fixture(scope="module")
def digest_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    yield from _lab(tmp_path_factory, "runtime_digest", True)


def _session(sc: Scenario) -> FrontendSession:
    return FrontendSession(sc.target())


async def test_healthy_app_passes_every_check_and_saves_a_screenshot(baseline: Scenario) -> None:
    ctx, rec = context(baseline.targets())
    findings = [f for check in frontend_checks(_session(baseline)) for f in await check.run(ctx)]
    assert {f.check: str(f.status) for f in findings} == {
        "frontend.build": "ok", "frontend.lint": "ok", "frontend.test": "ok", "frontend.digest": "ok",
        "frontend.csp": "ok", "frontend.headers": "ok", "frontend.assets": "ok", "frontend.smoke": "ok"}
    headers = next(f for f in findings if f.check == "frontend.headers")
    assert headers.data["declared"] == 2 and headers.data["file"] == "next.config.js"  # CSP and nosniff arrive
    # never built in the project folder itself, only in the workspace copy
    assert not (baseline.source / ".next" / "BUILD_ID").exists()
    build = next(f for f in findings if f.check == "frontend.build")
    assert build.data["exit_code"] == 0 and "/" in build.data["routes"]
    shot = next(f for f in findings if f.check == "frontend.smoke").data["attachments"][0]
    assert hashlib.sha256(Path(shot["path"]).read_bytes()).hexdigest() == shot["sha256"]
    assert any(op.name == "npm_build" for op, _ in rec.commands)
    assert any(op.name == "browser_visit" and "sha256=" in r.stdout for op, r in rec.commands)


@pytest.mark.parametrize(("fault", "kind", "line", "message"), [
    ("type_error", "type_error", 8, "Type 'string' is not assignable to type 'number'"),
    ("missing_module", "module_not_found", 3, "Can't resolve './components/PriceBadge'"),
])
async def test_build_check_names_file_line_and_kind(tmp_path: Path, fault: str, kind: str, line: int,
                                                     message: str) -> None:
    with scenario(tmp_path, fault, deployed=False) as sc:
        ctx, _ = context(sc.targets(), "en")
        [finding] = await BuildCheck(_session(sc)).run(ctx)
    assert finding.status == CheckStatus.FAIL
    assert (finding.data["kind"], finding.data["file"], finding.data["line"]) == (kind, "app/page.tsx", line)
    assert message in finding.title and finding.data["exit_code"] == 1
    # the agent drafts no patch itself: the finding says who supplies it and how it is planned
    assert "Provide a hotfix patch for app/page.tsx and plan it with `draft_repair_plan`" in finding.detail
    assert "--param patch=@file.diff" in finding.detail
    assert finding.data["duration_ms"] > 0


async def test_lint_check_names_rule_and_component(tmp_path: Path) -> None:
    with scenario(tmp_path, "lint_error", deployed=False) as sc:
        ctx, _ = context(sc.targets())
        [finding] = await LintCheck(_session(sc)).run(ctx)
    assert finding.status == CheckStatus.FAIL
    assert finding.data["file"] == "app/components/Counter.tsx" and finding.data["rule"] == "react-hooks/rules-of-hooks"


async def test_test_check_names_the_failing_test(tmp_path: Path) -> None:
    with scenario(tmp_path, "failing_test", deployed=False) as sc:
        ctx, _ = context(sc.targets())
        [finding] = await TestCheck(_session(sc)).run(ctx)
    assert finding.status == CheckStatus.FAIL
    assert finding.data["test"] == "formatPrice writes euros with a decimal comma"
    assert "19,9 €" in finding.detail
    assert "Hotfix-Patch für tests/" in finding.detail  # the failing test's file, relative to the project


async def test_digest_is_traced_to_chunk_and_component(digest_lab: Scenario) -> None:
    ctx, _ = context(digest_lab.targets())
    [finding] = await DigestCheck(_session(digest_lab)).run(ctx)
    assert finding.status == CheckStatus.FAIL
    assert finding.data["source"].startswith("app/components/Greeting.tsx:")
    assert finding.data["chunk"].startswith(".next/server/chunks/")
    assert "Greeting: profile for Kundin could not be loaded" == finding.data["message"]
    assert finding.data["pages"] == [digest_lab.server.url + "/"]  # type: ignore[union-attr]


async def test_smoke_test_fails_on_the_digest_page(digest_lab: Scenario) -> None:
    ctx, _ = context(digest_lab.targets())
    [finding] = await SmokeCheck(_session(digest_lab)).run(ctx)
    assert finding.status == CheckStatus.FAIL and finding.data["status"] == 500
    assert finding.data["attachments"][0]["sha256"]


async def test_csp_check_names_the_blocked_image(tmp_path: Path) -> None:
    with scenario(tmp_path, "csp_blocked", deployed=True) as sc:
        ctx, _ = context(sc.targets())
        csp = await CspCheck(_session(sc)).run(ctx)
        [smoke] = await SmokeCheck(_session(sc)).run(ctx)
    [blocked] = [f for f in csp if f.status == CheckStatus.FAIL]
    assert blocked.data["asset"].endswith("/images/logo.png") and blocked.data["directive"] == "img-src"
    assert blocked.data["file"] == "next.config.js"
    assert [v["url"] for v in smoke.data["csp_violations"]] == [blocked.data["asset"]]


async def test_assets_check_reports_the_missing_stylesheet(tmp_path: Path) -> None:
    with scenario(tmp_path, "missing_asset", deployed=True) as sc:
        ctx, _ = context(sc.targets())
        [finding] = await AssetsCheck(_session(sc)).run(ctx)
    assert finding.status == CheckStatus.FAIL
    assert finding.data["reference"] == "/styles/theme.css" and finding.data["status"] == 404


def fix_patch(sc: Scenario, relative: str) -> str:
    """The hotfix as a unified diff: the faulty file back to the template's version."""
    template = Path(__file__).resolve().parents[3] / "labs" / "frontend" / "app" / relative
    out = subprocess.run(["diff", "-u", "--label", f"a/{relative}", "--label", f"b/{relative}",
                          str(sc.source / relative), str(template)], capture_output=True, text=True, check=False)
    assert out.returncode == 1, out.stderr
    return out.stdout


async def test_hotfix_plan_rebuilds_deploys_restarts_pm2_and_the_smoke_test_passes(digest_lab: Scenario) -> None:
    ctx, rec = context(digest_lab.targets())
    repair = HotfixDeployRepair(digest_lab.target())
    params = {"patch": fix_patch(digest_lab, "app/components/Greeting.tsx")}
    steps = await repair.plan(ctx, params)
    assert [s.kind for s in steps] == ["file", "command", "command", "command", "command", "rsync", "command"]
    pm2 = digest_lab.server
    assert pm2 is not None
    assert steps[-1].display == f"PM2_HOME={pm2.home} pm2 restart {pm2.name} --update-env"
    assert steps[-1].target == "local"
    dry = await repair.dry_run(ctx, steps)
    assert dry.ok, dry.output
    assert steps[-1].display in dry.output
    assert await repair.fingerprint(ctx, steps) == dry.fingerprint
    restarts = pm2.restarts()
    result = await repair.apply(ctx, steps)
    assert result.ok, result.output
    ran = [op.name for op, _ in rec.commands]
    assert ran.index("deploy_rsync") < ran.index("pm2_restart")
    [(_, restart)] = [(op, r) for op, r in rec.commands if op.name == "pm2_restart"]
    assert restart.exit_code == 0 and restart.argv[-3:] == ("restart", pm2.name, "--update-env")
    assert pm2.restarts() == restarts + 1  # PM2 itself restarted the app: the plan's last step
    assert f"pm2:{pm2.name}@local" in result.changed
    assert await repair.fingerprint(ctx, steps) != dry.fingerprint  # the deployed build changed
    after, headers = await repair.validate(ctx, params)
    assert after.status == CheckStatus.OK and after.check == "frontend.smoke", after
    assert headers.status == CheckStatus.OK and headers.check == "frontend.headers", headers
    assert Path(after.data["attachments"][0]["path"]).is_file()
