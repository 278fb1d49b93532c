"""Where alerts go: a Slack incoming webhook (JSON POST) and e-mail over SMTP, configured in ``alerting``."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

from transcript_foundry.settings.model import AlertingSettings

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Alert:
    key: str  # what it is about; repeats of one key within the cooldown are not sent again
    title: str
    text: str


class AlertDeliveryError(RuntimeError):
    """A channel did not take the alert; the message names the channel and what it answered."""


def send_slack(webhook_url: str, alert: Alert) -> None:
    payload = {"text": f"*{alert.title}*\n{alert.text}"}
    try:
        response = httpx.post(webhook_url, json=payload, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise AlertDeliveryError(f"slack webhook: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 300:
        raise AlertDeliveryError(f"slack webhook answered HTTP {response.status_code}: {response.text[:200]}")


def send_email(settings: AlertingSettings, alert: Alert) -> None:
    message = EmailMessage()
    message["Subject"] = f"[Transcript Foundry] {alert.title}"
    message["From"] = settings.email_from
    message["To"] = ", ".join(settings.email_to)
    message.set_content(alert.text)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise AlertDeliveryError(f"e-mail via {where}: {type(exc).__name__}: {exc}") from None


def configured_channels(settings: AlertingSettings) -> list[str]:
    channels = []
    if settings.slack_webhook_url:
        channels.append("slack")
    if settings.email_to and settings.smtp_host:
        channels.append("email")
    return channels
