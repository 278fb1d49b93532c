"""The agent's JWT auth against the real agent on loopback: 401 without a valid token, 403 for a role
that is too low, each with a JSON error saying what to do; RS256; drain/resume by an admin; the CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from node_agent.auth import Role, TokenVerifier, mint_token, parse_ttl
from node_agent.server import AgentServer
from tests.support.agent_harness import SECRET, GatedUpstream, bearer, proxy_config, running_agent, token
from transcript_assets.cli.main import main

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


@pytest.fixture(scope="module")
def upstream() -> Iterator[GatedUpstream]:
    with GatedUpstream() as server:
        yield server


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="module")
def agent(
    upstream: GatedUpstream, tmp_path_factory: pytest.TempPathFactory, rsa_keys: tuple[str, str]
) -> Iterator[AgentServer]:
    config = proxy_config(upstream.url, tmp_path_factory.mktemp("auth"), jwt_public_key=rsa_keys[1])
    with running_agent(config) as server:
        yield server


def _error(response: httpx.Response) -> dict[str, str]:
    return response.json()["error"]


def test_missing_invalid_and_expired_tokens_get_401_with_what_to_do(agent: AgentServer) -> None:
    url = agent.url
    missing = httpx.post(f"{url}/chat/completions", json=CHAT)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert _error(missing)["code"] == "missing_token"
    assert "transcripts agent token" in _error(missing)["message"]

    cases = {
        "malformed_authorization": {"Authorization": "Basic dXNlcjpwYXNz"},
        "invalid_token": {"Authorization": "Bearer not-a-jwt"},
    }
    for code, headers in cases.items():
        response = httpx.get(f"{url}/models", headers=headers)
        assert response.status_code == 401, code
        assert _error(response)["code"] == code

    wrong_secret = token("admin", secret="another-secret-" + "y" * 40)
    response = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {wrong_secret}"})
    assert response.status_code == 401
    assert "not valid" in _error(response)["message"]

    expired = jwt.encode(
        {"sub": "old", "role": "admin", "iss": "transcripts-agent", "exp": int(time.time()) - 10},
        SECRET,
        algorithm="HS256",
    )
    response = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert _error(response)["code"] == "token_expired"


def test_roles_viewer_reads_operator_generates_admin_drains(
    agent: AgentServer, upstream: GatedUpstream
) -> None:
    url, root = agent.url, agent.url.removesuffix("/v1")
    for role in ("viewer", "operator", "admin"):
        assert httpx.get(f"{url}/models", headers=bearer(role)).status_code == 200, role
        assert httpx.get(f"{url}/node", headers=bearer(role)).status_code == 200, role
        assert httpx.get(f"{root}/metrics", headers=bearer(role)).status_code == 200, role
    assert httpx.get(f"{root}/healthz").status_code == 200  # liveness needs no token

    refused = httpx.post(f"{url}/chat/completions", json=CHAT, headers=bearer("viewer", "grafana"))
    assert refused.status_code == 403
    assert _error(refused)["code"] == "insufficient_role"
    assert "operator" in _error(refused)["message"] and "'grafana'" in _error(refused)["message"]
    assert httpx.post(f"{url}/completions", json={"prompt": "x"}, headers=bearer("viewer")).status_code == 403

    sent = len(upstream.bodies)
    ok = httpx.post(f"{url}/chat/completions", json=CHAT, headers=bearer("operator", "orchestrator"))
    assert ok.status_code == 200, ok.text
    assert ok.json()["choices"][0]["message"]["content"] == "Hello from upstream"
    assert len(upstream.bodies) == sent + 1
    # The client's token stays with the agent; the upstream never sees it.
    assert "authorization" not in {k.lower() for k in upstream.headers[-1]}

    assert httpx.post(f"{url}/admin/drain", headers=bearer("operator")).status_code == 403
    drained = httpx.post(f"{url}/admin/drain", headers=bearer("admin", "alice"))
    assert drained.status_code == 200 and drained.json()["draining"] is True
    try:
        busy = httpx.post(f"{url}/chat/completions", json=CHAT, headers=bearer("operator"))
        assert busy.status_code == 503
        assert _error(busy)["code"] == "draining"
        assert int(busy.headers["retry-after"]) >= 1
        assert httpx.get(f"{root}/healthz").json()["draining"] is True
    finally:
        assert httpx.post(f"{url}/admin/resume", headers=bearer("admin")).status_code == 200
    assert httpx.post(f"{url}/chat/completions", json=CHAT, headers=bearer("operator")).status_code == 200


def test_rs256_tokens_and_no_public_key_as_hmac_secret(agent: AgentServer, rsa_keys: tuple[str, str]) -> None:
    private, public = rsa_keys
    rs = mint_token(Role.operator, "k8s-orchestrator", 600, private_key=private)
    assert jwt.get_unverified_header(rs)["alg"] == "RS256"
    ok = httpx.post(f"{agent.url}/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {rs}"})
    assert ok.status_code == 200

    # Algorithm confusion: an HS256 token whose HMAC key is the (public) RSA key must not pass.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": "mallory", "role": "admin", "iss": "transcripts-agent", "exp": int(time.time()) + 600}
    payload = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(public.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    forged = f"{header}.{payload}.{signature}"
    response = httpx.get(f"{agent.url}/models", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_verifier_rejects_an_unknown_role_and_a_token_without_subject() -> None:
    verifier = TokenVerifier(secret=SECRET)
    no_sub = jwt.encode({"role": "admin", "iss": "transcripts-agent", "exp": int(time.time()) + 60}, SECRET)
    bad_role = jwt.encode(
        {"sub": "x", "role": "root", "iss": "transcripts-agent", "exp": int(time.time()) + 60}, SECRET
    )
    for bad in (no_sub, bad_role):
        with pytest.raises(Exception) as info:
            verifier.verify(f"Bearer {bad}")
        assert getattr(info.value, "status", None) == 401
    assert parse_ttl("30d") == 30 * 86400 and parse_ttl("15m") == 900 and parse_ttl("90") == 90
    with pytest.raises(ValueError, match="--ttl"):
        parse_ttl("soon")


def test_cli_secret_and_token_mint_a_verifiable_token(tmp_path: Path) -> None:
    runner = CliRunner()
    secret_file = tmp_path / "agent.secret"
    made = runner.invoke(main, ["agent", "secret", str(secret_file)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    again = runner.invoke(main, ["agent", "secret", str(secret_file)])
    assert again.exit_code == 2 and "--force" in again.output

    minted = runner.invoke(
        main,
        [
            "agent",
            "token",
            "--role",
            "operator",
            "--subject",
            "orchestrator",
            "--ttl",
            "2h",
            "--jwt-secret-file",
            str(secret_file),
        ],
    )
    assert minted.exit_code == 0, minted.output
    principal = TokenVerifier(secret=secret_file.read_text().strip()).verify(
        f"Bearer {minted.output.strip()}"
    )
    assert (principal.subject, principal.role) == ("orchestrator", Role.operator)
    claims = jwt.decode(minted.output.strip(), options={"verify_signature": False})
    assert 7100 <= claims["exp"] - claims["iat"] <= 7200

    short = tmp_path / "short.secret"
    short.write_text("too-short")
    refused = runner.invoke(
        main, ["agent", "token", "--role", "admin", "--subject", "a", "--jwt-secret-file", str(short)]
    )
    assert refused.exit_code == 2 and "at least 32" in refused.output


def test_cli_refuses_unsafe_or_incomplete_setups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRANSCRIPTS_AGENT_JWT_SECRET", raising=False)
    runner = CliRunner()
    open_to_all = runner.invoke(main, ["agent", "--no-auth", "--host", "0.0.0.0", "--no-register"])
    assert open_to_all.exit_code == 2 and "--insecure" in open_to_all.output
    no_key = runner.invoke(main, ["agent", "--no-register"])
    assert no_key.exit_code == 2 and "--jwt-secret-file" in no_key.output
    both = runner.invoke(
        main, ["agent", "--no-auth", "--upstream", "http://127.0.0.1:1/v1", "--model", __file__]
    )
    assert both.exit_code == 2 and "exclude each other" in both.output
    bad_url = runner.invoke(main, ["agent", "--no-auth", "--upstream", "http://127.0.0.1:8080"])
    assert bad_url.exit_code == 2 and "/v1" in bad_url.output
    parallel = runner.invoke(main, ["agent", "--no-auth", "--max-concurrency", "2"])
    assert parallel.exit_code == 2 and "one call at a time" in parallel.output
    cert = tmp_path / "x.crt"
    cert.write_text("not a certificate")
    bad_tls = runner.invoke(main, ["agent", "--no-auth", "--tls-cert", str(cert), "--tls-key", str(cert)])
    assert bad_tls.exit_code == 2 and "--tls-cert" in bad_tls.output
