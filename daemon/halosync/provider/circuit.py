"""A circuit breaker per provider instance: stop calling a provider that keeps failing, and try again later.

    closed ──(``threshold`` failures in a row)──▶ open ──(``cooldown`` elapsed)──▶ half-open
      ▲                                              ▲                              │ one trial call
      └────────────────(trial succeeds)──────────────┴──────(trial fails; cooldown doubles, capped)

Only failures that say the provider is unwell count (connect errors, timeouts, 5xx). Any other answer, a 4xx
or a 429 included, shows the provider is up and counts as a success: a 4xx is the caller's problem and a 429 the
rate limiter's, and neither should stop the calls. While open, ``check`` raises at once with a
message that says when the next attempt happens, so a daemon does not spend its retries on a dead instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import trio

from halosync.errors import TransientProviderError

CircuitState = Literal["closed", "open", "half-open"]


class CircuitOpen(TransientProviderError):
    """Raised instead of calling a provider whose circuit is open."""


class CircuitBreaker:
    def __init__(
        self,
        provider: str,
        *,
        threshold: int = 5,
        cooldown: float = 30.0,
        max_cooldown: float = 300.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.provider = provider
        self.threshold = max(1, threshold)
        self.base_cooldown = cooldown
        self.max_cooldown = max(cooldown, max_cooldown)
        self._clock = clock or trio.current_time
        self._failures = 0
        self._cooldown = cooldown
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self.last_failure: str = ""

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return "closed"
        return "half-open" if self._clock() - self._opened_at >= self._cooldown else "open"

    def cooldown_left(self) -> float:
        """Seconds until the next trial call (0 when closed or due)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self._cooldown - self._clock())

    def check(self) -> None:
        """Call before each request: raises ``CircuitOpen`` when the provider must not be called now."""
        state = self.state
        if state == "closed":
            return
        if state == "half-open" and not self._trial_in_flight:
            self._trial_in_flight = True  # exactly one trial call; the others wait for its verdict
            return
        wait = self.cooldown_left()
        raise CircuitOpen(
            self.provider,
            f"not called: {self._failures} requests in a row failed (last: {self.last_failure}); "
            f"the next attempt is in {wait:.0f} s. Check the instance's status and the network",
        )

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False
        self._cooldown = self.base_cooldown

    def abandon(self) -> None:
        """The call was cancelled before any answer: no verdict, but a trial call must not hold its place."""
        self._trial_in_flight = False

    def failure(self, reason: str) -> None:
        self._failures += 1
        self.last_failure = reason
        if self._trial_in_flight:  # the trial failed: stay open, and wait longer next time
            self._trial_in_flight = False
            self._cooldown = min(self.max_cooldown, self._cooldown * 2)
            self._opened_at = self._clock()
        elif self._opened_at is None and self._failures >= self.threshold:
            self._opened_at = self._clock()
