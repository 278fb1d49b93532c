"""JWT bearer tokens with roles: minting, checking, and the role each route needs.

Roles are ordered: a viewer reads /v1/models, /v1/node and /metrics; an operator may also call the
completion endpoints (the orchestrator holds an operator token); an admin may also drain and resume
the agent. Tokens are HS256 with a shared secret, or RS256 checked against a public key; the key is
chosen by the token's ``alg`` header and never the other way round, so a public key can never be
used as an HMAC secret.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import jwt

ISSUER = "transcripts-agent"
MIN_SECRET_BYTES = 32
SECRET_ENV = "TRANSCRIPTS_AGENT_JWT_SECRET"


class Role(IntEnum):
    viewer = 1
    operator = 2
    admin = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name]
        except KeyError:
            raise ValueError(f"role {name!r} is not one of {', '.join(r.name for r in cls)}") from None


@dataclass(frozen=True)
class Principal:
    """Who made a request: the token's subject and role (``anonymous``/admin under --no-auth)."""

    subject: str
    role: Role


class AuthError(Exception):
    """A request is refused: 401 (no valid token) or 403 (a valid token whose role is too low)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_TTL = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_TTL_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_ttl(text: str) -> int:
    """``90``, ``15m``, ``12h``, ``30d``, ``2w`` → seconds."""
    match = _TTL.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"--ttl {text!r}: give a positive duration such as 3600, 15m, 12h, 30d or 2w")
    return int(match.group(1)) * _TTL_SECONDS[match.group(2)]


def read_secret(path: Path | None, env_value: str | None) -> str | None:
    """The HS256 secret from a file (first line, stripped) or the environment; None when neither."""
    if path is not None:
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"--jwt-secret-file: cannot read {path}: {exc.strerror}") from exc
        source = f"--jwt-secret-file {path}"
    elif env_value:
        value, source = env_value.strip(), SECRET_ENV
    else:
        return None
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ValueError(
            f"{source}: the secret is {len(value.encode())} bytes; use at least {MIN_SECRET_BYTES} "
            "(`transcripts agent secret FILE` writes a random one)"
        )
    return value


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def mint_token(
    role: Role,
    subject: str,
    ttl_s: int,
    *,
    secret: str | None = None,
    private_key: str | None = None,
) -> str:
    """A signed token: HS256 with ``secret``, or RS256 with a PEM ``private_key``."""
    now = int(time.time())
    claims = {"sub": subject, "role": role.name, "iss": ISSUER, "iat": now, "exp": now + ttl_s}
    if private_key is not None:
        return jwt.encode(claims, private_key, algorithm="RS256")
    if secret is None:
        raise ValueError("minting a token needs the HS256 secret or an RS256 private key")
    return jwt.encode(claims, secret, algorithm="HS256")


class TokenVerifier:
    def __init__(self, *, secret: str | None = None, public_key: str | None = None):
        self._keys = {alg: key for alg, key in (("HS256", secret), ("RS256", public_key)) if key}
        if not self._keys:
            raise ValueError("a token verifier needs an HS256 secret or an RS256 public key")

    def verify(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization: Bearer ...`` header, or AuthError(401)."""
        if not authorization:
            raise AuthError(
                401,
                "missing_token",
                "no bearer token: send 'Authorization: Bearer <token>' (mint one on the agent's machine "
                "with `transcripts agent token --role operator --subject <you>`)",
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(
                401, "malformed_authorization", "the Authorization header must be 'Bearer <token>'"
            )
        token = token.strip()
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError:
            raise AuthError(401, "invalid_token", "the bearer token is not a JWT") from None
        key = self._keys.get(str(alg))
        if key is None:
            raise AuthError(
                401,
                "invalid_token",
                f"the token is signed with {alg}; this agent accepts {', '.join(sorted(self._keys))}",
            )
        try:
            claims = jwt.decode(
                token, key, algorithms=[str(alg)], issuer=ISSUER, options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(
                401,
                "token_expired",
                "the bearer token has expired: mint a new one with `transcripts agent token`",
            ) from None
        except jwt.PyJWTError as exc:
            raise AuthError(
                401, "invalid_token", f"the bearer token is not valid for this agent ({exc})"
            ) from None
        try:
            role = Role.parse(str(claims.get("role")))
        except ValueError as exc:
            raise AuthError(401, "invalid_token", f"the token's {exc}") from None
        return Principal(subject=str(claims["sub"]), role=role)


def require(principal: Principal, needed: Role, what: str) -> None:
    if principal.role < needed:
        raise AuthError(
            403,
            "insufficient_role",
            f"{what} needs the {needed.name} role; the token of {principal.subject!r} has "
            f"{principal.role.name}. Ask the agent's admin for a {needed.name} token",
        )
