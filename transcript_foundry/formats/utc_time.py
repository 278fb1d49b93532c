"""A datetime option that must carry a time zone and is kept in UTC (the export formats' base_time)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("base_time needs a time zone (e.g. 2026-01-05T09:00:00Z)")
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(aware_utc)]
