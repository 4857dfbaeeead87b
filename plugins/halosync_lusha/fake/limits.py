"""The fake's per-key quotas: fixed windows of a minute, an hour and a day, opened at a key's first request.

A request over any window is refused with 429 and Lusha's error shape, and (as Lusha documents) **no
Retry-After**; it does not count. Every answer to a known key carries the nine headers
``x-rate-limit-{minute,hourly,daily}``, ``x-{minute,hourly,daily}-usage`` and ``x-{minute,hourly,daily}-requests-left``.
ASSUMED: windows open at the first request (not on the clock), and refused requests are not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from halosync_lusha.plans import WINDOWS, PlanLimits

HEADER_NAMES = {"minute": "minute", "hour": "hourly", "day": "daily"}


@dataclass
class KeyQuota:
    clock: Callable[[], float]
    plan: PlanLimits
    _used: dict[str, tuple[float, int]] = field(default_factory=dict)  # window -> (opened at, count)

    def _count(self, window: str, seconds: float, now: float) -> int:
        stored = self._used.get(window)
        return stored[1] if stored and now < stored[0] + seconds else 0

    def take(self) -> str | None:
        """Count one request, or name the window that refuses it (and count nothing)."""
        now = self.clock()
        for window, seconds in WINDOWS:
            limit = self.plan.of(window)
            if limit is not None and self._count(window, seconds, now) >= limit:
                return window
        for window, seconds in WINDOWS:
            count = self._count(window, seconds, now)
            opened = self._used[window][0] if count else now
            self._used[window] = (opened, count + 1)
        return None

    def headers(self) -> dict[str, str]:
        now = self.clock()
        out: dict[str, str] = {}
        for window, seconds in WINDOWS:
            limit = self.plan.of(window)
            if limit is None:
                continue
            used = self._count(window, seconds, now)
            name = HEADER_NAMES[window]
            out[f"x-rate-limit-{name}"] = str(limit)
            out[f"x-{name}-usage"] = str(used)
            out[f"x-{name}-requests-left"] = str(max(0, limit - used))
        return out
