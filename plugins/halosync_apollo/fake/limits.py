"""Apollo's fixed-window quotas, per endpoint, per minute, hour and day, as the fake enforces and reports them.

Limits depend on the plan (``PLANS``: Apollo's rate-limit page of July 2026). Windows are fixed and start at the
first request (a minute window opened at t covers [t, t+60), the next opens at the first request after that), not
on the clock. A request that would exceed any window is refused with 429 (with ``retry-after``: seconds to that
window's end) and does not count. Every answer of an authorised request carries the headers; an unlimited window
sends an empty ``x-rate-limit-*`` header; the daily window is spelled ``x-daily-*`` (documented), ``x-24-hour-*``
(seen live) or both.
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
# Per endpoint, per team, by plan (docs.apollo.io/reference/rate-limits, 2026-07-28).
PLANS: dict[str, Limits] = {
    "free": Limits(50, 200, 600),
    "basic": Limits(200, 400, 2000),
    "professional": Limits(200, 400, 2000),
    "organization": Limits(200, 600, 6000),
}


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
    _used: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)  # -> (window start, count)

    def limits_for(self, endpoint: str) -> Limits:
        return self.limits.get(endpoint, self.default)

    def _count(self, endpoint: str, window: str, seconds: float, now: float) -> int:
        stored = self._used.get((endpoint, window))
        return stored[1] if stored and now < stored[0] + seconds else 0

    def take(self, endpoint: str) -> Refusal | None:
        """Count one request, or say which window refuses it (and then count nothing)."""
        now = self.clock()
        limits = self.limits_for(endpoint)
        for window, seconds in WINDOWS:
            limit = limits.of(window)
            if limit is not None and self._count(endpoint, window, seconds, now) >= limit:
                # A window of limit 0 refuses before it ever opened: it resets a whole window from now.
                opened = self._used.get((endpoint, window), (now, 0))[0]
                reset = opened + seconds
                return Refusal(window, limit, max(1, math.ceil(reset - now)))
        for window, seconds in WINDOWS:
            count = self._count(endpoint, window, seconds, now)
            opened = self._used[(endpoint, window)][0] if count else now  # a window opens at its first request
            self._used[(endpoint, window)] = (opened, count + 1)
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
                for names in _spellings(window, self.daily_spelling):
                    out[names[0]] = ""  # what Apollo sends for a window without a limit
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
