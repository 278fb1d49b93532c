"""Shared fixtures: a project home per test, the embedded model, Postgres, the domain packs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from transcript_foundry.domains.domain_pack import DomainPack, load_domain_packs

POSTGRES_URL_ENV = "TRANSCRIPTS_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def packs() -> dict[str, DomainPack]:
    return load_domain_packs()


@pytest.fixture(scope="session")
def embedded_model_path() -> Path:
    from transcript_foundry.llm.embedded_model import ensure_embedded_model

    return ensure_embedded_model()


@pytest.fixture
def project_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TRANSCRIPTS_HOME (state DB, store, exports) and DAGSTER_HOME for one test."""
    home = tmp_path / "home"
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True)
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("TRANSCRIPTS_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.delenv("TRANSCRIPTS_STATE_URL", raising=False)
    for var in ("TRANSCRIPTS_NODES_FILE", "TRANSCRIPTS_OPENAI_BASE_URL", "TRANSCRIPTS_OPENAI_MODEL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    """The test Postgres server; skips with instructions when none answers, but fails loudly under CI=true."""
    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from transcript_foundry.state.state_db import normalise_db_url

    try:
        engine = create_engine(normalise_db_url(url))
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except OperationalError as exc:
        message = (
            f"no Postgres answers at {url} ({exc.orig}). Start one (e.g. `pg_ctlcluster 15 main start`) or set "
            f"{POSTGRES_URL_ENV}=postgresql://user@host:port/db to run the Postgres tests."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_url(postgres_base_url: str) -> Iterator[str]:
    """A URL on a schema of its own, dropped afterwards, so tests never see each other's rows."""
    from sqlalchemy import create_engine, text

    from transcript_foundry.state.state_db import normalise_db_url

    schema = f"tf_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_db_url(postgres_base_url))
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    sep = "&" if "?" in postgres_base_url else "?"
    yield f"{postgres_base_url}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'drop schema "{schema}" cascade'))
    admin.dispose()


# --- Loopback LLM servers (tests/support/llm_server.py): one real model server and one fault server per session ---

from tests.support.llm_server import FaultServer, llama_server  # noqa: E402


@pytest.fixture(scope="session")
def llama_server_url(embedded_model_path: Path) -> Iterator[str]:
    """Base URL (http://127.0.0.1:PORT/v1) of llama-cpp-python's server on the embedded model."""
    with llama_server(embedded_model_path) as url:
        yield url


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    """A loopback HTTP server that answers 429/503/400, drops connections, sends garbage or never answers."""
    with FaultServer() as server:
        yield server
