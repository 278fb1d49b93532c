"""Settings: precedence, per-host profiles, hot reload, secrets encrypted at rest, `config show`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from transcript_assets.cli.main import main
from transcript_foundry.settings.secret_box import SECRET_KEY_ENV, SecretBox, SecretKeyError
from transcript_foundry.settings.store import CONFIG_FILE_ENV, SettingsError, SettingsStore
from transcript_foundry.state.state_db import open_state_db, settings_table


@pytest.fixture
def config_file(project_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = project_home / "site.yaml"
    path.write_text(
        "thermal:\n  cpu_throttle_c: 78\n  gpu_throttle_c: 84\n"
        "intake:\n  max_runs_per_tick: 2\n"
        "profiles:\n  gamer-pc:\n    thermal:\n      throttle_factor: 0.5\n    activity:\n      work_hours: ''\n"
    )
    monkeypatch.setenv(CONFIG_FILE_ENV, str(path))
    return path


def store_for(url: str) -> SettingsStore:
    return SettingsStore(open_state_db(url))


def test_defaults_come_from_the_shipped_yaml(project_home: Path) -> None:
    effective = SettingsStore(None).load("any-host")
    assert effective.settings.thermal.cpu_throttle_c == 80
    assert effective.settings.thermal.recover_below_c == 75
    assert effective.settings.thermal.throttle_factor == 0.7
    assert effective.settings.scoring.thermal == 0.4 and effective.settings.quality.minimum_score == 0.85
    assert set(effective.sources.values()) == {"default"}


def test_precedence_database_over_env_over_yaml_over_defaults(
    project_home: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_for(f"sqlite:///{project_home / 'state.db'}")
    monkeypatch.setenv("TRANSCRIPTS__THERMAL__GPU_THROTTLE_C", "86")
    monkeypatch.setenv("TRANSCRIPTS__INTAKE__MAX_RUNS_PER_TICK", "3")
    store.set("intake.max_runs_per_tick", "7")
    effective = store.load("plain-host")
    values = effective.settings
    assert values.thermal.cpu_throttle_c == 78  # yaml beats default
    assert values.thermal.gpu_throttle_c == 86  # env beats yaml
    assert values.intake.max_runs_per_tick == 7  # database beats env
    assert effective.sources["thermal.cpu_throttle_c"] == f"yaml:{config_file}"
    assert effective.sources["thermal.gpu_throttle_c"] == "env:TRANSCRIPTS__THERMAL__GPU_THROTTLE_C"
    assert effective.sources["intake.max_runs_per_tick"] == "database"
    assert effective.sources["thermal.recover_below_c"] == "default"
    store.unset("intake.max_runs_per_tick")
    assert store.load("plain-host").settings.intake.max_runs_per_tick == 3


def test_per_host_profile(project_home: Path, config_file: Path) -> None:
    store = store_for(f"sqlite:///{project_home / 'state.db'}")
    gamer = store.load("Gamer-PC")  # hostnames match case-insensitively
    assert gamer.settings.thermal.throttle_factor == 0.5
    assert gamer.settings.activity.work_hours == ""
    assert gamer.sources["thermal.throttle_factor"] == f"yaml:{config_file} (profile gamer-pc)"
    assert store.load("office-pc").settings.thermal.throttle_factor == 0.7
    store.set("profiles.office-pc.intake.runs_per_node", "3")
    assert store.load("office-pc").settings.intake.runs_per_node == 3
    assert store.load("gamer-pc").settings.intake.runs_per_node == 1


def test_hot_reload_without_restart(project_home: Path, config_file: Path) -> None:
    store = store_for(f"sqlite:///{project_home / 'state.db'}")
    assert store.load().settings.intake.max_runs_per_tick == 2
    config_file.write_text(config_file.read_text().replace("max_runs_per_tick: 2", "max_runs_per_tick: 5"))
    assert store.load().settings.intake.max_runs_per_tick == 5  # the same store object, re-read
    other = store_for(f"sqlite:///{project_home / 'state.db'}")  # e.g. the CLI in another process
    other.set("intake.max_runs_per_tick", "9")
    assert store.load().settings.intake.max_runs_per_tick == 9


def test_bad_values_name_the_key_the_source_and_the_type(
    project_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_for(f"sqlite:///{project_home / 'state.db'}")
    monkeypatch.setenv("TRANSCRIPTS__THERMAL__CPU_THROTTLE_C", "hot")
    with pytest.raises(SettingsError) as err:
        store.load()
    assert "thermal.cpu_throttle_c = 'hot' (from env:TRANSCRIPTS__THERMAL__CPU_THROTTLE_C)" in str(err.value)
    assert "expected a number" in str(err.value)
    monkeypatch.delenv("TRANSCRIPTS__THERMAL__CPU_THROTTLE_C")
    monkeypatch.setenv("TRANSCRIPTS__THERMAL__CPU_THROTLE_C", "82")
    with pytest.raises(SettingsError, match=r"did you mean 'thermal\.cpu_throttle_c'"):
        store.load()
    monkeypatch.delenv("TRANSCRIPTS__THERMAL__CPU_THROTLE_C")
    with pytest.raises(SettingsError, match=r"recover_below_c .* must be below"):
        store.set("thermal.recover_below_c", "90")
    with pytest.raises(SettingsError, match=r"intake.max_runs_per_tick = 'many'.*expected a whole number"):
        store.set("intake.max_runs_per_tick", "many")
    assert store.load().settings.intake.max_runs_per_tick == 4  # nothing bad was stored


def _secret_at_rest(url: str, project_home: Path) -> None:
    store = store_for(url)
    store.set("alerting.smtp_password", "correct horse battery", secret=True)
    store.set("alerting.smtp_username", "mailer")
    with store.engine.connect() as conn:
        rows = {r.key: r for r in conn.execute(select(settings_table))}
    assert "correct horse" not in rows["alerting.smtp_password"].value
    assert rows["alerting.smtp_password"].secret == 1
    effective = store.load()
    assert effective.settings.alerting.smtp_password == "correct horse battery"
    assert effective.report()["alerting.smtp_password"] == {
        "value": "********",
        "source": "database",
        "acts": "e-mail route: sensors/alerting.py each tick",
    }
    assert effective.report()["alerting.smtp_username"]["value"] == "mailer"
    key_file = project_home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    wrong = SettingsStore(store.engine, secret_box=SecretBox(Fernet.generate_key(), "test key"))
    with pytest.raises(SecretKeyError, match="encrypted with another key"):
        wrong.load()


def test_secrets_encrypted_at_rest_sqlite(project_home: Path) -> None:
    _secret_at_rest(f"sqlite:///{project_home / 'state.db'}", project_home)


@pytest.mark.postgres
def test_secrets_encrypted_at_rest_postgres(project_home: Path, postgres_url: str) -> None:
    _secret_at_rest(postgres_url, project_home)
    store = store_for(postgres_url)
    store.set("thermal.cpu_throttle_c", "81")
    assert store.load().sources["thermal.cpu_throttle_c"] == "database"


def test_secret_key_from_env(project_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    store = store_for(f"sqlite:///{project_home / 'state.db'}")
    store.set("alerting.slack_webhook_url", "https://hooks.example/T1", secret=True)
    assert store.load().settings.alerting.slack_webhook_url == "https://hooks.example/T1"
    assert not (project_home / "secret.key").exists()
    monkeypatch.setenv(SECRET_KEY_ENV, "not-a-key")
    with pytest.raises(SecretKeyError, match="not a valid Fernet key"):
        store_for(f"sqlite:///{project_home / 'state.db'}").load()


def test_config_show_and_set_commands(project_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSCRIPTS__ACTIVITY__WORK_HOURS", "08:30-16:30")
    runner = CliRunner()
    assert runner.invoke(main, ["config", "set", "alerting.smtp_password"], input="s3cret\n").exit_code == 0
    assert runner.invoke(main, ["config", "set", "thermal.cpu_throttle_c", "83"]).exit_code == 0
    shown = runner.invoke(main, ["config", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output)["settings"]
    assert {k: report["thermal.cpu_throttle_c"][k] for k in ("value", "source")} == {
        "value": 83,
        "source": "database",
    }
    assert "sensors/thermal_guard.py" in report["thermal.cpu_throttle_c"]["acts"]
    assert report["activity.work_hours"] == {
        "value": "08:30-16:30",
        "source": "env:TRANSCRIPTS__ACTIVITY__WORK_HOURS",
        "acts": "work-hours throttle: sensors/activity.py each tick",
    }
    assert report["alerting.smtp_password"]["value"] == "********"
    assert "s3cret" not in shown.output
    text = runner.invoke(main, ["config", "show"]).output
    assert "thermal.recover_below_c" in text and "default" in text
    bad = runner.invoke(main, ["config", "set", "thermal.nope", "1"])
    assert bad.exit_code == 2 and "unknown setting 'thermal.nope'" in bad.output
