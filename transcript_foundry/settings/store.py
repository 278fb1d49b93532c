"""Effective settings from four layers, each value with the place it came from.

Precedence, highest first: the state database (``transcripts config set``) > the environment
(``TRANSCRIPTS__THERMAL__CPU_THROTTLE_C=82``) > a YAML file (``TRANSCRIPTS_CONFIG``, default
``$TRANSCRIPTS_HOME/config.yaml`` when it exists) > ``transcript_foundry/settings/defaults.yaml`` shipped in the package.
Any layer may carry ``profiles: {<hostname>: {...}}``: on that host the profile's values apply on top of
the layer they sit in (database keys: ``profiles.<hostname>.thermal.cpu_throttle_c``).

Nothing is cached: every ``load()`` reads the file, the environment and the database again, so a sensor
or resource that loads settings on each tick or run picks up a change without a restart (hot reload).
Secret values are stored encrypted (``transcript_foundry/settings/secret_box.py``) and shown masked.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources as package_files
from pathlib import Path
from typing import Any, get_origin

import yaml
from pydantic import ValidationError
from sqlalchemy import Engine, delete, select, update

from transcript_foundry.contract.validation_errors import did_you_mean
from transcript_foundry.settings.environment import project_paths
from transcript_foundry.settings.model import SECRET_KEYS, Settings, known_keys, leaf_annotation
from transcript_foundry.settings.secret_box import SecretBox
from transcript_foundry.settings.where_acts import acts_in
from transcript_foundry.state.state_db import settings_table
from transcript_foundry.text.text_file import TextFileError, read_utf8

CONFIG_FILE_ENV = "TRANSCRIPTS_CONFIG"
ENV_PREFIX = "TRANSCRIPTS__"
MASK = "********"


class SettingsError(ValueError):
    """A setting has a bad key or value; the message names the key, where it came from and the fix."""


@dataclass
class _Layer:
    name: str  # default | yaml:<path> | env | database
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # key -> precise source (env:<VAR>)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # host -> key -> value
    profile_sources: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class EffectiveSettings:
    settings: Settings
    hostname: str
    values: dict[str, Any]  # flat: dotted key -> value
    sources: dict[str, str]  # dotted key -> default | yaml:<path> | env:<VAR> | database (+ profile)
    secret_keys: frozenset[str]

    def display_value(self, key: str) -> Any:
        value = self.values[key]
        return MASK if key in self.secret_keys and value not in ("", None) else value

    def report(self) -> dict[str, dict[str, Any]]:
        """``{key: {"value", "source", "acts"}}`` with secrets masked: what ``config show`` prints; ``acts``
        names the component that reads the key (transcript_foundry/settings/where_acts.py)."""
        return {
            k: {"value": self.display_value(k), "source": self.sources[k], "acts": acts_in(k)}
            for k in sorted(self.values)
        }


def _expected(key: str) -> str:
    annotation = leaf_annotation(key)
    origin = get_origin(annotation)
    if origin is list:
        return "a list (YAML list, or comma-separated text)"
    return {float: "a number", int: "a whole number", bool: "true or false", str: "text"}.get(
        annotation, str(annotation)
    )


def _check_key(key: str, where: str) -> None:
    if key not in known_keys():
        section = key.split(".", 1)[0]
        sections = sorted({k.split(".", 1)[0] for k in known_keys()})
        hint = did_you_mean(key, known_keys()) or (
            f"known keys of {section}: {', '.join(k for k in known_keys() if k.startswith(section + '.'))}. "
            if section in sections
            else f"known sections: {', '.join(sections)}. "
        )
        raise SettingsError(f"{where}: unknown setting {key!r}; {hint}See docs/config.md")


def coerce_text(key: str, raw: str) -> Any:
    """A value typed as text (environment, CLI, database) read as the key's type: text stays text."""
    annotation = leaf_annotation(key)
    if annotation is str:
        return raw
    try:
        return yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        return raw


def _split_profile_key(key: str) -> tuple[str | None, str]:
    if key.startswith("profiles."):
        _, host, rest = key.split(".", 2) if key.count(".") >= 2 else (None, "", "")
        if not rest:
            raise SettingsError(f"{key!r}: a profile key reads profiles.<hostname>.<section>.<key>")
        return host.lower(), rest
    return None, key


def _flatten(tree: Any, where: str) -> dict[str, Any]:
    if tree is None:
        return {}
    if not isinstance(tree, Mapping):
        raise SettingsError(f"{where}: expected a mapping of sections (thermal:, activity:, ...)")
    flat: dict[str, Any] = {}
    for section, body in tree.items():
        if section == "profiles":
            continue
        if not isinstance(body, Mapping):
            raise SettingsError(f"{where}: section {section!r} must be a mapping of keys, got {body!r}")
        for name, value in body.items():
            key = f"{section}.{name}"
            _check_key(key, where)
            flat[key] = value
    return flat


def _tree_layer(name: str, tree: Any) -> _Layer:
    layer = _Layer(name)
    layer.values = _flatten(tree, name)
    layer.sources = dict.fromkeys(layer.values, name)
    profiles = (tree or {}).get("profiles") or {}
    if not isinstance(profiles, Mapping):
        raise SettingsError(
            f"{name}: profiles must map hostnames to overrides, e.g. profiles: {{gpu-a: ...}}"
        )
    for host, body in profiles.items():
        host_key = str(host).lower()
        layer.profiles[host_key] = _flatten(body, f"{name} profiles.{host}")
        layer.profile_sources[host_key] = dict.fromkeys(layer.profiles[host_key], name)
    return layer


def _defaults_layer() -> _Layer:
    text = (
        package_files.files("transcript_foundry.settings")
        .joinpath("defaults.yaml")
        .read_text(encoding="utf-8")
    )
    return _tree_layer("default", yaml.safe_load(text))


def config_file_path() -> Path | None:
    configured = os.environ.get(CONFIG_FILE_ENV)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise SettingsError(f"${CONFIG_FILE_ENV}={configured}: no such file; fix the path or unset it")
        return path
    default = project_paths().home / "config.yaml"
    return default if default.is_file() else None


def _yaml_layer(path: Path | None) -> _Layer:
    if path is None:
        return _Layer("yaml")
    name = f"yaml:{path}"
    try:
        tree = yaml.safe_load(read_utf8(path, "settings file"))
    except TextFileError as exc:
        raise SettingsError(f"{name}: {exc}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{name}: not valid YAML: {exc}") from None
    return _tree_layer(name, tree)


def _add_text(layer: _Layer, key: str, raw: str, source: str) -> None:
    host, plain = _split_profile_key(key)
    _check_key(plain, source)
    value = coerce_text(plain, raw)
    if host is None:
        layer.values[plain], layer.sources[plain] = value, source
    else:
        layer.profiles.setdefault(host, {})[plain] = value
        layer.profile_sources.setdefault(host, {})[plain] = source


def _env_layer(environ: Mapping[str, str]) -> _Layer:
    layer = _Layer("env")
    for var, raw in sorted(environ.items()):
        if var.startswith(ENV_PREFIX) and var != ENV_PREFIX:
            key = ".".join(part.lower() for part in var[len(ENV_PREFIX) :].split("__"))
            _add_text(layer, key, raw, f"env:{var}")
    return layer


class SettingsStore:
    """Reads the effective settings and writes the database layer."""

    def __init__(
        self,
        engine: Engine | None,
        *,
        environ: Mapping[str, str] | None = None,
        config_file: Path | None = None,
        secret_box: SecretBox | None = None,
    ):
        self.engine = engine
        self._environ = environ
        self._config_file = config_file
        self._secret_box = secret_box

    # ---- reading --------------------------------------------------------------------------------------
    @property
    def box(self) -> SecretBox:
        if self._secret_box is None:
            self._secret_box = SecretBox.from_environment()
        return self._secret_box

    def _db_rows(self) -> list[Any]:
        if self.engine is None:
            return []
        with self.engine.connect() as conn:
            return list(conn.execute(select(settings_table).order_by(settings_table.c.key)))

    def _db_layer(self, overlay: tuple[str, str] | None = None) -> tuple[_Layer, set[str]]:
        layer, secrets = _Layer("database"), set()
        for row in self._db_rows():
            if overlay and row.key == overlay[0]:
                continue
            raw = self.box.decrypt(row.value, what=row.key) if row.secret else row.value
            _add_text(layer, row.key, raw, "database")
            if row.secret:
                secrets.add(_split_profile_key(row.key)[1])
        if overlay:
            _add_text(layer, overlay[0], overlay[1], "database (this config set)")
        return layer, secrets

    def _layers(self, overlay: tuple[str, str] | None = None) -> tuple[list[_Layer], set[str]]:
        environ = os.environ if self._environ is None else self._environ
        config_file = self._config_file if self._config_file is not None else config_file_path()
        db_layer, db_secrets = self._db_layer(overlay)
        return [_defaults_layer(), _yaml_layer(config_file), _env_layer(environ), db_layer], db_secrets

    def load(
        self, hostname: str | None = None, *, _overlay: tuple[str, str] | None = None
    ) -> EffectiveSettings:
        layers, db_secrets = self._layers(_overlay)
        return self._resolve(layers, db_secrets, hostname)

    def load_hosts(self, hostnames: list[str | None]) -> dict[str | None, EffectiveSettings]:
        """The settings as each of ``hostnames`` sees them (None: this machine), the layers read once:
        what the pool does at each refresh for its nodes' host profiles."""
        layers, db_secrets = self._layers()
        resolved: dict[str, EffectiveSettings] = {}
        out: dict[str | None, EffectiveSettings] = {}
        for name in hostnames:
            host = (name or socket.gethostname()).lower()
            if host not in resolved:
                resolved[host] = self._resolve(layers, db_secrets, host)
            out[name] = resolved[host]
        return out

    def _resolve(self, layers: list[_Layer], db_secrets: set[str], hostname: str | None) -> EffectiveSettings:
        host = (hostname or socket.gethostname()).lower()
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for layer in layers:
            values.update(layer.values)
            sources.update(layer.sources)
            values.update(layer.profiles.get(host, {}))
            for key, source in layer.profile_sources.get(host, {}).items():
                sources[key] = f"{source} (profile {host})"
        return EffectiveSettings(
            settings=self._validate(values, sources),
            hostname=host,
            values=values,
            sources=sources,
            secret_keys=frozenset(SECRET_KEYS | db_secrets),
        )

    @staticmethod
    def _validate(values: dict[str, Any], sources: dict[str, str]) -> Settings:
        tree: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            section, name = key.split(".", 1)
            tree.setdefault(section, {})[name] = value
        try:
            return Settings.model_validate(tree)
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                loc = [str(p) for p in e["loc"]]
                msg = e["msg"].removeprefix("Value error, ")
                if len(loc) >= 2:
                    key = f"{loc[0]}.{loc[1]}"
                    shown = MASK if key in SECRET_KEYS else repr(values.get(key))
                    problems.append(
                        f"{key} = {shown} (from {sources.get(key, '?')}): {msg}; expected {_expected(key)}"
                    )
                else:
                    section = loc[0] if loc else "settings"
                    origin = sorted(
                        {s for k, s in sources.items() if k.startswith(f"{section}.") and s != "default"}
                    )
                    problems.append(
                        f"{section}: {msg}" + (f" (set in {', '.join(origin)})" if origin else "")
                    )
            raise SettingsError("bad settings:\n  " + "\n  ".join(problems)) from None

    # ---- writing (the database layer) -----------------------------------------------------------------
    def set(self, key: str, raw: str, *, secret: bool = False) -> None:
        """Store ``key`` = ``raw`` (typed as text, read as the key's type) after checking the result."""
        if self.engine is None:
            raise SettingsError("no state database configured: settings cannot be stored")
        host, plain = _split_profile_key(key)
        _check_key(plain, "config set")
        self.load(host, _overlay=(key, raw))  # raises SettingsError naming the key when the value is bad
        stored = self.box.encrypt(raw) if secret else raw
        values = {"value": stored, "secret": int(secret), "updated_at": datetime.now(UTC)}
        with self.engine.begin() as conn:
            found = conn.execute(update(settings_table).where(settings_table.c.key == key).values(**values))
            if not found.rowcount:
                conn.execute(settings_table.insert().values(key=key, **values))

    def unset(self, key: str) -> bool:
        if self.engine is None:
            return False
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(settings_table).where(settings_table.c.key == key)).rowcount)
