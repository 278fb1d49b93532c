"""Serving an agent with uvicorn: bind, load the upstream, register, serve, heartbeat, deregister.

The socket is bound (and listening) before the node registers, so the URL in the registry answers as
soon as the orchestrator reads it; deregistration runs in the ASGI lifespan shutdown, which uvicorn runs
on SIGINT / SIGTERM before it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from node_agent.agent import NodeAgent
from node_agent.app import build_app
from node_agent.upstream import UpstreamError

log = logging.getLogger("node_agent")


class AgentStartError(RuntimeError):
    """The agent could not start: the message names what failed and the fix."""


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every answer waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror} (pick another --port)") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _Uvicorn(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # An idle keep-alive TLS connection would hold the shutdown for asyncio's 30 s TLS close
        # timeout (the client never answers close_notify while idle): there is nothing to finish, so
        # drop it. Connections with a response in progress still get the graceful timeout.
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            cycle = getattr(connection, "cycle", None)
            idle = cycle is None or getattr(cycle, "response_complete", False)
            if idle and transport is not None and transport.get_extra_info("sslcontext") is not None:
                transport.abort()
        await super().shutdown(sockets)


class AgentServer:
    def __init__(self, agent: NodeAgent):
        self.agent = agent
        self.sock = bind_socket(agent.config.host, agent.config.port)
        self.port: int = self.sock.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._registered = False
        self._closed = False

    @property
    def url(self) -> str:
        """Where this agent answers, from this machine (the advertised URL may name another host)."""
        host = self.agent.config.host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
        host = f"[{host}]" if ":" in host else host
        return f"{self.agent.config.scheme}://{host}:{self.port}/v1"

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        registration = self.agent.registration
        if registration is not None:
            self._heartbeat = asyncio.create_task(registration.run(), name="agent-heartbeat")
        try:
            yield
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._registered:
            self._registered = False
            try:
                await run_in_threadpool(self.agent.deregister)
            except Exception as exc:  # the DB is down: the node goes stale instead
                log.warning("could not deregister node %s: %s", self.agent.config.node_id, exc)
        await self.agent.upstream.close()
        self.agent.audit.close()

    async def _start(self) -> None:
        """Load or reach the backend, then register; AgentStartError says what failed and what to do."""
        try:
            await self.agent.upstream.start()
        except UpstreamError as exc:
            raise AgentStartError(f"{exc.message}; start the server first or check --upstream") from exc
        except (OSError, ValueError, RuntimeError) as exc:  # a missing or broken model file
            raise AgentStartError(f"cannot load the model: {exc}") from exc
        state_url = self.agent.config.state_url or "the project state DB"
        try:
            self.agent.prepare(self.port)
            await run_in_threadpool(self.agent.register)
        except SQLAlchemyError as exc:
            raise AgentStartError(
                f"cannot register in {state_url}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}; "
                "start the database, fix --state-url, or run with --no-register"
            ) from exc
        self._registered = self.agent.registration is not None

    async def serve(self) -> None:
        config = self.agent.config
        try:
            await self._start()
        except BaseException:
            await self._shutdown()
            self.sock.close()
            raise
        uv_config = uvicorn.Config(
            build_app(self.agent, lifespan=self._lifespan),
            ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
            ssl_keyfile=str(config.tls_key) if config.tls_key else None,
            log_level="warning",
            access_log=False,  # the audit log has every request
            timeout_graceful_shutdown=30,
        )
        self._server = _Uvicorn(uv_config)
        try:
            await self._server.serve(sockets=[self.sock])
        finally:
            await self._shutdown()  # a no-op after the lifespan ran it; covers a failed start
            self.sock.close()

    def run(self) -> None:
        asyncio.run(self.serve())

    @property
    def started(self) -> bool:
        return self._server is not None and self._server.started

    def stop(self) -> None:
        """Ask the server to finish (thread-safe): uvicorn drains connections, then the lifespan deregisters."""
        if self._server is not None:
            self._server.should_exit = True
