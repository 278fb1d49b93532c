"""`transcripts agent`: run the node agent; `transcripts agent token` / `secret`: mint tokens, make a secret."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import click

from node_agent.auth import SECRET_ENV, Role, mint_token, new_secret, parse_ttl, read_secret
from node_agent.config import DEFAULT_PORT, DEFAULT_TOKEN_ENV, AgentConfig, AgentConfigError

_file = click.Path(path_type=Path, dir_okay=False)
_existing = click.Path(path_type=Path, dir_okay=False, exists=True)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _read(path: Path | None, option: str) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"{option}: cannot read {path}: {exc.strerror}")
        raise


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option("--node-id", help="This node's id in the pool (default: the hostname).")
@click.option("--advertise-url", help="URL the orchestrator reaches this agent at, ending in /v1.")
@click.option(
    "--model", "model_path", type=_existing, help="GGUF to serve in-process (default: the embedded model)."
)
@click.option(
    "--upstream", "upstream_url", help="A local OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1."
)
@click.option("--upstream-model", help="Model name on the upstream (default: the first it lists).")
@click.option("--upstream-api-key-env", help="Environment variable holding the upstream's API key.")
@click.option(
    "--upstream-structured-output",
    type=click.Choice(["json_schema", "json_object_schema", "json_object", "none"]),
    default="json_schema",
    show_default=True,
    help="How the upstream takes a JSON schema: json_object_schema for llama-cpp-python's server, "
    "json_object for servers without schema support.",
)
@click.option("--model-name", help="Name this agent serves the model under (default: the model's own).")
@click.option("--context-window", default=4096, show_default=True, type=click.IntRange(512))
@click.option("--threads", "n_threads", type=click.IntRange(1), help="CPU threads for in-process llama.cpp.")
@click.option(
    "--prompt-style",
    type=click.Choice(["auto", "completion", "chat_json"]),
    default="auto",
    show_default=True,
    help="How the orchestrator should prompt this node (auto: completion in-process, chat_json upstream).",
)
@click.option(
    "--max-concurrency", type=click.IntRange(1), help="Calls at once (default 1 in-process, 4 upstream)."
)
@click.option(
    "--max-queue", default=16, show_default=True, type=click.IntRange(0), help="Calls that may wait."
)
@click.option(
    "--rate-limit",
    "rate_limit_rps",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Requests per second per client (JWT subject, else IP); 0: no limit.",
)
@click.option("--rate-burst", "rate_limit_burst", default=20, show_default=True, type=click.IntRange(1))
@click.option("--jwt-secret-file", type=_existing, help=f"HS256 secret (or {SECRET_ENV}).")
@click.option(
    "--jwt-public-key", "jwt_public_key_file", type=_existing, help="PEM public key for RS256 tokens."
)
@click.option("--no-auth", is_flag=True, help="No tokens: loopback development only.")
@click.option("--insecure", is_flag=True, help="Allow --no-auth on a non-loopback --host.")
@click.option("--tls-cert", type=_existing, help="PEM certificate: serve HTTPS.")
@click.option("--tls-key", type=_existing, help="PEM private key of --tls-cert.")
@click.option(
    "--token-env",
    default=DEFAULT_TOKEN_ENV,
    show_default=True,
    help="Environment variable the orchestrator keeps this node's operator token in (advertised).",
)
@click.option(
    "--audit-log", type=_file, help="JSON-lines audit log (default: <TRANSCRIPTS_HOME>/agent-audit.jsonl)."
)
@click.option("--state-url", help="State DB to register in (default: the project's, TRANSCRIPTS_STATE_URL).")
@click.option(
    "--no-register", is_flag=True, help="Do not register in the state DB (list the node in nodes.yaml)."
)
@click.option("--heartbeat-s", default=10.0, show_default=True, type=click.FloatRange(0.05))
@click.option("--timeout-s", "upstream_timeout_s", default=600.0, show_default=True, type=click.FloatRange(1))
@click.pass_context
def agent(ctx: click.Context, **options: object) -> None:
    """Serve this machine's model to the pool: OpenAI-compatible API, limits, auth, metrics, registration."""
    if ctx.invoked_subcommand is not None:
        return
    secret_file = options.pop("jwt_secret_file")
    public_key_file = options.pop("jwt_public_key_file")
    no_register = options.pop("no_register")
    try:
        secret = None if options["no_auth"] else read_secret(secret_file, os.environ.get(SECRET_ENV))  # type: ignore[arg-type]
    except ValueError as exc:
        _fail(str(exc))
        raise
    config = AgentConfig(
        **{k: v for k, v in options.items() if v is not None},  # type: ignore[arg-type]
        jwt_secret=secret,
        jwt_public_key=_read(public_key_file, "--jwt-public-key"),  # type: ignore[arg-type]
        register=not no_register,
    )
    try:
        config.check()
    except AgentConfigError as exc:
        _fail(str(exc))
    from node_agent.agent import NodeAgent
    from node_agent.server import AgentServer, AgentStartError

    try:
        server = AgentServer(NodeAgent(config))
    except (OSError, ValueError) as exc:
        _fail(str(exc))
        raise
    backend = "the in-process model" if config.in_process else f"upstream {config.upstream_url}"
    click.echo(
        f"node agent {config.node_id} at {server.url} ({backend}); auth {'OFF' if config.no_auth else 'jwt'}; "
        f"max-concurrency {config.concurrency}, queue {config.max_queue}; "
        f"registry {'off' if no_register else config.state_url or 'the project state DB'}",
        err=True,
    )
    # uvicorn shuts down gracefully on SIGINT / SIGTERM (the lifespan deregisters the node), then raises
    # the signal again for the previous handler: make both a KeyboardInterrupt, which ends here, exit 0.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
    except AgentStartError as exc:
        _fail(str(exc))
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo(f"node agent {config.node_id} stopped", err=True)


@agent.command()
@click.option("--role", type=click.Choice([r.name for r in Role]), required=True)
@click.option("--subject", required=True, help="Who holds the token (e.g. orchestrator, grafana, alice).")
@click.option("--ttl", default="30d", show_default=True, help="Lifetime: 3600, 15m, 12h, 30d, 2w.")
@click.option("--jwt-secret-file", type=_existing, help=f"HS256 secret (or {SECRET_ENV}).")
@click.option("--private-key", "private_key_file", type=_existing, help="PEM private key: an RS256 token.")
def token(
    role: str, subject: str, ttl: str, jwt_secret_file: Path | None, private_key_file: Path | None
) -> None:
    """Print a bearer token for ROLE (viewer, operator, admin) signed with the agent's key."""
    try:
        ttl_s = parse_ttl(ttl)
        private_key = _read(private_key_file, "--private-key")
        secret = None if private_key else read_secret(jwt_secret_file, os.environ.get(SECRET_ENV))
        if private_key is None and secret is None:
            _fail(
                f"give --jwt-secret-file FILE (or set {SECRET_ENV}) or --private-key FILE to sign the token"
            )
        click.echo(mint_token(Role[role], subject, ttl_s, secret=secret, private_key=private_key))
    except ValueError as exc:
        _fail(str(exc))


@agent.command()
@click.argument("path", type=_file)
@click.option("--force", is_flag=True, help="Replace an existing file.")
def secret(path: Path, force: bool) -> None:
    """Write a new random HS256 secret to PATH (mode 600) for --jwt-secret-file."""
    if path.exists() and not force:
        _fail(f"{path} exists: tokens signed with it would stop working; add --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new_secret() + "\n")
    os.chmod(path, 0o600)
    click.echo(f"wrote a new secret to {path}; start the agent with --jwt-secret-file {path}", err=True)
