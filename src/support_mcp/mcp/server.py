"""The MCP server: the only module that imports the MCP SDK.

stdio for desktop clients (one configured identity), streamable HTTP for servers: bearer
tokens map to identities, unknown Host headers are refused, and each identity sees and calls
only the tools of its scopes.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import inspect
import json
import os
import typing
from collections.abc import Mapping
from typing import Annotated, Any

import anyio
import typing_extensions
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ListToolsResult, TextContent, ToolAnnotations
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import AnyHttpUrl, BaseModel, Field
from pydantic import Field as PydanticField

from support_mcp.bootstrap import Services, Settings, open_services
from support_mcp.bootstrap.settings import check_http_tokens
from support_mcp.domain.errors import InvalidInput, NotFound, PolicyViolation, SupportMCPError
from support_mcp.domain.models import AGENTS, parse_uuid
from support_mcp.mcp.sessions import SessionsPerIdentity
from support_mcp.mcp.tools import ToolBox, ToolSpec, current_identity, ticket_resource
from support_mcp.policy import scopes
from support_mcp.policy.fencing import FENCE_NOTICE, fence
from support_mcp.policy.scopes import Identity, identity
from support_mcp.services.playbook import playbook_text, strategy_prompt
from support_mcp.store.idempotency import ToolCallStore, idempotent_writes

# "Resource not found" of the protocol versions up to 2025-11-25 (retired by 2026-07-28).
RESOURCE_NOT_FOUND = -32002

INSTRUCTIONS = (
    "Support MCP carries out the Tier-2 incident playbook on support tickets: secure the context, "
    "consult the knowledge base, record a hypothesis before any command, log every command on the "
    "ticket, record findings with a verdict, then hand over to Tier 1 or escalate (manual_followup). "
    "Notes for staff are German unless asked otherwise. " + FENCE_NOTICE
)


class StaticTokenVerifier(TokenVerifier):
    """Bearer tokens from configuration, each naming an identity; compared in constant time."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        check_http_tokens(tokens)  # settings built in code, not from the environment, too
        self._tokens = {token: identity(name) for token, name in tokens.items()}

    async def verify_token(self, token: str) -> AccessToken | None:
        found: Identity | None = None
        for known, ident in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = ident
        if found is None:
            return None
        return AccessToken(token=token, client_id=found.name, scopes=sorted(found.scopes))


class SupportMCPServer(MCPServer[Any]):
    """MCPServer that filters and guards tools by the caller's identity."""

    def __init__(self, *args: Any, default_identity: Identity | None, tool_scopes: dict[str, ToolSpec],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._default_identity = default_identity
        self._tool_scopes = tool_scopes

    def _identity(self) -> Identity:
        token = get_access_token()
        if token is not None:
            return identity(token.client_id)
        if self._default_identity is None:
            raise PolicyViolation("unauthenticated call refused")
        return self._default_identity

    async def _handle_list_tools(self, ctx: Any, params: Any) -> ListToolsResult:
        me = self._identity()
        tools = await self.list_tools()
        return ListToolsResult(tools=[t for t in tools if me.allows(self._tool_scopes[t.name].scope)])

    async def _handle_read_resource(self, ctx: Any, params: Any) -> Any:
        """A resource that does not exist is "resource not found" in the client's protocol version:
        -32002 for the handshake versions (2024-11-05 … 2025-11-25), -32602 for 2026-07-28, which
        retired -32002 (SEP-2164; the SDK answers that). Never -32603, an internal error."""
        try:
            return await super()._handle_read_resource(ctx, params)
        except MCPError as err:
            missing = isinstance(err.__context__, ResourceNotFoundError)
            if missing and getattr(ctx, "protocol_version", None) in HANDSHAKE_PROTOCOL_VERSIONS:
                raise MCPError(code=RESOURCE_NOT_FOUND, message=err.message, data=err.data) from None
            raise

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            me = self._identity()
            spec = self._tool_scopes.get(name)
            if spec is not None:
                me.require(spec.scope)
        except SupportMCPError as exc:
            raise ToolError(str(exc)) from None
        reset = current_identity.set(me)
        try:
            return await super().call_tool(name, arguments, context)
        finally:
            current_identity.reset(reset)


class ApprovalForm(BaseModel):
    approver: str = Field(description="Your name (recorded as the approver)")
    approve: bool = Field(description="Approve exactly this plan hash")


def _add_approval_tool(server: SupportMCPServer, services: Services, specs: dict[str, ToolSpec],
                       calls: ToolCallStore) -> None:
    """`approve_plan` asks the human at the client (MCP elicitation); the model cannot answer it."""

    async def ask_human(plan_id: str, plan_hash: str) -> Elicit[ApprovalForm]:
        # Nothing is asked unless a person's session asks for a plan that can be approved, with
        # exactly its current hash (the scope keeps agents out before this; this is the rest).
        try:
            plan = await services.repairs.approvable(parse_uuid(plan_id, "plan id"), plan_hash,
                                                     by=current_identity.get().name)
        except SupportMCPError as exc:
            raise ToolError(f"{type(exc).__name__}: {exc} — nobody was asked, nothing approved") from None
        steps = "\n".join(f"{i}. [{s['target']}] {s['display']}" for i, s in enumerate(plan.steps, 1))
        return Elicit(f"Freigabe für Reparaturplan „{plan.title}“ (Ticket {plan.ticket_id}, "
                      f"Hash {plan_hash}):\n{steps}", ApprovalForm)

    async def approve_plan(
        plan_id: Annotated[str, PydanticField(description="Plan id (UUID).")],
        plan_hash: Annotated[str, PydanticField(description="The hash shown by the dry-run.")],
        decision: Annotated[ElicitationResult[ApprovalForm], Resolve(ask_human)],
        ttl_minutes: Annotated[int, PydanticField(ge=1, le=1440)] = 30,
    ) -> str:
        """Ask the person at the client to approve exactly this plan hash (elicitation); only a
        person's identity (scope `approver`) may, never an agent's. The hash is checked before
        anything is asked. The typed name and the session's identity are recorded on the ticket."""
        if not isinstance(decision, AcceptedElicitation) or not decision.data.approve \
                or not decision.data.approver.strip():
            return "not approved (declined or cancelled); nothing will run"
        me = current_identity.get()
        approval = await services.repairs.approve(parse_uuid(plan_id, "plan id"), plan_hash,
                                                  decision.data.approver, by=me.name, ttl_minutes=ttl_minutes)
        return (f"approved by {approval.approver} (identity {approval.approver_identity}) "
                f"until {approval.expires_at.isoformat()}")

    # Real objects, not strings: the resolver is a local function the SDK cannot look up by name.
    approve_plan.__annotations__ = {
        "plan_id": Annotated[str, PydanticField(description="Plan id (UUID).")],
        "plan_hash": Annotated[str, PydanticField(description="The hash shown by the dry-run.")],
        "decision": Annotated[ElicitationResult[ApprovalForm], Resolve(ask_human)],
        "ttl_minutes": Annotated[int, PydanticField(ge=1, le=1440)],
        "return": str,
    }
    approve = _idempotent(approve_plan, "approve_plan", calls)
    spec = ToolSpec(scopes.APPROVER, False, "Ask a human to approve a plan")
    specs["approve_plan"] = spec
    server.add_tool(_unwrap_errors(approve), name="approve_plan", title=spec.title,
                    annotations=ToolAnnotations(title=spec.title, read_only_hint=False, destructive_hint=False,
                                                open_world_hint=False),
                    structured_output=False)


IdempotencyKey = Annotated[str | None, PydanticField(
    description="Optional. The same key on a retry of this exact call returns the first call's answer and "
                "writes nothing twice (per identity; up to 200 characters).", min_length=1, max_length=200)]


def _resolved(fn: Any) -> tuple[inspect.Signature, dict[str, Any]]:
    """The signature with its annotations as objects. The tool modules' annotations are strings
    (postponed evaluation); resolved here, in the tool's own module, because the SDK would resolve
    a wrapper's in this one."""
    hints = typing.get_type_hints(fn, include_extras=True)
    signature = inspect.signature(fn)
    signature = signature.replace(
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()],
        return_annotation=hints.get("return", signature.return_annotation))
    return signature, hints


def _structured(fn: Any, output: Any) -> Any:
    """A tool whose answer is JSON text of type `output`: the same text, and the parsed value as
    structuredContent, validated by the SDK against the published outputSchema (a list or a union
    under "result": a schema must describe an object)."""
    wrap = not (typing_extensions.is_typeddict(output) or (isinstance(output, type) and issubclass(output, BaseModel)))
    returns = Annotated[CallToolResult, output]

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> CallToolResult:
        text = await fn(*args, **kwargs)
        data = json.loads(text)
        return CallToolResult(content=[TextContent(type="text", text=text)],
                              structured_content={"result": data} if wrap else data)

    signature, hints = _resolved(fn)
    wrapper.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**hints, "return": returns}
    return wrapper


def _failpoint(point: str, tool: str) -> None:
    """Test instrumentation: `SUPPORT_MCP_FAILPOINT=<point>:<tool>` ends the process there as a
    kill -9 would (tests/e2e/test_mcp_http_surface.py kills between commit and reply)."""
    if os.environ.get("SUPPORT_MCP_FAILPOINT") == f"{point}:{tool}":
        os._exit(137)


def _idempotent(fn: Any, name: str, calls: ToolCallStore) -> Any:
    """A writing tool with an optional `idempotency_key`: the first call's answer is kept per
    identity and key; a retry gets it again, or — when the first call died before answering —
    runs again with every note and event keyed from the call, so none is written twice."""
    signature, hints = _resolved(fn)
    if "idempotency_key" in signature.parameters:
        return fn  # the tool keys its one write itself (record_deployment)

    @functools.wraps(fn)
    async def wrapper(*args: Any, idempotency_key: str | None = None, **kwargs: Any) -> Any:
        if idempotency_key is None:
            return await fn(*args, **kwargs)
        who = current_identity.get().name
        digest = hashlib.sha256(json.dumps(kwargs, sort_keys=True, default=str).encode()).hexdigest()
        earlier = await calls.begin(who, idempotency_key, name, digest)
        if earlier is not None and earlier.result is not None:
            return earlier.result
        with idempotent_writes(f"mcp:{who}:{name}:{idempotency_key}"):
            result = await fn(*args, **kwargs)
        _failpoint("after_commit", name)
        await calls.finish(who, idempotency_key, result if isinstance(result, str) else json.dumps(result))
        _failpoint("before_reply", name)
        return result

    key = inspect.Parameter("idempotency_key", inspect.Parameter.KEYWORD_ONLY, default=None,
                            annotation=IdempotencyKey)
    params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    wrapper.__signature__ = signature.replace(parameters=[*params, key])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**hints, "idempotency_key": IdempotencyKey}
    return wrapper


def _unwrap_errors(fn: Any) -> Any:
    """Our errors become ToolError: a message the model can act on, not an 'unexpected' crash."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except SupportMCPError as exc:
            raise ToolError(f"{type(exc).__name__}: {exc}") from None

    return wrapper


def build_server(services: Services, *, default_identity: Identity | None,
                 token_verifier: TokenVerifier | None = None, auth: AuthSettings | None = None) -> SupportMCPServer:
    """The MCP server over already-opened services."""
    box = ToolBox(services)
    specs: dict[str, ToolSpec] = {}
    server = SupportMCPServer(
        "support-mcp", instructions=INSTRUCTIONS, version="0.1.0", log_level="WARNING",
        token_verifier=token_verifier, auth=auth,
        default_identity=default_identity, tool_scopes=specs,
    )
    calls = ToolCallStore(services.db)
    for fn, spec in box.tool_methods():
        specs[fn.__name__] = spec
        handler = fn if spec.read_only else _idempotent(fn, fn.__name__, calls)
        server.add_tool(
            _unwrap_errors(handler if spec.output is None else _structured(handler, spec.output)),
            name=fn.__name__, title=spec.title,
            annotations=ToolAnnotations(title=spec.title, read_only_hint=spec.read_only,
                                        destructive_hint=False, open_world_hint=False),
            structured_output=spec.output is not None,
        )

    _add_approval_tool(server, services, specs, calls)

    @server.resource("playbook://tier2-incident-playbook", name="tier2-incident-playbook",
                     title="Tier-2 Incident Playbook", mime_type="text/markdown")
    def playbook_resource() -> str:
        return playbook_text()

    @server.resource("kb://{document}/{anchor}", name="knowledge-section", mime_type="text/markdown",
                     title="Knowledge-base section (document key / anchor)")
    async def knowledge_resource(document: str, anchor: str) -> str:
        try:
            sec = await services.knowledge.get_section_by_anchor(document, anchor)
        except NotFound as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except SupportMCPError as exc:
            raise ResourceError(str(exc)) from None
        return f"# {sec.breadcrumb}\n{fence(sec.body, 'knowledge-section')}"

    @server.resource("ticket://{ticket_id}", name="ticket", mime_type="text/markdown",
                     title="Ticket with its timeline")
    async def ticket(ticket_id: str) -> str:
        try:
            return await ticket_resource(services, ticket_id)
        except (NotFound, InvalidInput) as exc:  # a malformed id names no ticket either
            raise ResourceNotFoundError(str(exc)) from None
        except SupportMCPError as exc:
            raise ResourceError(str(exc)) from None

    for agent in AGENTS:
        _add_strategy_prompt(server, agent)
    return server


def _add_strategy_prompt(server: SupportMCPServer, agent: str) -> None:
    @server.prompt(name=agent, title=f"{agent} strategy",
                   description=f"Playbook strategy of {agent}: section 1, its own section, section 5.")
    def prompt(ticket_id: str) -> str:
        return (f"Du bist {agent} (Tier 2). Bearbeite Ticket {ticket_id} streng nach diesem Playbook. "
                f"Beginne mit ticket_context, dann knowledge_search, dann record_hypothesis, bevor du "
                f"irgendein Kommando ausführst.\n\n{strategy_prompt(agent)}\n\n{FENCE_NOTICE}")


def stdio_identity(settings: Settings) -> Identity:
    return identity(settings.stdio_identity)


def serve_stdio(settings: Settings) -> None:
    """Serve over stdio as the configured identity (SUPPORT_MCP_IDENTITY, default tier2-lead)."""

    async def main() -> None:
        async with open_services(settings) as services:
            await build_server(services, default_identity=stdio_identity(settings)).run_stdio_async()

    anyio.run(main)


def http_app(services: Services, settings: Settings, *, host: str, port: int) -> Any:
    """The Starlette app for streamable HTTP with bearer-token auth and Host checks."""
    if not settings.http_tokens:
        raise PolicyViolation("HTTP needs SUPPORT_MCP_HTTP_TOKENS ('identity=token,…'); refusing to run open")
    url = f"http://{host}:{port}"
    server = build_server(
        services, default_identity=None, token_verifier=StaticTokenVerifier(settings.http_tokens),
        auth=AuthSettings(issuer_url=AnyHttpUrl(url), resource_server_url=AnyHttpUrl(f"{url}/mcp"),
                          validate_token_resource=False),
    )
    identities = len(set(settings.http_tokens.values()))
    app = server.streamable_http_app(
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=list(settings.http_allowed_hosts),
            allowed_origins=[f"http://{h}" for h in settings.http_allowed_hosts],
        ),
        host=host,
        session_idle_timeout=settings.http_session_idle_seconds,
        # never the binding limit: every identity can hold its own share at once
        max_sessions=settings.http_sessions_per_identity * identities,
    )
    return SessionsPerIdentity(app, settings.http_tokens, limit=settings.http_sessions_per_identity,
                               idle=settings.http_session_idle_seconds)


def serve_http(settings: Settings, *, host: str, port: int) -> None:
    """Serve streamable HTTP on host:port until interrupted."""
    import uvicorn

    async def main() -> None:
        async with open_services(settings) as services:
            app = http_app(services, settings, host=host, port=port)
            config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
            await uvicorn.Server(config).serve()

    anyio.run(main)
