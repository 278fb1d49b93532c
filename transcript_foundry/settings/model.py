"""The typed settings: one pydantic model per section of ``transcript_foundry/settings/defaults.yaml``.

The models hold no defaults of their own: every default lives in the shipped YAML file, so there is one
place to read them. Unknown keys are errors (a misspelt key would otherwise be ignored silently).
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WORK_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _split_list(value: Any) -> Any:
    """``"a, b"`` (an environment variable or a CLI value) reads as ``["a", "b"]``."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


class ThermalSettings(_Section):
    cpu_warm_c: float = Field(gt=0, lt=150)
    gpu_warm_c: float = Field(gt=0, lt=150)
    cpu_throttle_c: float = Field(gt=0, lt=150)
    gpu_throttle_c: float = Field(gt=0, lt=150)
    cpu_critical_c: float = Field(gt=0, lt=150)
    gpu_critical_c: float = Field(gt=0, lt=150)
    recover_below_c: float = Field(gt=0, lt=150)
    throttle_factor: float = Field(gt=0, le=1)
    forecast_horizon_s: float = Field(ge=0, le=3600)
    forecast_min_samples: int = Field(ge=3, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> ThermalSettings:
        if not self.recover_below_c < min(self.cpu_throttle_c, self.gpu_throttle_c):
            raise ValueError(
                f"recover_below_c ({self.recover_below_c}) must be below cpu_throttle_c ({self.cpu_throttle_c}) "
                f"and gpu_throttle_c ({self.gpu_throttle_c}), or a node would flap between states"
            )
        for kind in ("cpu", "gpu"):
            throttle, critical = getattr(self, f"{kind}_throttle_c"), getattr(self, f"{kind}_critical_c")
            warm = getattr(self, f"{kind}_warm_c")
            if warm >= throttle:
                raise ValueError(
                    f"{kind}_warm_c ({warm}) must be below {kind}_throttle_c ({throttle}): the pool's thermal "
                    "headroom falls from 1 at the warm mark to 0 at the throttle limit"
                )
            if critical < throttle:
                raise ValueError(
                    f"{kind}_critical_c ({critical}) must be at least {kind}_throttle_c ({throttle})"
                )
        return self


class ActivitySettings(_Section):
    gaming_gpu_util_pct: float = Field(gt=0, le=100)
    gaming_gpu_memory_mb: int = Field(ge=0)
    work_hours: str
    work_days: list[str]
    work_hours_factor: float = Field(gt=0, le=1)
    idle_after_s: float = Field(gt=0)
    idle_load_per_cpu: float = Field(gt=0)
    idle_extra_shards: int = Field(ge=0, le=100)
    presence_suspends: bool

    _split = field_validator("work_days", mode="before")(_split_list)

    @field_validator("work_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        if value.strip() and not _WORK_HOURS.match(value):
            raise ValueError('expected "HH:MM-HH:MM" in local time, e.g. "09:00-17:00", or "" for none')
        if value.strip():
            a, b, c, d = (int(x) for x in _WORK_HOURS.match(value).groups())  # type: ignore[union-attr]
            if a > 23 or c > 23 or b > 59 or d > 59:
                raise ValueError(f'{value!r} is not a time range of a day; e.g. "09:00-17:00"')
        return value.strip()

    @field_validator("work_days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days = [d.lower()[:3] for d in value]
        bad = [d for d, short in zip(value, days, strict=True) if short not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown weekday(s) {bad}; use {', '.join(WEEKDAYS)}")
        return days

    def work_window(self) -> tuple[time, time] | None:
        match = _WORK_HOURS.match(self.work_hours) if self.work_hours else None
        if not match:
            return None
        a, b, c, d = (int(x) for x in match.groups())
        return time(a, b), time(c, d)


class IntakeSettings(_Section):
    inbox: str
    max_runs_per_tick: int = Field(ge=1, le=1000)
    runs_per_node: int = Field(ge=1, le=100)
    shards_per_request: int = Field(ge=1, le=100)
    max_shard_attempts: int = Field(ge=1, le=20)
    shard_size: int = Field(ge=1, le=10_000)
    budget_factor: float = Field(ge=1)


class QualitySettings(_Section):
    minimum_score: float = Field(ge=0, le=1)
    naturalness_weight: float = Field(ge=0)
    coherence_weight: float = Field(ge=0)
    domain_accuracy_weight: float = Field(ge=0)
    emotional_consistency_weight: float = Field(ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> QualitySettings:
        if sum(self.weights().values()) <= 0:
            raise ValueError("at least one quality weight must be above 0")
        return self

    def weights(self) -> dict[str, float]:
        """The discriminator's dimension weights (``transcript_foundry.quality.gate.DIMENSIONS``)."""
        return {
            "naturalness": self.naturalness_weight,
            "coherence": self.coherence_weight,
            "domain_accuracy": self.domain_accuracy_weight,
            "emotional_consistency": self.emotional_consistency_weight,
        }


class DedupSettings(_Section):
    minhash_threshold: float = Field(gt=0, le=1)
    flow_content_threshold: float = Field(gt=0, le=1)
    semantic_threshold: float = Field(gt=0, le=1)


class PoolSettings(_Section):
    min_concurrency: int = Field(ge=1, le=256)
    max_concurrency: int = Field(ge=1, le=256)

    @model_validator(mode="after")
    def _bounds(self) -> PoolSettings:
        if self.min_concurrency > self.max_concurrency:
            raise ValueError(
                f"min_concurrency ({self.min_concurrency}) must not be above max_concurrency "
                f"({self.max_concurrency})"
            )
        return self


class RetrySettings(_Section):
    max_attempts: int = Field(ge=1, le=20)
    backoff_base_s: float = Field(gt=0, le=600)
    backoff_max_s: float = Field(gt=0, le=3600)
    budget_ratio: float = Field(ge=0, le=1)
    budget_min_retries: int = Field(ge=0)
    budget_window_s: float = Field(gt=0)
    slot_deadline_s: float = Field(gt=0)

    @model_validator(mode="after")
    def _backoff(self) -> RetrySettings:
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError(
                f"backoff_max_s ({self.backoff_max_s}) must be at least backoff_base_s ({self.backoff_base_s})"
            )
        return self


class CircuitBreakerSettings(_Section):
    failure_threshold: int = Field(ge=1)
    failure_rate: float = Field(gt=0, le=1)
    min_calls: int = Field(ge=1)
    window_s: float = Field(gt=0)
    open_s: float = Field(gt=0)
    max_open_s: float = Field(gt=0)

    @model_validator(mode="after")
    def _open(self) -> CircuitBreakerSettings:
        if self.max_open_s < self.open_s:
            raise ValueError(f"max_open_s ({self.max_open_s}) must be at least open_s ({self.open_s})")
        return self


class ScoringSettings(_Section):
    thermal: float = Field(ge=0)
    queue: float = Field(ge=0)
    capability: float = Field(ge=0)
    history: float = Field(ge=0)

    @model_validator(mode="after")
    def _positive(self) -> ScoringSettings:
        if self.thermal + self.queue + self.capability + self.history <= 0:
            raise ValueError("at least one scoring weight must be above 0")
        return self


class AlertingSettings(_Section):
    slack_webhook_url: str
    email_to: list[str]
    email_from: str
    smtp_host: str
    smtp_port: int = Field(ge=1, le=65535)
    smtp_username: str
    smtp_password: str
    smtp_starttls: bool
    cooldown_s: float = Field(ge=0)
    webserver_base_url: str

    _split = field_validator("email_to", mode="before")(_split_list)

    @field_validator("slack_webhook_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL of a Slack incoming webhook, or empty for none")
        return value


_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?]+$")
_STANDING = re.compile(r"^\s*([a-z0-9_\-]+)\s*:\s*([0-9]+)\s*$")


def _cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(
            f"{value!r} is not a cron expression: expected 5 fields (minute hour day month weekday), "
            'e.g. "0 1 * * *" for 01:00 every day'
        )
    return " ".join(fields)


class ScheduleSettings(_Section):
    timezone: str
    top_up_cron: str
    standing_requests: list[str]
    compaction_cron: str
    report_cron: str
    retention_cron: str
    retention_days: float = Field(gt=0)

    _split = field_validator("standing_requests", mode="before")(_split_list)
    _crons = field_validator("top_up_cron", "compaction_cron", "report_cron", "retention_cron")(_cron)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as UTC or Europe/Berlin"
            ) from None
        return value

    @field_validator("standing_requests")
    @classmethod
    def _standing(cls, value: list[str]) -> list[str]:
        for entry in value:
            match = _STANDING.match(entry)
            if not match or int(match.group(2)) < 1:
                raise ValueError(
                    f"standing request {entry!r}: expected DOMAIN:COUNT with a count of at least 1, "
                    'e.g. "healthcare:2000"'
                )
        return [entry.replace(" ", "") for entry in value]

    def standing(self) -> dict[str, int]:
        """Domain -> accepted transcripts to keep (a domain named twice: the larger count)."""
        wanted: dict[str, int] = {}
        for entry in self.standing_requests:
            domain, count = entry.split(":")
            wanted[domain] = max(wanted.get(domain, 0), int(count))
        return wanted


class Settings(_Section):
    thermal: ThermalSettings
    activity: ActivitySettings
    intake: IntakeSettings
    quality: QualitySettings
    dedup: DedupSettings
    scoring: ScoringSettings
    pool: PoolSettings
    retry: RetrySettings
    circuit: CircuitBreakerSettings
    alerting: AlertingSettings
    schedules: ScheduleSettings


# Values never printed in full, wherever they come from.
SECRET_KEYS: frozenset[str] = frozenset({"alerting.slack_webhook_url", "alerting.smtp_password"})


def leaf_annotation(key: str) -> Any:
    """The declared type of a dotted key (``thermal.cpu_throttle_c`` -> float); KeyError when unknown."""
    section, _, name = key.partition(".")
    section_model = Settings.model_fields[section].annotation
    return section_model.model_fields[name].annotation  # type: ignore[union-attr]


def known_keys() -> list[str]:
    keys = []
    for section, field in Settings.model_fields.items():
        keys.extend(f"{section}.{name}" for name in field.annotation.model_fields)  # type: ignore[union-attr]
    return keys
