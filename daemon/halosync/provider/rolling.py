"""A client-side rolling-window rate limiter for providers that count requests over a sliding window and do not
say how much is left (HaloPSA: "300 Requests per rolling 5 minute window", no rate headers, no Retry-After).

The limiter keeps the time of every request sent in the last ``window`` seconds and makes ``acquire`` wait while
``limit`` of them are in the window. A request is stamped when its answer arrives, not when it leaves: the server
counted it somewhere in between, so a stamp taken at the end never expires before the server's own does.

The instance is shared (other integrations, the PSA's own portal), so the configured budget is a ceiling, not a
promise. A 429 (``throttled``) is a signal that the real budget is smaller right now: the effective limit drops to
what was in the window before the refusal (never below ``floor``, a twentieth of the budget by default: when other
integrations caused the refusal, halosync's own count is no measure of the instance's, and crawling at one
request per window would starve the sync), and grows back by a tenth of the configured limit after every three
full windows without another refusal (additive increase, multiplicative decrease, as TCP does): probing costs
at most one refused request every few windows.

When the provider says what its budget really is (HaloPSA's 429 text names the count and the window),
``rebudget`` replaces both: the requests already stamped stay counted, against the new window.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import trio

from halosync.provider.shared import Reservation, SharedWindow

Clock = Callable[[], float]
RECOVERY_WINDOWS = 3  # clean windows before the effective limit grows again after a 429


@dataclass(frozen=True, slots=True)
class WindowState:
    """The limiter as it stands now. ``reset_in`` is the seconds until the oldest request leaves the window."""

    limit: int  # the configured budget
    effective_limit: int  # what the limiter currently allows (lower after a 429)
    used: int  # requests in the window, answered or in flight
    reset_in: float | None
    throttled: int  # 429s seen since start

    @property
    def remaining(self) -> int:
        return max(0, self.effective_limit - self.used)


class RollingWindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds (trio clock by default; pass ``clock`` to test)."""

    def __init__(self, limit: int, window: float, *, floor: int | None = None, clock: Clock | None = None) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"a rolling window needs limit >= 1 and window > 0, not {limit}/{window}")
        self._floor_asked = floor
        self.limit = limit
        self.window = float(window)
        self.floor = self._floor_for(limit)
        self._clock = clock or trio.current_time
        self._stamps: deque[float] = deque()
        self._in_flight = 0
        self._effective = limit
        self._last_throttle: float | None = None
        self._throttled = 0
        self._changed = trio.Event()  # set (and replaced) whenever a slot may have opened

    # --- the request side ----------------------------------------------------------------------------

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, then count it as in flight. Pair with ``release``."""
        while True:
            now = self._clock()
            self._prune(now)
            if len(self._stamps) + self._in_flight < self._effective:
                self._in_flight += 1
                return
            # Sleep until the oldest stamp leaves the window, or until an answer changes the picture.
            deadline = self._stamps[0] + self.window if self._stamps else math.inf
            with trio.move_on_at(deadline):
                await self._changed.wait()

    def release(self) -> None:
        """The answer to an acquired request arrived (or it failed): stamp it now."""
        self._in_flight = max(0, self._in_flight - 1)
        self._stamps.append(self._clock())
        self._changed.set()
        self._changed = trio.Event()

    def cancel(self) -> None:
        """An acquired slot was not used after all (nothing was sent): give it back without a stamp."""
        self._in_flight = max(0, self._in_flight - 1)
        self._changed.set()
        self._changed = trio.Event()

    def rebudget(self, limit: int, window: float) -> None:
        """The provider named its budget: at most ``limit`` requests in any ``window`` seconds from now on.
        Stamps already taken stay (those older than the new window simply leave it); the effective limit starts
        at the new limit, and a ``throttled`` right after lowers it to what the window really held."""
        if limit < 1 or window <= 0:
            raise ValueError(f"a rolling window needs limit >= 1 and window > 0, not {limit}/{window}")
        self.limit, self.window = limit, float(window)
        self.floor = self._floor_for(limit)
        self._effective = limit
        self._last_throttle = None
        self._changed.set()  # waiters recompute their deadline against the new window
        self._changed = trio.Event()

    def _floor_for(self, limit: int) -> int:
        return max(1, min(limit, self._floor_asked if self._floor_asked is not None else math.ceil(limit / 20)))

    def throttled(self) -> None:
        """The provider answered 429: believe it, and allow no more than what the window held before it."""
        now = self._clock()
        self._prune(now)
        self._throttled += 1
        # The refused request itself is stamped by its release; what preceded it is what the server accepted.
        accepted = len(self._stamps) + self._in_flight - 1
        self._effective = max(self.floor, min(self._effective, accepted))
        self._last_throttle = now

    # --- state ---------------------------------------------------------------------------------------

    def state(self) -> WindowState:
        now = self._clock()
        self._prune(now)
        reset_in = max(0.0, self._stamps[0] + self.window - now) if self._stamps else None
        return WindowState(self.limit, self._effective, len(self._stamps) + self._in_flight, reset_in, self._throttled)

    def _prune(self, now: float) -> None:
        # The same expression as acquire's deadline (stamp + window), so that a wake-up at the deadline always
        # finds the stamp gone: ``stamp <= now - window`` can differ from it by a rounding and spin forever.
        while self._stamps and self._stamps[0] + self.window <= now:
            self._stamps.popleft()
        recovered = self._last_throttle is not None and now - self._last_throttle >= RECOVERY_WINDOWS * self.window
        if self._effective < self.limit and recovered:
            # Windows without a refusal: probe upwards by a tenth of the budget.
            step = max(1, math.ceil(self.limit / 10))
            self._effective = min(self.limit, self._effective + step)
            self._last_throttle = now


class SharedRollingWindowLimiter(RollingWindowLimiter):
    """The same limiter, with every request also counted in a window shared through the store (issue 18): N
    daemons together never exceed the instance's limit, and together may use all of it.

    The local bookkeeping stays (``state``, the 429 arithmetic, what the budget learned); ``acquire`` waits for a
    slot in the shared window only. Answers, cancels, 429s and learned budgets are told to
    the shared window as they happen (sync: the core applies them in the background with the time they happened).
    ``state`` shows the shared figures once the shared window has answered.
    """

    POLL = 0.25  # longest wait between looks at a full shared window (other daemons' cancels free slots early)

    def __init__(self, shared: SharedWindow, limit: int, window: float, *, floor: int | None = None,
                 clock: Clock | None = None) -> None:
        super().__init__(limit, window, floor=floor, clock=clock)
        self.shared = shared
        self._slots: deque[int] = deque()  # reserved shared slots of requests in flight, oldest first
        self._seen: Reservation | None = None
        self.waits = 0  # times a request waited for the shared window

    async def acquire(self) -> None:
        # The shared window is the gate (it counts this daemon's requests too); the local count only follows it,
        # for ``state`` and the 429 arithmetic: a second, local gate would wait again for each slot to reopen.
        while True:
            got = await self.shared.reserve(self.limit, self.window, self.floor)
            self._seen = got
            if (got.limit, got.window) != (self.limit, self.window):  # another daemon learned the budget
                super().rebudget(got.limit, got.window)
            if got.slot is not None:
                self._slots.append(got.slot)
                self._in_flight += 1
                return
            self.waits += 1
            await trio.sleep(max(0.002, min(got.wait, self.POLL)))

    def release(self) -> None:
        super().release()
        if self._slots:
            self.shared.answered(self._slots.popleft())

    def cancel(self) -> None:
        super().cancel()
        if self._slots:
            self.shared.unused(self._slots.pop())

    def throttled(self) -> None:
        super().throttled()
        self.shared.throttled()

    def rebudget(self, limit: int, window: float) -> None:
        super().rebudget(limit, window)
        self.shared.rebudget(limit, window)

    def state(self) -> WindowState:
        local = super().state()
        seen = self._seen
        if seen is None:
            return local
        return WindowState(seen.limit, seen.effective, max(seen.used, local.used), local.reset_in, seen.throttled)
