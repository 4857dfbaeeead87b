"""Apollo's fixed-window quotas, per endpoint, per minute, hour and day, as the fake enforces and reports them.

Windows are aligned to the injected clock (a minute window covers [k*60, (k+1)*60)). A request that would exceed
any window is refused with 429 and does not count. Every answer of a limited endpoint carries the headers; the
daily window is spelled ``x-daily-*`` (documented), ``x-24-hour-*`` (seen live) or both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

DailySpelling = Literal["daily", "24-hour", "both"]
WINDOWS: tuple[tuple[str, float], ...] = (("minute", 60.0), ("hour", 3600.0), ("day", 86400.0))


@dataclass(frozen=True)
class Limits:
    """Requests allowed per window; None leaves a window unlimited (and unreported)."""

    minute: int | None = 200
    hour: int | None = 600
    day: int | None = 6000

    def of(self, window: str) -> int | None:
        limit: int | None = getattr(self, window)
        return limit


UNLIMITED = Limits(None, None, None)
# Apollo's example plan for contacts/search; benchmarks and big pulls use UNLIMITED.
DEFAULT_LIMITS = Limits()


@dataclass
class Refusal:
    window: str
    limit: int
    retry_after: int


@dataclass
class QuotaBook:
    """Usage per (endpoint, window, window index)."""

    clock: Callable[[], float]
    limits: dict[str, Limits] = field(default_factory=dict)
    default: Limits = DEFAULT_LIMITS
    daily_spelling: DailySpelling = "both"
    _used: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # -> (window index, count)

    def limits_for(self, endpoint: str) -> Limits:
        return self.limits.get(endpoint, self.default)

    def _count(self, endpoint: str, window: str, seconds: float, now: float) -> int:
        index = math.floor(now / seconds)
        stored = self._used.get((endpoint, window))
        return stored[1] if stored and stored[0] == index else 0

    def take(self, endpoint: str) -> Refusal | None:
        """Count one request, or say which window refuses it (and then count nothing)."""
        now = self.clock()
        limits = self.limits_for(endpoint)
        for window, seconds in WINDOWS:
            limit = limits.of(window)
            if limit is not None and self._count(endpoint, window, seconds, now) >= limit:
                reset = (math.floor(now / seconds) + 1) * seconds
                return Refusal(window, limit, max(1, math.ceil(reset - now)))
        for window, seconds in WINDOWS:
            index = math.floor(now / seconds)
            self._used[(endpoint, window)] = (index, self._count(endpoint, window, seconds, now) + 1)
        return None

    def usage(self, endpoint: str, window: str) -> int:
        seconds = dict(WINDOWS)[window]
        return self._count(endpoint, window, seconds, self.clock())

    def reset(self) -> None:
        self._used.clear()

    def headers(self, endpoint: str) -> dict[str, str]:
        now = self.clock()
        limits = self.limits_for(endpoint)
        out: dict[str, str] = {}
        for window, seconds in WINDOWS:
            limit = limits.of(window)
            if limit is None:
                continue
            used = self._count(endpoint, window, seconds, now)
            values = (str(limit), str(used), str(max(0, limit - used)))
            for names in _spellings(window, self.daily_spelling):
                out.update(zip(names, values, strict=True))
        return out


def _spellings(window: str, daily: DailySpelling) -> list[tuple[str, str, str]]:
    if window == "minute":
        return [("x-rate-limit-minute", "x-minute-usage", "x-minute-requests-left")]
    if window == "hour":
        return [("x-rate-limit-hourly", "x-hourly-usage", "x-hourly-requests-left")]
    documented = ("x-rate-limit-daily", "x-daily-usage", "x-daily-requests-left")
    live = ("x-rate-limit-24-hour", "x-24-hour-usage", "x-24-hour-requests-left")
    return {"daily": [documented], "24-hour": [live], "both": [documented, live]}[daily]


def too_many_message(endpoint: str, refusal: Refusal) -> str:
    return (f"The maximum number of api calls allowed for api/v1/{endpoint} is {refusal.limit} times per "
            f"{refusal.window}. Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade.")
