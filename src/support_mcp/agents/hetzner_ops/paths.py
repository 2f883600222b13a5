"""Paths on the host as the host resolves them.

Real deploy folders are full of symbolic links (`current → releases/…`, `shared/.env.production`
linked into a release), and a link inside the deploy folder may point anywhere (`shared/rootlink →
/`). So every file a repair or check reads or writes is resolved on the target (SFTP realpath)
and judged again where it really is: it must lie in the deploy folder or be the Caddyfile (or
one of its backups), both also as resolved. A path that a link leads out is refused with the
link named; reads and writes then use the resolved path, and the SSH executor refuses to read or
write through a link that was swapped in since.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Protocol

from support_mcp.agents.base import CheckContext
from support_mcp.domain.errors import ExecutionError, PolicyViolation
from support_mcp.domain.targets import HostTarget
from support_mcp.policy import host_commands as hc


class Resolver(Protocol):
    async def realpath(self, path: str) -> str: ...

    async def realpaths(self, paths: Sequence[str]) -> list[str]: ...


def resolver(ctx: CheckContext, host: HostTarget) -> Resolver:
    executor = ctx.executors[host.name]
    if not callable(getattr(executor, "realpath", None)):
        raise ExecutionError(f"target {host.name!r}: its executor cannot resolve paths")
    return executor  # type: ignore[return-value]


async def resolved_roots(ctx: CheckContext, host: HostTarget) -> hc.ResolvedRoots:
    access = resolver(ctx, host)
    return hc.ResolvedRoots(deploy_root=await access.realpath(str(host.deploy_root)),
                            caddyfile=await access.realpath(str(host.caddyfile)))


async def resolved_path(ctx: CheckContext, host: HostTarget, path: str) -> tuple[str, hc.ResolvedRoots]:
    """`path` (checked as text first) resolved on the target, with the resolved roots; raises
    PolicyViolation naming the link when a link leads it out of the deploy folder."""
    text = hc.checked_path(host, path)
    access = resolver(ctx, host)
    roots = await resolved_roots(ctx, host)
    real = await access.realpath(text)
    if roots.holds(real):
        return real, roots
    link, target = await _escaping_link(access, text, roots)
    raise PolicyViolation(hc.escaped_path(host, text, real, link, target))


async def _escaping_link(access: Resolver, path: str, roots: hc.ResolvedRoots) -> tuple[str | None, str | None]:
    """The first component of `path` that is a link whose target leaves the allowed places."""
    parts = [p for p in path.split("/") if p]
    parent_real = "/"
    for i in range(1, len(parts) + 1):
        prefix = "/" + "/".join(parts[:i])
        real = await access.realpath(prefix)
        followed = real != posixpath.join(parent_real, parts[i - 1])
        if followed and not roots.holds(real) and _below(prefix, roots):
            return prefix, real
        parent_real = real
    return None, None


def _below(prefix: str, roots: hc.ResolvedRoots) -> bool:
    """A link counts from the deploy folder down (a link above it is the host's layout)."""
    return any(prefix.startswith(root.rstrip("/") + "/") for root in (roots.deploy_root,
                                                                         posixpath.dirname(roots.caddyfile)))
