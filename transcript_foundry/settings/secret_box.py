"""Secrets at rest: Fernet encryption for settings marked secret (an SMTP password, a webhook URL).

The key comes from ``TRANSCRIPTS_SECRET_KEY`` (a Fernet key: 32 url-safe base64 bytes, e.g. from
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``) or, when that
is unset, from ``$TRANSCRIPTS_HOME/secret.key``, created on first use readable by its owner only (0600).
The state database then holds only ciphertext; whoever has the database but not the key learns nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from transcript_foundry.settings.environment import project_paths

SECRET_KEY_ENV = "TRANSCRIPTS_SECRET_KEY"
KEY_FILE_NAME = "secret.key"


class SecretKeyError(RuntimeError):
    """The secret key is missing, malformed, or not the one the secrets were encrypted with."""


def key_file_path() -> Path:
    return project_paths().home / KEY_FILE_NAME


def _read_or_create_key_file(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


class SecretBox:
    """Encrypts and decrypts setting values with one Fernet key."""

    def __init__(self, key: bytes, origin: str):
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"{origin} is not a valid Fernet key (32 url-safe base64-encoded bytes); generate one with "
                'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from None
        self.origin = origin

    @classmethod
    def from_environment(cls) -> SecretBox:
        env_key = os.environ.get(SECRET_KEY_ENV)
        if env_key:
            return cls(env_key.strip().encode(), f"${SECRET_KEY_ENV}")
        path = key_file_path()
        return cls(_read_or_create_key_file(path), f"key file {path}")

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, *, what: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                f"cannot decrypt the secret setting {what} with the key from {self.origin}: it was encrypted "
                f"with another key. Restore that key (${SECRET_KEY_ENV} or {KEY_FILE_NAME}) or set the "
                f"secret again with `transcripts config set {what} --secret`"
            ) from None
