"""The wiring of all services: settings in, services out (see the package's docstring)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from support_mcp.agents.base import Check, Repair
from support_mcp.agents.registry import AgentResources, checks_for, explanations_for, repairs_for
from support_mcp.bootstrap.settings import Settings
from support_mcp.domain.clock import Clock, utc_now
from support_mcp.domain.models import Deployment
from support_mcp.domain.targets import Targets
from support_mcp.executors.local import LocalExecutor
from support_mcp.services.context import ContextService
from support_mcp.services.execution import ContextFactory
from support_mcp.services.journal import TicketJournal
from support_mcp.services.knowledge import KnowledgeService, SearchHit, SuggestionService
from support_mcp.services.lead import LeadRunner
from support_mcp.services.repairs import RepairService
from support_mcp.services.routing import TriageService
from support_mcp.services.runner import PlaybookRunner
from support_mcp.store.database import Database
from support_mcp.store.deployments import DeploymentStore
from support_mcp.store.embedded import EmbeddedServer, start_embedded
from support_mcp.store.knowledge import KnowledgeStore
from support_mcp.store.migrate import migrate
from support_mcp.store.plans import PlanStore
from support_mcp.store.runs import RunStore
from support_mcp.store.tickets import TicketStore

if TYPE_CHECKING:
    from support_mcp.executors.ssh import SSHExecutor


def ssh_executors(targets: Targets, clock: Clock) -> dict[str, SSHExecutor]:
    """One SSH executor (one connection, opened on first use) per configured host; asyncssh is
    loaded only when a host is configured."""
    if not targets.hosts:
        return {}
    from support_mcp.executors.ssh import SSHExecutor, SSHSettings

    return {host.name: SSHExecutor(host.name, SSHSettings(
        host=host.host, port=host.port, user=host.user, key_path=host.key_path, known_hosts=host.known_hosts_path,
    ), clock=clock) for host in targets.hosts}


log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a surface needs, built from one Settings value."""

    settings: Settings
    db: Database
    tickets: TicketStore
    runs: RunStore
    journal: TicketJournal
    context: ContextService
    knowledge: KnowledgeService
    suggestions: SuggestionService
    runner: PlaybookRunner
    repairs: RepairService
    contexts: ContextFactory
    triage: TriageService
    deployments: DeploymentStore
    lead: LeadRunner
    embedded: EmbeddedServer | None = None


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    sync_knowledge: bool = True,
    clock: Clock = utc_now,
    executors: dict[str, Any] | None = None,
    checks: Callable[[str], Sequence[Check]] | None = None,
    repairs: Callable[[str], Sequence[Repair]] | None = None,
) -> AsyncIterator[Services]:
    """Start (or connect to) the database, migrate it, sync the knowledge base, build services.

    `executors`, `checks` and `repairs` replace the configured ones (tests, labs).
    """
    embedded = None
    dsn = settings.database_url
    if dsn is None:
        embedded = start_embedded(settings.data_dir / "pgdata")
        dsn = embedded.dsn
    db = Database(dsn)
    host_executors = {} if executors else ssh_executors(settings.targets, clock)
    # per-target connections the agents share across runs (the Supabase SQL pool); closed below
    resources = AgentResources(settings.targets)
    try:
        await db.open()
        await migrate(db)
        tickets = TicketStore(db)
        runs = RunStore(db)
        journal = TicketJournal(tickets, language=settings.language,
                                output_cap_bytes=settings.output_cap_bytes, clock=clock)
        context = ContextService(tickets, default_messages=settings.context_messages)
        knowledge_store = KnowledgeStore(db)
        knowledge = KnowledgeService(knowledge_store)
        suggestions = SuggestionService(knowledge_store, clock=clock)
        if sync_knowledge:
            await knowledge.sync(settings.knowledge_globs, include_playbook=settings.include_playbook)

        async def suggest(ticket_id: uuid.UUID, agent: str, title: str, body: str) -> uuid.UUID:
            created = await suggestions.register(ticket_id=ticket_id, agent=agent, title=title, body=body)
            return created.id

        async def search(query: str, agent: str | None, limit: int, document: str | None = None) -> Sequence[SearchHit]:
            # Used with ticket text (runner, triage): words only, no query syntax.
            return await knowledge.search(query, agent=agent, document=document, limit=limit, plain=True)

        deployments = DeploymentStore(db)

        async def deploy_events() -> list[Deployment]:
            return await deployments.recent(20)

        contexts = ContextFactory(journal, executors or {"local": LocalExecutor(), **host_executors},
                                  settings.targets, settings.language, deploy_events=deploy_events)
        repair_service = RepairService(
            plans=PlanStore(db), runs=runs, journal=journal, contexts=contexts,
            repairs_for=repairs or (lambda agent: repairs_for(agent, settings.targets, resources)),
            output_cap_bytes=settings.output_cap_bytes, clock=clock,
        )
        runner = PlaybookRunner(
            runs=runs, context=context, journal=journal, knowledge_search=search,
            checks_for=checks or (lambda agent: checks_for(agent, settings.targets, resources)),
            contexts=contexts, repairs=repair_service, explanations_for=explanations_for, language=settings.language,
            oncall_assignee=settings.oncall_assignee, suggest=suggest, clock=clock,
        )
        triage_service = TriageService(context, search, journal)
        yield Services(settings=settings, db=db, tickets=tickets, runs=runs, journal=journal,
                       context=context, knowledge=knowledge, suggestions=suggestions, runner=runner,
                       repairs=repair_service, contexts=contexts, triage=triage_service, deployments=deployments,
                       lead=LeadRunner(runner=runner, triage=triage_service, tickets=tickets, journal=journal,
                                       language=settings.language),
                       embedded=embedded)
    finally:
        for ssh in host_executors.values():
            await ssh.close()
        await resources.aclose()
        await db.close()
        if embedded is not None:
            embedded.stop()
