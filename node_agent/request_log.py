"""Observing each request: ``ObserveRequests`` (ASGI middleware) times it to its last byte, then writes
its audit line and its metrics from the ``RequestContext`` the checks and handlers filled in."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node_agent.agent import NodeAgent
from node_agent.audit import AuditRecord, now_iso

# The routes metrics are labelled by; any other path counts as "other", so labels stay few.
ROUTES = frozenset(
    {
        "/healthz",
        "/metrics",
        "/v1/models",
        "/v1/node",
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/admin/drain",
        "/v1/admin/resume",
    }
)


@dataclass
class RequestContext:
    """What one request's audit line says, filled in as the request passes the checks."""

    client: str | None
    subject: str | None = None
    role: str | None = None
    refusal: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ObserveRequests:
    """ASGI middleware: times each request to its last byte, then writes its audit line and metrics."""

    def __init__(self, app: ASGIApp, agent: NodeAgent):
        self.app = app
        self.agent = agent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        ctx = RequestContext(client=client[0] if client else None)
        scope.setdefault("state", {})["agent"] = ctx
        started = time.perf_counter()
        status = 500
        done = False

        def finish() -> None:
            nonlocal done
            if done:
                return
            done = True
            self._record(scope, ctx, status, time.perf_counter() - started)

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                finish()

        try:
            await self.app(scope, receive, observed_send)
        finally:
            finish()  # the client went away, or the app raised: still one line

    def _record(self, scope: Scope, ctx: RequestContext, status: int, seconds: float) -> None:
        path = scope["path"]
        route = path if path in ROUTES else "other"
        metrics = self.agent.metrics
        if metrics is not None:
            metrics.requests.labels(route=route, status=str(status)).inc()
            metrics.latency.labels(route=route).observe(seconds)
            if ctx.prompt_tokens:
                metrics.tokens.labels(type="prompt").inc(ctx.prompt_tokens)
            if ctx.completion_tokens:
                metrics.tokens.labels(type="completion").inc(ctx.completion_tokens)
            if ctx.refusal:
                metrics.rejected.labels(reason=ctx.refusal).inc()
        self.agent.audit.write(
            AuditRecord(
                time=now_iso(),
                client=ctx.client,
                subject=ctx.subject,
                role=ctx.role,
                method=scope["method"],
                path=path,
                status=status,
                latency_ms=round(seconds * 1000, 2),
                prompt_tokens=ctx.prompt_tokens,
                completion_tokens=ctx.completion_tokens,
                refusal=ctx.refusal,
            )
        )
