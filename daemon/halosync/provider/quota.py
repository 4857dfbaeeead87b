"""Fixed-window quotas that a provider reports in response headers: parse, schedule, forecast.

Providers such as Apollo count requests per endpoint in fixed windows (a minute, an hour, a day) and report, on
every response, each window's limit, usage and requests left. They do not say when a window resets, so a window
is assumed to be aligned to the clock (a minute window resets on the minute, a day window at 00:00 UTC); when that
guess is wrong the provider answers 429 and the caller backs off.

``HeaderQuota`` keeps the last reading of every window of one endpoint and answers three questions:

- ``delay(now)``: how long to wait before the next request so that no window is exhausted (keeping a margin
  for other users of the same key);
- ``windows(now)``: every window as a ``RateWindow`` (limit, used, left, reset, and when the recent pace would
  exhaust it), for ``halosyncctl rate-limits`` and metrics;
- ``observe(headers, now)``: fold in a response's headers; missing or empty headers are tolerated.

Times are UNIX epoch seconds from an injectable clock, so tests can drive a fake provider and its client on the
same virtual time.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import trio

from halosync.contracts import RateWindow

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class WindowHeaders:
    """How one window is spelled in headers. Each tuple lists alternative spellings, first present wins."""

    window: str  # "minute", "hour", "day"
    seconds: float
    limit: Sequence[str]
    used: Sequence[str]
    remaining: Sequence[str]


@dataclass(frozen=True, slots=True)
class WindowReading:
    limit: int | None
    used: int | None
    remaining: int | None

    @property
    def known(self) -> bool:
        return self.limit is not None or self.used is not None or self.remaining is not None


def header_int(headers: Mapping[str, str], names: Sequence[str]) -> int | None:
    """The first of ``names`` present with an integer value; empty or garbled values count as absent."""
    for name in names:
        raw = headers.get(name)
        if raw is None:
            continue
        text = raw.strip().replace(",", "")
        try:
            return int(float(text))
        except ValueError:
            continue
    return None


def parse_window(headers: Mapping[str, str], spec: WindowHeaders) -> WindowReading:
    limit = header_int(headers, spec.limit)
    used = header_int(headers, spec.used)
    remaining = header_int(headers, spec.remaining)
    # Fill in the third value when two are given, so a provider that omits one still schedules correctly.
    if remaining is None and limit is not None and used is not None:
        remaining = max(0, limit - used)
    if used is None and limit is not None and remaining is not None:
        used = max(0, limit - remaining)
    return WindowReading(limit, used, remaining)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return None


def aligned_reset(now: float, seconds: float) -> float:
    """The end of the clock-aligned window of length ``seconds`` that contains ``now``."""
    return (math.floor(now / seconds) + 1) * seconds


@dataclass
class _WindowState:
    spec: WindowHeaders
    reading: WindowReading
    observed_at: float
    reset_at: float
    # Usage seen at the first reading of this window instance, for the pace forecast.
    first_used: int | None
    first_at: float
    sent_since: int = 0  # requests sent since the reading (not yet reflected in headers)
    # (time, usage) of the readings of this window instance within the forecast's span (and one before it).
    samples: deque[tuple[float, int]] = field(default_factory=deque)

    def record(self) -> None:
        if self.reading.used is None:
            return
        self.samples.append((self.observed_at, self.reading.used))
        start = self.observed_at - forecast_span(self.spec.seconds)
        while len(self.samples) > 1 and self.samples[1][0] <= start:
            self.samples.popleft()

    def used_at(self, when: float) -> int | None:
        """Usage as it stood at ``when`` (the newest reading at or before it), or the window's first usage."""
        chosen = self.first_used
        for at, used in self.samples:
            if at > when:
                break
            chosen = used
        return chosen

    def left(self) -> int | None:
        if self.reading.remaining is None:
            return None
        return self.reading.remaining - self.sent_since

    def roll(self, now: float) -> None:
        """Once the window has reset, start the next one empty (until a response says otherwise)."""
        if now < self.reset_at:
            return
        limit = self.reading.limit
        self.reading = WindowReading(limit, 0 if limit is not None else None, limit)
        self.reset_at = aligned_reset(now, self.spec.seconds)
        self.observed_at = self.first_at = now
        self.first_used = self.reading.used
        self.sent_since = 0
        self.samples = deque()


@dataclass
class HeaderQuota:
    """The windows of one endpoint of one provider, as last reported."""

    provider: str
    endpoint: str
    specs: Sequence[WindowHeaders]
    margin: float = 0.02  # share of each window's limit left unused (at least one request once a limit is known)
    clock: Clock | None = None
    skew: float = 0.25  # seconds waited past a computed reset, for clocks that differ a little
    _states: dict[str, _WindowState] = field(default_factory=dict)
    _blocked_until: float = 0.0

    def now(self) -> float:
        return self.clock() if self.clock is not None else time.time()

    def observe(self, headers: Mapping[str, str], now: float | None = None) -> None:
        at = self.now() if now is None else now
        for spec in self.specs:
            reading = parse_window(headers, spec)
            if not reading.known:
                continue
            old = self._states.get(spec.window)
            reset = aligned_reset(at, spec.seconds)
            same_window = old is not None and at < old.reset_at and not _went_down(old.reading, reading)
            if same_window and old is not None:
                # This response's own request is now in ``used``; others may still be on their way.
                pending = max(0, old.sent_since - 1)
                state = _WindowState(spec, reading, at, old.reset_at, old.first_used, old.first_at, pending,
                                     old.samples)
            else:
                state = _WindowState(spec, reading, at, reset, reading.used, at)
            state.record()
            self._states[spec.window] = state

    def note_sent(self, now: float | None = None) -> None:
        """Count a request that is on its way, so concurrent callers do not all take the last slot."""
        at = self.now() if now is None else now
        for state in self._states.values():
            state.roll(at)
            state.sent_since += 1

    def block_for(self, seconds: float, now: float | None = None) -> None:
        """The provider said to wait (``Retry-After``): no request before then."""
        at = self.now() if now is None else now
        self._blocked_until = max(self._blocked_until, at + seconds)

    def _reserve(self, state: _WindowState) -> int:
        """Requests of a window left for other users of the key: at least one, but never the whole window
        (an endpoint allowed one request a minute still gets it)."""
        limit = state.reading.limit
        if limit is None or self.margin <= 0:
            return 0
        return max(0, min(max(1, math.ceil(limit * self.margin)), limit - 1))

    def delay(self, now: float | None = None) -> float:
        """Seconds to wait before the next request may be sent without exhausting a window (0 when free)."""
        at = self.now() if now is None else now
        wait = max(0.0, self._blocked_until - at)
        for state in self._states.values():
            state.roll(at)
            left = state.left()
            if left is not None and left <= self._reserve(state):
                wait = max(wait, state.reset_at - at)
        return wait

    def binding(self, now: float | None = None) -> str | None:
        """The window that holds the next request back, if one does (for log lines)."""
        at = self.now() if now is None else now
        if self._blocked_until > at:
            return "retry-after"
        for state in self._states.values():
            state.roll(at)
            left = state.left()
            if left is not None and left <= self._reserve(state):
                return state.spec.window
        return None

    async def acquire(self) -> float:
        """Sleep until a request may be sent, then count it as sent; returns the seconds waited."""
        waited = 0.0
        # Bounded: each pass waits for a reset or a Retry-After, after which the window is free again.
        for _ in range(len(self.specs) + 2):
            pause = self.delay()
            if pause <= 0:
                break
            await trio.sleep(pause + self.skew)
            waited += pause
        self.note_sent()
        return waited

    def windows(self, now: float | None = None) -> list[RateWindow]:
        at = self.now() if now is None else now
        out = []
        for spec in self.specs:
            state = self._states.get(spec.window)
            if state is None:
                continue
            state.roll(at)
            reading = state.reading
            left = state.left()
            used = None if reading.used is None else reading.used + state.sent_since
            out.append(RateWindow(
                provider=self.provider, window=spec.window, limit=reading.limit, used=used,
                remaining=None if left is None else max(0, left), reset_at=state.reset_at, endpoint=self.endpoint,
                exhausted_at=forecast_exhaustion(state, at),
            ))
        return out


def _went_down(old: WindowReading, new: WindowReading) -> bool:
    """Usage that drops means the provider started a new window earlier than we guessed."""
    return old.used is not None and new.used is not None and new.used < old.used


def forecast_span(seconds: float) -> float:
    """How far back the exhaustion forecast looks for its pace: a minute for a minute window, ten minutes for an
    hour, an hour for a day (a sixth of the window, at least a minute, at most an hour, never more than the window)."""
    return min(max(seconds / 6, 60.0), seconds, 3600.0)


def forecast_exhaustion(state: _WindowState, now: float) -> float | None:
    """When the window runs out at the pace of the last ``forecast_span`` seconds before ``now``, or None if not
    before it resets. The requests of that span are spread over the whole span, even when the window (or the daemon)
    is younger: a first burst of a few requests is not a pace, and the forecast decays as requests stop, so it is
    never in the past (an exhausted window says ``now``) and expires on its own."""
    reading = state.reading
    left = state.left()
    if left is None or reading.used is None or state.first_used is None:
        return None
    if left <= 0:
        return now
    span = forecast_span(state.spec.seconds)
    base = state.used_at(now - span)
    spent = reading.used + state.sent_since - (reading.used if base is None else base)
    if spent <= 0:
        return None
    at = now + left * span / spent
    return at if at < state.reset_at else None
