"""The agent's HTTP API (FastAPI): OpenAI-compatible completions in front of the upstream, /v1/node,
/metrics, /healthz and the admin endpoints, behind auth → rate limit → admission, every request audited.

Every refusal is an OpenAI-style JSON error (``{"error": {"message", "type", "code"}}``) that says what
to do, with ``Retry-After`` on 429 and 503 and ``WWW-Authenticate`` on 401.

(No ``from __future__ import annotations`` here: FastAPI reads the route signatures at run time, and
their dependencies are local to ``build_app``.)
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from node_agent.admission import Refused
from node_agent.agent import NodeAgent
from node_agent.auth import AuthError, Principal, Role, require
from node_agent.metrics import CONTENT_TYPE
from node_agent.rate_limit import retry_after_header
from node_agent.request_log import ObserveRequests, RequestContext
from node_agent.upstream import StreamUsage, UpstreamError, UpstreamReply

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    502: "upstream_error",
    503: "server_overloaded",
    504: "upstream_timeout",
}


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"message": message, "type": _ERROR_TYPES.get(status, "server_error"), "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _ctx(request: Request) -> RequestContext:
    return request.state.agent


def build_app(agent: NodeAgent, lifespan: Callable[[FastAPI], Any] | None = None) -> ASGIApp:
    app = FastAPI(
        title="Transcript Foundry node agent",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )

    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> JSONResponse:
        _ctx(request).refusal = exc.code
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    def guard(needed: Role, *, limited: bool = True) -> Callable[[Request], Awaitable[Principal]]:
        async def check(request: Request) -> Principal:
            ctx = _ctx(request)
            try:
                principal = agent.authenticate(request.headers.get("authorization"))
                ctx.subject, ctx.role = principal.subject, principal.role.name
                require(principal, needed, f"{request.method} {request.url.path}")
            except AuthError as exc:
                headers = (
                    {"WWW-Authenticate": 'Bearer realm="transcripts-agent"'} if exc.status == 401 else {}
                )
                raise Refusal(exc.status, exc.code, exc.message, headers) from None
            if limited:
                key = f"sub:{principal.subject}" if agent.verifier else f"ip:{ctx.client}"
                wait = agent.limiter.acquire(key)
                if wait is not None:
                    raise Refusal(
                        429,
                        "rate_limited",
                        f"client {principal.subject if agent.verifier else ctx.client} is over its rate "
                        f"({agent.limiter.rate:g} requests/s, bursts of {agent.limiter.burst}): retry after "
                        "the Retry-After seconds",
                        {"Retry-After": retry_after_header(wait)},
                    )
            return principal

        return check

    viewer, operator, admin = guard(Role.viewer), guard(Role.operator), guard(Role.admin)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "node_id": agent.config.node_id, "draining": agent.admission.draining}

    @app.get("/metrics", dependencies=[Depends(guard(Role.viewer, limited=False))])
    async def metrics() -> Response:
        assert agent.metrics is not None
        return Response(agent.metrics.exposition(), media_type=CONTENT_TYPE)

    @app.get("/v1/models", dependencies=[Depends(viewer)])
    async def models() -> Any:
        try:
            listing = await agent.upstream.models()
        except UpstreamError as exc:
            raise Refusal(exc.status, exc.code, exc.message) from None
        if agent.upstream.kind == "openai_compatible":  # show the name this agent serves the model under
            return {
                "object": "list",
                "data": [{"id": agent.upstream.model_name, "object": "model", "owned_by": "node"}],
            }
        return listing

    @app.get("/v1/node", dependencies=[Depends(viewer)])
    async def node() -> dict[str, Any]:
        return await run_in_threadpool(agent.node_status)

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise Refusal(400, "invalid_json", "the request body must be a JSON object") from None
        if not isinstance(body, dict):
            raise Refusal(400, "invalid_json", "the request body must be a JSON object")
        return body

    async def forward(
        request: Request, call: Callable[[dict[str, Any]], Awaitable[UpstreamReply]]
    ) -> Response:
        body = await body_of(request)
        ctx = _ctx(request)
        try:
            started = await agent.admission.acquire()
        except Refused as exc:
            raise Refusal(
                503, exc.reason, exc.message, {"Retry-After": retry_after_header(exc.retry_after_s)}
            ) from None
        try:
            reply = await call(body)
        except UpstreamError as exc:
            agent.admission.release(started, ok=False)
            raise Refusal(exc.status, exc.code, exc.message) from None
        except BaseException:
            agent.admission.release(started, ok=False)
            raise
        if reply.chunks is None:
            agent.admission.release(started, ok=reply.status < 400)
            ctx.prompt_tokens, ctx.completion_tokens = reply.usage()
            return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)
        return StreamingResponse(
            _relay(reply, started, ctx),
            status_code=reply.status,
            headers=reply.headers,
            media_type="text/event-stream",
        )

    async def _relay(reply: UpstreamReply, started: float, ctx: RequestContext) -> AsyncIterator[bytes]:
        """Pass the stream through; the slot is held until its last byte, then its tokens are counted."""
        usage = StreamUsage()
        ok = False
        assert reply.chunks is not None
        try:
            async for data in reply.chunks:
                usage.feed(data)
                yield data
            ok = True
        finally:
            agent.admission.release(started, ok=ok)
            ctx.prompt_tokens, ctx.completion_tokens = usage.totals()

    @app.post("/v1/chat/completions", dependencies=[Depends(operator)])
    async def chat(request: Request) -> Response:
        return await forward(request, agent.upstream.chat)

    @app.post("/v1/completions", dependencies=[Depends(operator)])
    async def completions(request: Request) -> Response:
        return await forward(request, agent.upstream.completion)

    @app.post("/v1/admin/drain")
    async def drain(principal: Annotated[Principal, Depends(admin)]) -> dict[str, Any]:
        await run_in_threadpool(agent.set_draining, True, principal.subject)
        return {
            "draining": True,
            "in_flight": agent.admission.in_flight,
            "queue_depth": agent.admission.waiting,
        }

    @app.post("/v1/admin/resume")
    async def resume(principal: Annotated[Principal, Depends(admin)]) -> dict[str, Any]:
        await run_in_threadpool(agent.set_draining, False, principal.subject)
        return {"draining": False}

    return ObserveRequests(app, agent)
