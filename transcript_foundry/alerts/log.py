"""Alert de-duplication: the same alert key is sent at most once per ``alerting.cooldown_s``.

Kept in the state DB (``alert_log``), so separate sensor processes and restarts share it; the repeats
swallowed are counted and reported with the next alert that goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from transcript_foundry.alerts.channels import (
    Alert,
    AlertDeliveryError,
    configured_channels,
    send_email,
    send_slack,
)
from transcript_foundry.settings.model import AlertingSettings
from transcript_foundry.state.state_db import alert_log


@dataclass
class AlertOutcome:
    alert: Alert
    sent: list[str] = field(default_factory=list)  # channels that took it
    errors: list[str] = field(default_factory=list)
    suppressed: bool = False  # within the cooldown of the same key
    no_channel: bool = False

    def __str__(self) -> str:
        if self.no_channel:
            return f"alert not sent (no channel configured: set alerting.slack_webhook_url or smtp): {self.alert.title}"
        if self.suppressed:
            return f"alert suppressed (cooldown): {self.alert.title}"
        errors = f"; failed: {'; '.join(self.errors)}" if self.errors else ""
        return f"alert sent via {', '.join(self.sent) or 'nothing'}{errors}: {self.alert.title}"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class AlertLog:
    def __init__(self, engine: Engine):
        self.engine = engine

    def send(self, alert: Alert, settings: AlertingSettings) -> AlertOutcome:
        outcome = AlertOutcome(alert)
        channels = configured_channels(settings)
        if not channels:
            outcome.no_channel = True
            return outcome
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            row = conn.execute(select(alert_log).where(alert_log.c.alert_key == alert.key)).first()
        if row and (now - _utc(row.last_sent_at)).total_seconds() < settings.cooldown_s:
            with self.engine.begin() as conn:
                conn.execute(
                    update(alert_log)
                    .where(alert_log.c.alert_key == alert.key)
                    .values(suppressed=alert_log.c.suppressed + 1)
                )
            outcome.suppressed = True
            return outcome
        if row and row.suppressed:
            alert = Alert(
                alert.key,
                alert.title,
                f"{alert.text}\n({row.suppressed} repeat(s) suppressed since the last one)",
            )
        senders = {
            "slack": lambda: send_slack(settings.slack_webhook_url, alert),
            "email": lambda: send_email(settings, alert),
        }
        for channel in channels:
            try:
                senders[channel]()
                outcome.sent.append(channel)
            except AlertDeliveryError as exc:
                outcome.errors.append(str(exc))
        if outcome.sent:
            values = {"last_sent_at": now, "suppressed": 0, "last_message": alert.text[:2000]}
            with self.engine.begin() as conn:
                if row:
                    conn.execute(update(alert_log).where(alert_log.c.alert_key == alert.key).values(**values))
                else:
                    conn.execute(alert_log.insert().values(alert_key=alert.key, **values))
        return outcome
