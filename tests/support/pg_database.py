"""A database of its own on the test Postgres server, created for one test and dropped after it."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url


def connect(url: str, dbname: str | None = None) -> Any:
    """An autocommit psycopg2 connection to the server of ``url`` (to ``dbname`` if given)."""
    parts = make_url(url)
    conn = psycopg2.connect(
        host=parts.host or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
        dbname=dbname or parts.database or "postgres",
    )
    conn.autocommit = True
    return conn


def pg_env(url: str, name: str) -> dict[str, str]:
    """DAGSTER_PG_* (what deploy/dagster.yaml.template reads) for database ``name`` on ``url``'s server."""
    parts = make_url(url)
    return {
        "DAGSTER_PG_HOST": parts.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parts.port or 5432),
        "DAGSTER_PG_USER": parts.username or "postgres",
        "DAGSTER_PG_PASSWORD": parts.password or "",
        "DAGSTER_PG_DB": name,
    }


@contextlib.contextmanager
def fresh_database(base_url: str, prefix: str = "tf_dagster") -> Iterator[str]:
    """The name of a new, empty database on ``base_url``'s server; dropped (connections forced off) after."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = connect(base_url)
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            with admin.cursor() as cur:
                cur.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    finally:
        admin.close()
