"""`transcripts config show|set|unset`: the effective settings, where each value came from, and the DB layer."""

from __future__ import annotations

import json
import sys

import click

from transcript_assets.cli.options import fail
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.secret_box import SecretKeyError
from transcript_foundry.settings.store import SettingsError, SettingsStore
from transcript_foundry.state.ledger import RequestLedger


def _store() -> SettingsStore:
    return SettingsStore(RequestLedger(url=project_paths().state_url).engine)


@click.group("config")
def config() -> None:
    """Settings: database > environment (TRANSCRIPTS__SECTION__KEY) > YAML > defaults; see docs/config.md."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="JSON: {key: {value, source, acts}}.")
@click.option("--host", help="Resolve the per-host profile of this hostname (default: this machine).")
def show(as_json: bool, host: str | None) -> None:
    """Print the effective settings, where each value came from and where it acts (secrets masked)."""
    try:
        effective = _store().load(host)
    except (SettingsError, SecretKeyError) as exc:
        fail(str(exc))
        raise
    report = effective.report()
    if as_json:
        click.echo(json.dumps({"hostname": effective.hostname, "settings": report}, indent=2))
        return
    click.echo(f"effective settings for host {effective.hostname} (key, value, source, where it acts):")
    width = max(len(k) for k in report)
    for key, item in report.items():
        click.echo(f"  {key:<{width}}  {json.dumps(item['value']):<24}  {item['source']:<10}  {item['acts']}")


@config.command("set")
@click.argument("key")
@click.argument("value", required=False)
@click.option(
    "--secret",
    is_flag=True,
    help="Store encrypted (Fernet) and show masked. The value is typed at a hidden prompt or piped on "
    "stdin, never given as VALUE (ps would show it). Implied for the secret keys.",
)
def set_value(key: str, value: str | None, secret: bool) -> None:
    """Store KEY = VALUE in the state database (the highest layer); KEY like thermal.cpu_throttle_c or
    profiles.<hostname>.thermal.cpu_throttle_c. Running sensors pick it up on their next tick.

    Secrets (--secret, and always alerting.smtp_password and alerting.slack_webhook_url) are read from a
    hidden prompt, or from stdin when it is not a terminal: printf %s "$PW" | transcripts config set
    alerting.smtp_password."""
    from transcript_foundry.settings.model import SECRET_KEYS

    secret = secret or ".".join(key.split(".")[-2:]) in SECRET_KEYS  # profiles.<host>.<key> too
    if secret and value is not None:
        fail(
            f"config set {key}: a secret is never given on the command line (ps and the shell history show "
            f"it); run `transcripts config set {key}` and type it at the prompt, or pipe it on stdin"
        )
    if value is None:
        if not secret:
            fail(f"config set {key}: give a VALUE (or --secret to be prompted for it)")
        value = _read_secret(key)
    try:
        _store().set(key, value, secret=secret)
    except (SettingsError, SecretKeyError) as exc:
        fail(str(exc))
    click.echo(f"{key} set in the database" + (" (encrypted)" if secret else ""))


def _read_secret(key: str) -> str:
    if sys.stdin.isatty():
        return str(click.prompt(key, hide_input=True, confirmation_prompt=True))
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        fail(f"config set {key}: no value on stdin; pipe the secret in or run it at a terminal")
    return value


@config.command("unset")
@click.argument("key")
def unset(key: str) -> None:
    """Remove KEY from the database layer (the environment, YAML or default value applies again)."""
    removed = _store().unset(key)
    click.echo(f"{key} removed from the database" if removed else f"{key} was not set in the database")
