"""A run always reaches the playbook's end: a raising check, a raising parser and a raising repair
draft, injected into each of the three agents on its real lab, become `error` findings (check
name, exception type, redacted message) and the run still writes its findings, next steps,
Tier-1 handover and customer draft (or its escalation) — never a traceback, never `failed`."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from helpers.hetzner_lab import HetznerLab, start_lab
from helpers.supabase_lab import LAB_DIR, clone_lab, create_lab_template, drop_database
from integration.frontend_diagnostics.frontend_lab import scenario
from support_mcp.agents.base import Check, CheckContext, Repair, RepairStep
from support_mcp.agents.registry import checks_for, repairs_for
from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.domain.models import AuthorKind, CheckStatus, Finding, RunStatus
from support_mcp.domain.targets import SupabaseTarget, Targets

Fault = Literal["check", "parser", "repair"]
FAULTS: tuple[Fault, ...] = ("check", "parser", "repair")
SECRET = "postgresql://app:Sup3rS3cretPw@db.internal:5432/app"


class ExplodingCheck:
    """A check with a bug: it raises instead of returning findings."""

    name = "injected.explodes"
    title = "Injizierte Prüfung"
    tools: Sequence[str] = ()

    async def run(self, ctx: CheckContext) -> list[Finding]:
        raise RuntimeError(f"unexpected None while reading {SECRET}")


@dataclass
class RaisingDraft:
    """The agent's own repair, proposed as usual, whose plan raises while it is drafted (as a policy
    name with spaces once did on a foreign database)."""

    inner: Any

    @property
    def name(self) -> str:
        return str(self.inner.name)

    @property
    def agent(self) -> str:
        return str(self.inner.agent)

    @property
    def title(self) -> str:
        return str(self.inner.title)

    def proposes(self, findings: Sequence[Finding]) -> dict[str, Any] | None:
        return self.inner.proposes(findings) or {}

    async def plan(self, ctx: CheckContext, params: dict[str, Any]) -> list[RepairStep]:
        raise ValueError("invalid identifier 'Enable read access for all users'")

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)


@dataclass(frozen=True)
class Lab:
    agent: str
    targets: Targets
    subject: str
    message: str
    parser: tuple[str, str]  # module, function that the agent's check calls
    parser_check: str  # the check whose parser raises
    cause_check: str  # a check that still names the cause when the parser raises


def _break(monkeypatch: pytest.MonkeyPatch, fault: Fault, lab: Lab) -> None:
    if fault == "parser":
        def broken(*args: Any, **kwargs: Any) -> Any:
            raise KeyError("unexpected field 'pm_id'")

        module, function = lab.parser
        monkeypatch.setattr(f"{module}.{function}", broken)


@asynccontextmanager
async def _services(dsn: str, lab: Lab, fault: Fault) -> AsyncIterator[Services]:
    checks: Callable[[str], Sequence[Check]] = lambda agent: (  # noqa: E731
        *checks_for(agent, lab.targets), *([ExplodingCheck()] if fault == "check" else []))
    repairs: Callable[[str], Sequence[Repair]] = lambda agent: tuple(  # noqa: E731
        RaisingDraft(r) if fault == "repair" else r for r in repairs_for(agent, lab.targets))
    async with open_services(Settings(database_url=dsn, targets=lab.targets), checks=checks,
                             repairs=repairs) as s:  # type: ignore[arg-type]
        yield s


async def _run_and_assert_the_playbook_ends(s: Services, lab: Lab, fault: Fault) -> None:
    ticket = await s.tickets.create_ticket(subject=lab.subject, customer="acme")
    await s.tickets.add_message(ticket.id, body=lab.message, author_kind=AuthorKind.CUSTOMER, internal_only=False)
    report = await s.runner.run(ticket.id, lab.agent)  # type: ignore[arg-type]

    run = await s.runs.get_run(report.run_id)
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.ESCALATED)
    notes = await s.tickets.messages(ticket.id, internal_only=True, limit=500)
    tags = {t for m in notes for t in m.tags}
    assert {"hypothesis", "findings", "next_steps", "tier1_handover", "customer_draft"} <= tags, tags
    assert report.escalated == ("manual_followup" in tags)
    bodies = "\n".join(m.body for m in notes)
    assert "Sup3rS3cretPw" not in bodies

    errors = {f.check: f for f in report.findings if f.status == CheckStatus.ERROR}
    if fault == "check":
        broken = errors["injected.explodes"]
        assert broken.data["exception"] == "RuntimeError" and "unexpected None" in broken.detail
        assert "Sup3rS3cretPw" not in broken.detail
    elif fault == "parser":
        assert errors[lab.parser_check].data["exception"] == "KeyError", errors
    else:
        assert any(f.startswith("repair:") for f in report.faults), report.faults
        assert "fault" in tags and "invalid identifier" in bodies
        # every repair raised while drafting: no plan exists, so a human takes over
        assert await s.repairs.list_plans(ticket.id) == [] and report.escalated
    # the cause is still named from the findings that did run
    assert report.conclusion["cause"], report.conclusion
    assert lab.cause_check in report.conclusion["evidence"], report.conclusion


# --- supabase-analyst-agent on the Supabase-like lab -----------------------------------------

@pytest.fixture(scope="module")
def supabase_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    template = create_lab_template()
    name, dsn = clone_lab(template, "trigger_disabled")
    root = tmp_path_factory.mktemp("supabase")
    (root / "supabase" / "migrations").mkdir(parents=True)
    shutil.copy(LAB_DIR / "02_public.sql", root / "supabase" / "migrations" / "20250101000000_initial_schema.sql")
    target = SupabaseTarget(database_url=dsn, migrations_dir=root / "supabase" / "migrations",
                            drafts_dir=root / "tmp" / "sql")
    yield Lab("supabase-analyst-agent", Targets(supabase=target), "Kein Profil nach Registrierung",
              "Neue Nutzer haben nach der Registrierung kein Profil.",
              ("support_mcp.agents.supabase_analyst.rls_checks", "parse_policies"), "rls_policies", "functions")
    drop_database(name)
    drop_database(template)


@pytest.mark.parametrize("fault", FAULTS)
async def test_supabase_analyst_run_survives_a_raising(fault: Fault, supabase_lab: Lab, fresh_dsn: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _break(monkeypatch, fault, supabase_lab)
    async with _services(fresh_dsn, supabase_lab, fault) as s:
        await _run_and_assert_the_playbook_ends(s, supabase_lab, fault)


# --- hetzner-ops-agent on the host lab (sshd, PM2, Caddy) ------------------------------------

@pytest.fixture(scope="module")
def host_lab() -> Iterator[HetznerLab]:
    lab = start_lab()
    yield lab
    lab.stop()


@pytest.mark.parametrize("fault", FAULTS)
async def test_hetzner_ops_run_survives_a_raising(fault: Fault, host_lab: HetznerLab, fresh_dsn: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    host_lab.heal()
    host_lab.inject_stopped()
    lab = Lab("hetzner-ops-agent", Targets(hosts=(host_lab.host_target(),)), "502 auf der Website",
              "Die Seite zeigt 502 Bad Gateway.", ("support_mcp.agents.hetzner_ops.parsers", "parse_pm2_jlist"),
              "pm2_status", "http_smoke")
    _break(monkeypatch, fault, lab)
    try:
        async with _services(fresh_dsn, lab, fault) as s:
            await _run_and_assert_the_playbook_ends(s, lab, fault)
    finally:
        host_lab.heal()


# --- frontend-diagnostics-agent on the Next.js lab --------------------------------------------

@pytest.fixture(scope="module")
def frontend_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with scenario(tmp_path_factory.mktemp("frontend"), "type_error", deployed=False) as sc:
        yield sc.source


@pytest.mark.parametrize("fault", FAULTS)
async def test_frontend_diagnostics_run_survives_a_raising(fault: Fault, frontend_project: Path, fresh_dsn: str,
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from support_mcp.domain.targets import FrontendTarget

    target = FrontendTarget(source_dir=frontend_project, workspace_dir=tmp_path / "workspaces")
    lab = Lab("frontend-diagnostics-agent", Targets(frontend=target), "Build bricht ab",
              "npm run build bricht mit einem Type error ab.",
              ("support_mcp.agents.frontend_diagnostics.parsers", "parse_eslint"), "frontend.lint", "frontend.build")
    _break(monkeypatch, fault, lab)
    async with _services(fresh_dsn, lab, fault) as s:
        await _run_and_assert_the_playbook_ends(s, lab, fault)
