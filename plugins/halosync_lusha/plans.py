"""Lusha's request quotas per API key, by plan (providers/lusha.md, December 2026): requests per minute, hour, day.

The source shows these as the expected windows (``halosyncctl rate-limits``, basis "plan") until Lusha's own
headers arrive; the fake enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanLimits:
    minute: int | None
    hour: int | None
    day: int | None

    def of(self, window: str) -> int | None:
        value: int | None = getattr(self, window)
        return value


WINDOWS: tuple[tuple[str, float], ...] = (("minute", 60.0), ("hour", 3600.0), ("day", 86400.0))

PLAN_LIMITS: dict[str, PlanLimits] = {
    "pro": PlanLimits(50, 150, 1_500),
    "premium": PlanLimits(300, 1_800, 18_000),
    "scale": PlanLimits(300, 5_000, 50_000),
    "legacy": PlanLimits(300, 600, 6_000),
}
UNLIMITED = PlanLimits(None, None, None)
