"""Alerting against a real webhook receiver (http.server) and a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from dagster import (
    DagsterInstance,
    SensorResult,
    build_run_status_sensor_context,
    build_sensor_context,
    job,
    op,
)
from sqlalchemy import update

from resources.ledger import Ledger
from sensors.alerting import build_node_health_alerts_sensor, build_run_failure_alerts_sensor
from transcript_foundry.alerts.channels import Alert
from transcript_foundry.alerts.log import AlertLog
from transcript_foundry.hardware.node_telemetry import LiveState
from transcript_foundry.pool.node_controls import NodeControls
from transcript_foundry.pool.node_registry import NodeRegistry
from transcript_foundry.pool.node_spec import NodeSpec
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.store import SettingsStore
from transcript_foundry.state.state_db import node_events, nodes


class Webhook:
    """A Slack-style incoming webhook on 127.0.0.1 that records every JSON body (and can fail on demand)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/x"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def ledger(project_home: Path, webhook: Webhook, mailbox: tuple[Mailbox, int]) -> Ledger:
    ledger = Ledger(url=project_paths().state_url)
    store = SettingsStore(ledger.engine)
    store.set("alerting.slack_webhook_url", webhook.url, secret=True)
    store.set("alerting.email_to", "oncall@example.test, lead@example.test")
    store.set("alerting.smtp_host", "127.0.0.1")
    store.set("alerting.smtp_port", str(mailbox[1]))
    store.set("alerting.webserver_base_url", "http://127.0.0.1:3000")
    return ledger


@op
def explode() -> None:
    raise RuntimeError("the GPU caught fire")


@job
def doomed() -> None:
    explode()


def test_run_failure_goes_to_slack_and_email_once_per_cooldown(
    ledger: Ledger, webhook: Webhook, mailbox: tuple[Mailbox, int]
) -> None:
    instance = DagsterInstance.ephemeral()
    sensor = build_run_failure_alerts_sensor()

    def fail_once() -> None:
        result = doomed.execute_in_process(instance=instance, raise_on_error=False)
        with build_run_status_sensor_context(
            sensor_name="run_failure_alerts",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
            resources={"ledger": ledger},
        ) as context:
            sensor(context.for_run_failure())
        return result.run_id

    run_id = fail_once()
    (body,) = webhook.bodies
    assert body["text"].startswith("*Run failed: doomed*")
    assert run_id in body["text"] and f"http://127.0.0.1:3000/runs/{run_id}" in body["text"]
    box, _ = mailbox
    ((rcpt, message),) = box.messages
    assert rcpt == ["oncall@example.test", "lead@example.test"]
    assert message["Subject"] == "[Transcript Foundry] Run failed: doomed"
    assert "explode" in message.get_payload() and run_id in message.get_payload()

    fail_once()  # the same job again within the cooldown: nothing new
    assert len(webhook.bodies) == 1 and len(box.messages) == 1
    SettingsStore(ledger.engine).set("alerting.cooldown_s", "0")  # hot reload: the next one goes out
    fail_once()
    assert len(webhook.bodies) == 2
    assert "1 repeat(s) suppressed since the last one" in webhook.bodies[1]["text"]


def test_unhealthy_nodes_alert_and_stale_heartbeats_are_recorded(
    ledger: Ledger, webhook: Webhook, mailbox: tuple[Mailbox, int]
) -> None:
    sensor = build_node_health_alerts_sensor(max_heartbeat_age_s=30)
    controls = NodeControls(ledger.engine)
    registry = NodeRegistry(ledger.engine)
    registry.register(
        NodeSpec(id="gpu-a", backend="openai_compatible", url="http://127.0.0.1:9/v1", model="m"), None
    )

    def tick(cursor: str | None) -> SensorResult:
        with build_sensor_context(
            instance=DagsterInstance.ephemeral(), cursor=cursor, resources={"ledger": ledger}
        ) as context:
            return sensor(context)

    controls.record_event("gpu-old", source="operator", to_state="paused", reason="last week")
    with ledger.engine.begin() as conn:  # history from before the sensor's first tick: not alerted
        conn.execute(update(node_events).values(timestamp=datetime.now(UTC) - timedelta(hours=2)))
    quiet = tick(None)
    assert not webhook.bodies and "no new unhealthy node events" in quiet.skip_reason.skip_message
    controls.set("gpu-a", paused=True, reason="CPU 97.0 °C >= cpu_critical_c 95.0", source="thermal_guard")
    controls.set("gpu-a", throttle_factor=0.7, reason="cooling", source="thermal_guard")  # not unhealthy
    paused = tick(quiet.cursor)
    (body,) = webhook.bodies
    assert body["text"].startswith("*Node gpu-a is paused*") and "CPU 97.0 °C" in body["text"]
    assert "alert sent via slack, email" in paused.skip_reason.skip_message
    assert tick(paused.cursor).skip_reason.skip_message.startswith("no new unhealthy")  # cursor moved on

    with ledger.engine.begin() as conn:  # the agent stops heartbeating
        conn.execute(update(nodes).values(heartbeat_at=datetime.now(UTC) - timedelta(minutes=5)))
    stale = tick(paused.cursor)
    assert re.search(r"gpu-a: stale \(no heartbeat for 30\d s \(limit 30 s\)", stale.skip_reason.skip_message)
    assert webhook.bodies[-1]["text"].startswith("*Node gpu-a is stale*")
    assert controls.events("gpu-a")[0]["to_state"] == "stale"
    again = tick(stale.cursor)  # still stale: no second event, no second alert
    assert len(webhook.bodies) == 2 and "stale" not in again.skip_reason.skip_message
    registry.heartbeat("gpu-a", LiveState())
    back = tick(again.cursor)
    assert "gpu-a: heartbeats again" in back.skip_reason.skip_message
    box, _ = mailbox
    assert [m["Subject"] for _, m in box.messages] == [
        "[Transcript Foundry] Node gpu-a is paused",
        "[Transcript Foundry] Node gpu-a is stale",
    ]


def test_delivery_errors_are_reported_not_raised(ledger: Ledger, webhook: Webhook) -> None:
    webhook.status = 500
    settings = SettingsStore(ledger.engine).load().settings.alerting
    outcome = AlertLog(ledger.engine).send(Alert("k", "Test", "body"), settings)
    assert outcome.sent == ["email"] and "slack webhook answered HTTP 500" in outcome.errors[0]
    no_channels = settings.model_copy(update={"slack_webhook_url": "", "email_to": []})
    assert "no channel configured" in str(AlertLog(ledger.engine).send(Alert("k2", "T", "b"), no_channels))
