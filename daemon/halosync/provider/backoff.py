"""Retry delays: capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff
And Jitter"): ``uniform(0, min(cap, base * 2**attempt))``. Full jitter spreads retrying clients apart, which is
what a shared rolling-window limit like HaloPSA's needs."""

from __future__ import annotations

import random


def full_jitter(attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None) -> float:
    """Delay before retry number ``attempt`` (0 for the first retry)."""
    ceiling = min(cap, base * (2 ** min(attempt, 32)))
    return (rng or random).uniform(0, ceiling)


def exponential(attempt: int, *, base: float = 1.0, cap: float = 60.0) -> float:
    """The ceiling itself, for schedules that must be predictable (outbox retries shown to operators)."""
    return float(min(cap, base * (2 ** min(attempt, 32))))
