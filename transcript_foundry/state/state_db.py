"""The state database schema (SQLAlchemy Core) and its versioned migrations.

SQLite file by default, Postgres by URL. ``open_state_db(url)`` returns an engine whose schema is at the
latest version: each migration runs once, in order, recorded in ``schema_version``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("request_text", Text, nullable=False),
    Column("spec", JSON, nullable=False),
    Column("count", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("out_dir", Text, nullable=True),
    Column("status", String(16), nullable=False, default="open"),  # open | fulfilled | exhausted
    Column("status_reason", Text, nullable=True),
)

shards = Table(
    "shards",
    metadata,
    Column("shard_key", String(96), primary_key=True),
    Column("request_id", String(64), ForeignKey("requests.request_id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("size", Integer, nullable=False),
)

slots = Table(
    "slots",
    metadata,
    Column("slot_id", String(96), primary_key=True),
    Column("request_id", String(64), ForeignKey("requests.request_id"), nullable=False),
    Column("shard_key", String(96), ForeignKey("shards.shard_key"), nullable=False, index=True),
    Column("slot_index", Integer, nullable=False),
    Column("plan", JSON, nullable=False),
    # planned | generated | passed  (in progress); accepted | rejected_quality | duplicate | failed (terminal)
    Column("state", String(20), nullable=False, default="planned"),
    Column("reason", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("transcript", JSON, nullable=True),
    Column("quality", JSON, nullable=True),
    Column("content_hash", String(64), nullable=True),
    Column("duplicate_of", String(96), nullable=True),
    Column("duplicate_rule", String(16), nullable=True),  # exact | minhash | flow | semantic (migration 3)
    Column(
        "duplicate_similarity", Float, nullable=True
    ),  # the rule's similarity to duplicate_of (migration 3)
    Column("library_seq", Integer, nullable=True),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), onupdate=func.now()),
    # The plan's identifiers said in the raw call and those the scrubber left (migration 10; phi/planted.py).
    Column("planted", JSON, nullable=True),
    Index("ix_slots_request_state", "request_id", "state"),
    Index("ix_slots_state", "state"),
    Index("ix_slots_hash", "content_hash"),
)

performance_samples = Table(
    "performance_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("timestamp", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("throughput_per_sec", Float, nullable=False),
    Column("p50_latency_ms", Float, nullable=False),
    Column("p95_latency_ms", Float, nullable=False),
    Column("error_rate", Float, nullable=False),
    Column("queue_depth", Integer, nullable=False),
    Column("node_id", String(64), nullable=True),
    Column("shard_key", String(96), nullable=True),
)

# ---- nodes (v2): agents that registered and heartbeat, operator/sensor controls, state transitions ------
nodes = Table(
    "nodes",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("source", String(16), nullable=False),  # agent | config | kubernetes
    Column("spec", JSON, nullable=False),  # a NodeSpec as JSON (url, backend, model, context window ...)
    Column("hostname", String(255), nullable=True),
    Column("profile", JSON, nullable=True),  # HardwareProfile (transcript_foundry/hardware/node_telemetry.py)
    Column("live", JSON, nullable=True),  # the latest LiveState
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)

node_controls = Table(
    "node_controls",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("throttle_factor", Float, nullable=False, default=1.0),  # concurrency x this (1.0 = none)
    Column("paused", Integer, nullable=False, default=0),  # 1: route nothing to it
    Column("reason", Text, nullable=True),  # why (names the probe / sensor)
    Column("source", String(64), nullable=True),  # thermal_guard | activity | operator ...
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("weight", Float, nullable=True),  # an operator's score multiplier over nodes.yaml's (v9)
)

node_events = Table(
    "node_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(64), nullable=False, index=True),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("source", String(64), nullable=False),
    Column("from_state", String(32), nullable=True),
    Column("to_state", String(32), nullable=False),
    Column("reason", Text, nullable=True),
)

# ---- thermal telemetry per node, for its cooling curve and forecasts (v9) --------------------------------
thermal_samples = Table(
    "thermal_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(64), nullable=False, index=True),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("load", Float, nullable=False),  # calls in flight
    Column("cpu_temp_c", Float, nullable=True),
    Column("gpu_temp_c", Float, nullable=True),
    Column(
        "cpu_predicted_c", Float, nullable=True
    ),  # the model's forecast for this moment, from the last sample
    Column("gpu_predicted_c", Float, nullable=True),
    Column("cpu_forecast_c", Float, nullable=True),  # forecast horizon_s ahead at this load
    Column("gpu_forecast_c", Float, nullable=True),
    Column("horizon_s", Float, nullable=True),
)

# ---- settings, request sources, alerts (v7) ------------------------------------------------------------
settings_table = Table(
    "settings",
    metadata,
    Column("key", String(255), primary_key=True),  # dotted: thermal.cpu_throttle_c, profiles.<host>.x.y
    Column("value", Text, nullable=False),  # the value as typed; for a secret, its Fernet token
    Column("secret", Integer, nullable=False, default=0),  # 1: value is encrypted, shown masked
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

request_sources = Table(
    "request_sources",
    metadata,
    Column("request_id", String(64), ForeignKey("requests.request_id"), primary_key=True),
    Column("source", String(16), nullable=False),  # cli | inbox | generate | api
    Column("origin", Text, nullable=True),  # the inbox file name, or who submitted it
    Column("submitted_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

# Each sensor's (and the operator's) own restriction of a node; the effective control in node_controls is
# the most restrictive of them (transcript_foundry/pool/node_restrictions.py).
node_restrictions = Table(
    "node_restrictions",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("source", String(64), primary_key=True),  # thermal_guard | activity | operator ...
    Column("state", String(32), nullable=False),  # normal | throttled | paused
    Column("throttle_factor", Float, nullable=False, default=1.0),
    Column("reason", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

alert_log = Table(
    "alert_log",
    metadata,
    Column("alert_key", String(255), primary_key=True),  # what the alert is about (deduplication key)
    Column("last_sent_at", DateTime(timezone=True), nullable=False),
    Column("suppressed", Integer, nullable=False, default=0),  # repeats swallowed by the cooldown since
    Column("last_message", Text, nullable=True),
)

# One row per round of the quality loop of one scored_transcripts run (migration 4).
quality_rounds = Table(
    "quality_rounds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("shard_key", String(96), ForeignKey("shards.shard_key"), nullable=False, index=True),
    Column("request_id", String(64), ForeignKey("requests.request_id"), nullable=False),
    Column("round", Integer, nullable=False),  # 0: first scoring; 1..: after a regeneration with critique
    Column("scored", Integer, nullable=False),  # candidates scored in this round
    Column("passed", Integer, nullable=False),  # of those, passed
    Column("cumulative_passed", Integer, nullable=False),  # passed in this or an earlier round
    Column("shard_scored", Integer, nullable=False),  # transcripts the run scored in round 0
    Column("pass_rate", Float, nullable=False),  # passed / scored
    Column("cumulative_pass_rate", Float, nullable=False),  # cumulative_passed / shard_scored (the yield)
    Column("reasons", JSON, nullable=False),  # failure reason -> count, this round
    Column("judge", JSON, nullable=False),  # judge outcome -> count (ok, unparseable, call_failed, off)
    Column("regenerated_turns", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("final", Boolean, nullable=False, default=False),  # the last round of the run
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("discriminator", String(32)),  # the coherence discriminator's version (v8)
    Column("signals", JSON),  # its mean contribution per signal in this round (v8)
)

TERMINAL_STATES = ("accepted", "rejected_quality", "duplicate", "failed")
IN_PROGRESS_STATES = ("planned", "generated", "passed")


def _v1_initial(conn: Connection) -> None:
    metadata.create_all(conn, tables=[requests, shards, slots, performance_samples])


def _v2_nodes(conn: Connection) -> None:
    metadata.create_all(conn, tables=[nodes, node_controls, node_events])


def _add_missing_columns(conn: Connection, table: Table, names: tuple[str, ...]) -> None:
    """ALTER TABLE ... ADD COLUMN for each named column the table lacks (a fresh v1 table already has them)."""
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    for name in names:
        if name not in present:
            column = table.c[name]
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {kind}'))


def _v3_duplicate_rule(conn: Connection) -> None:
    """Dedup records which rule dropped a duplicate and its similarity (duplicate_of is from v1)."""
    _add_missing_columns(conn, slots, ("duplicate_rule", "duplicate_similarity"))


def _v4_quality_rounds(conn: Connection) -> None:
    metadata.create_all(conn, tables=[quality_rounds])


def _v7_settings_intake_alerts(conn: Connection) -> None:
    metadata.create_all(conn, tables=[settings_table, request_sources, node_restrictions, alert_log])


def _v8_quality_signals(conn: Connection) -> None:
    """Each quality round records the coherence discriminator's version and its signals' contributions."""
    _add_missing_columns(conn, quality_rounds, ("discriminator", "signals"))


def _v9_node_weight_thermal_samples(conn: Connection) -> None:
    """An operator re-weights a node (the node_control job) without editing nodes.yaml; the thermal guard
    keeps each node's temperature and load history for its cooling curve."""
    _add_missing_columns(conn, node_controls, ("weight",))
    metadata.create_all(conn, tables=[thermal_samples])


def _v10_planted(conn: Connection) -> None:
    """Each scrubbed slot records which planted identifiers its raw call said and which survived."""
    _add_missing_columns(conn, slots, ("planted",))


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _v1_initial),
    (2, _v2_nodes),
    (3, _v3_duplicate_rule),
    (4, _v4_quality_rounds),
    (7, _v7_settings_intake_alerts),
    (8, _v8_quality_signals),
    (9, _v9_node_weight_thermal_samples),
    (10, _v10_planted),
]
LATEST_VERSION = MIGRATIONS[-1][0]


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def migrate(engine: Engine) -> int:
    """Apply pending migrations; return the schema version."""
    with engine.begin() as conn:
        metadata.create_all(conn, tables=[schema_version])
        current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
        for version, step in MIGRATIONS:
            if version > current:
                step(conn)
                conn.execute(schema_version.insert().values(version=version))
                current = version
    return current


def normalise_db_url(url: str) -> str:
    """Plain ``postgresql://`` URLs use psycopg2 (installed); SQLAlchemy 2.1 would pick psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def open_state_db(url: str) -> Engine:
    url = normalise_db_url(url)
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return engine
