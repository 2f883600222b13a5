"""What every CLI command shares: consoles, common options, settings, and the service runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console

from support_mcp.domain.errors import InvalidInput, SupportMCPError

if TYPE_CHECKING:  # the services (database, agents, executors) are imported by the commands that run them
    from support_mcp.bootstrap import KnowledgeServices, Services, Settings
    from support_mcp.store.database import Database

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
LangOpt = Annotated[str | None, typer.Option("--language", "-l", help="Text language for notes: de (default) or en.")]


def settings_from_env(language: str | None = None) -> Settings:
    """Settings from the environment, with `--language` on top."""
    from support_mcp.bootstrap import Settings

    settings = Settings.from_env()
    if language is not None:
        if language not in ("de", "en"):
            raise InvalidInput(f"--language must be 'de' or 'en', not {language!r}")
        settings = replace(settings, language=language)  # type: ignore[arg-type]
    return settings


def run_services(work: Callable[[Services], Awaitable[T]], *, language: str | None = None,
                 sync_knowledge: bool = False, settings: Settings | None = None) -> T:
    """Open the services, run `work`, and turn our errors into a message and an exit code."""
    from support_mcp.bootstrap import open_services

    async def main() -> T:
        async with open_services(settings or settings_from_env(language), sync_knowledge=sync_knowledge) as services:
            return await work(services)

    return run_async(main())


def run_knowledge(work: Callable[[KnowledgeServices], Awaitable[T]], *,
                  sync_knowledge: bool | Literal["if_empty"] = True) -> T:
    """Like `run_services` for the knowledge base alone (no agents, executors or ticket services
    loaded: `kb` commands start in a fraction of the time)."""
    from support_mcp.bootstrap import open_knowledge

    async def main() -> T:
        async with open_knowledge(settings_from_env(), sync_knowledge=sync_knowledge) as services:
            return await work(services)

    return run_async(main())


def read_at_file(value: str) -> str:
    """A command-line value, or the text of the file it names with a leading `@` (`@fix.diff`)."""
    if not value.startswith("@"):
        return value
    try:
        return Path(value[1:]).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {value[1:]}: {exc}") from None


def run_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Like `run_services` for commands that need the (migrated) database and nothing else."""
    from support_mcp.bootstrap import open_database
    from support_mcp.store.migrate import migrate

    async def main() -> T:
        async with open_database(settings_from_env()) as db:
            await migrate(db)
            return await work(db)

    return run_async(main())


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; our errors become a message and their exit code."""
    import asyncio

    try:
        return asyncio.run(main)
    except SupportMCPError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}")
        raise typer.Exit(exc.exit_code) from None
