"""AgentConfig: everything `transcripts agent` was told, checked once before anything starts."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from transcript_foundry.pool.node_spec import StructuredOutput

DEFAULT_PORT = 8765
DEFAULT_TOKEN_ENV = "TRANSCRIPTS_AGENT_TOKEN"


class AgentConfigError(ValueError):
    """The agent's options do not fit together. The message names the option and the fix."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class AgentConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port (tests)
    node_id: str = field(default_factory=socket.gethostname)
    advertise_url: str | None = None  # the URL the orchestrator reaches this agent at, ending in /v1
    # The backend behind the agent: a GGUF in-process (model_path None = the embedded model) or a server.
    model_path: Path | None = None
    upstream_url: str | None = None
    upstream_model: str | None = None  # the model name the upstream serves (default: its first /v1/models)
    upstream_api_key_env: str | None = None
    upstream_timeout_s: float = 600.0
    upstream_structured_output: StructuredOutput = "json_schema"  # how the upstream takes a JSON schema
    model_name: str | None = None  # the name this agent serves the model under
    context_window: int = 4096
    n_threads: int | None = None
    prompt_style: str = "auto"  # what the orchestrator should use: completion | chat_json | auto
    # Admission and limits.
    max_concurrency: int | None = None  # None: 1 in-process, 4 in front of a server
    max_queue: int = 16
    rate_limit_rps: float = 5.0  # per client; 0 = no rate limit
    rate_limit_burst: int = 20
    # Auth and transport.
    jwt_secret: str | None = None
    jwt_public_key: str | None = None  # PEM, for RS256 tokens
    no_auth: bool = False
    insecure: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    token_env: str = DEFAULT_TOKEN_ENV  # where the orchestrator keeps its operator token for this node
    # Observability and registration.
    audit_log: Path | None = None
    state_url: str | None = None
    register: bool = True
    heartbeat_s: float = 10.0

    @property
    def in_process(self) -> bool:
        return self.upstream_url is None

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def concurrency(self) -> int:
        if self.max_concurrency is not None:
            return self.max_concurrency
        return 1 if self.in_process else 4

    def check(self) -> None:
        """Raise AgentConfigError naming the first option that is wrong."""
        if self.model_path is not None and self.upstream_url is not None:
            raise AgentConfigError(
                "--model and --upstream exclude each other: the agent serves either a GGUF in-process "
                "or a local server"
            )
        if self.model_path is not None and not self.model_path.is_file():
            raise AgentConfigError(f"--model: {self.model_path} is not a file (give the path of a .gguf)")
        if self.upstream_url is not None and not self.upstream_url.rstrip("/").endswith("/v1"):
            raise AgentConfigError(
                f"--upstream: {self.upstream_url!r} should be the server's base URL ending in /v1, "
                "e.g. http://127.0.0.1:8080/v1 (llama-server) or http://127.0.0.1:11434/v1 (Ollama)"
            )
        if self.advertise_url is not None and not self.advertise_url.rstrip("/").endswith("/v1"):
            raise AgentConfigError(
                f"--advertise-url: {self.advertise_url!r} should end in /v1, e.g. https://gpu-box:8765/v1"
            )
        if self.in_process and self.max_concurrency not in (None, 1):
            raise AgentConfigError(
                "--max-concurrency: an in-process llama.cpp model runs one call at a time; use 1, or put "
                "llama-server (--parallel N) behind the agent with --upstream"
            )
        if self.concurrency < 1:
            raise AgentConfigError("--max-concurrency must be at least 1")
        if self.max_queue < 0:
            raise AgentConfigError("--max-queue must be 0 or more")
        if self.rate_limit_rps < 0 or self.rate_limit_burst < 1:
            raise AgentConfigError("--rate-limit must be 0 (off) or more, and --rate-burst at least 1")
        if self.heartbeat_s <= 0:
            raise AgentConfigError("--heartbeat-s must be more than 0")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise AgentConfigError(
                "--tls-cert and --tls-key go together (the certificate and its private key)"
            )
        for name, path in (("--tls-cert", self.tls_cert), ("--tls-key", self.tls_key)):
            if path is not None and not path.is_file():
                raise AgentConfigError(f"{name}: {path} is not a file")
        if self.tls_cert and self.tls_key:
            try:
                ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(self.tls_cert, self.tls_key)
            except ssl.SSLError as exc:
                raise AgentConfigError(
                    f"--tls-cert/--tls-key: {self.tls_cert} and {self.tls_key} are not a PEM certificate and "
                    f"its private key ({exc.reason or exc})"
                ) from None
        if self.no_auth:
            if not is_loopback(self.host) and not self.insecure:
                raise AgentConfigError(
                    f"--no-auth with --host {self.host}: anyone on the network could use this machine. "
                    "Bind 127.0.0.1 for development, give --jwt-secret-file, or add --insecure if you "
                    "really mean it"
                )
        elif not self.jwt_secret and not self.jwt_public_key:
            raise AgentConfigError(
                "no token key: give --jwt-secret-file FILE (or set TRANSCRIPTS_AGENT_JWT_SECRET), or "
                "--jwt-public-key FILE for RS256 tokens; `transcripts agent secret FILE` writes a new secret. "
                "For development on 127.0.0.1 only, --no-auth"
            )
