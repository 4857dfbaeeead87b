"""How many requests a HaloPSA instance admits per rolling window, and where halosync got that from.

HaloPSA sends no rate-limit headers. What it does say is in the text of a 429: hosted instances answer
``Rate Limit Reached - 300 Requests per rolling 5 minute window``, and instances tuned otherwise name their own
count and window (``30 Requests per rolling 10 second window``). Pacing to the count alone while keeping a
5-minute window starves the sync (30 per 300 s against an instance that admits 30 per 10 s is 2 % of the budget),
so both are read from the text.

Each of the two values comes from one of three places, in this order of precedence:

- ``config``: ``requests_per_window`` / ``window_seconds`` set in ``[plugins.halopsa]``: the operator's word wins,
  whatever the instance says (a share of a budget that other integrations use too); a 429 that says otherwise is
  logged once;
- ``learned``: the last 429 text that named a count and a window;
- ``default``: HaloPSA's documented 300 requests per rolling 5 minutes.

A 429 whose text names no budget keeps what halosync has and says so once. Whatever is learned is logged once
per change and shown by ``halosyncctl rate-limits``. Nothing learned is kept across a restart: the first 429
after a start teaches it again, at the cost of that one refused request.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from loguru import logger

from halosync.plugin import RollingWindowLimiter, SharedBudgets, SharedRollingWindowLimiter
from halosync_halopsa.settings import HaloSettings

# "30 Requests per rolling 10 second window", "1 request per rolling hour", "500 requests per 5-minute window",
# "1,000 requests per 60 minutes": a count, "request(s)", per, an optional "rolling", a length and its unit.
_BUDGET = re.compile(
    r"(?P<count>\d[\d,]*)\s*requests?\s+(?:per|every|each|in|/)\s+(?:an?\s+|one\s+|the\s+)?(?:rolling\s+)?"
    r"(?P<length>\d+(?:\.\d+)?)?[\s-]*(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?)\b",
    re.IGNORECASE)
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_budget(text: str) -> tuple[int, float] | None:
    """The ``(requests, window seconds)`` a 429 text names, or None when it names none."""
    match = _BUDGET.search(text or "")
    if match is None:
        return None
    count = int(match["count"].replace(",", ""))
    window = float(match["length"] or 1) * _UNIT_SECONDS[match["unit"][0].lower()]
    return (count, window) if count >= 1 and window > 0 else None


def shared_limiter(settings: HaloSettings, shared: SharedBudgets | None) -> RollingWindowLimiter:
    """The limiter of one HaloPSA instance: on a store shared by several daemons (issue 18), counted together with
    theirs, keyed by the instance's URL, so that they never send more than its limit together; alone, local."""
    if shared is None:
        return RollingWindowLimiter(settings.requests_per_window, settings.window_seconds)
    window = shared.window(f"halopsa:{settings.base_url.rstrip('/')}")
    return SharedRollingWindowLimiter(window, settings.requests_per_window, settings.window_seconds)


@dataclass(frozen=True)
class Basis:
    """Where the limiter's count and window come from: ``config``, ``default`` or ``learned`` (at ``learned_at``,
    UNIX time, from the 429 text ``said``)."""

    limit_from: str
    window_from: str
    learned_at: float | None = None
    said: str = ""

    def describe(self) -> str:
        """One line for ``halosyncctl rate-limits``: ``config``, ``default``, ``learned from a 429 at 2026-12-01
        10:00:03 UTC``, or ``limit config, window learned ...`` when the two differ."""
        def one(origin: str) -> str:
            if origin != "learned" or self.learned_at is None:
                return origin
            return time.strftime("learned from a 429 at %Y-%m-%d %H:%M:%S UTC", time.gmtime(self.learned_at))

        if self.limit_from == self.window_from:
            return one(self.limit_from)
        return f"limit {one(self.limit_from)}, window {one(self.window_from)}"


class Budget:
    """The HaloPSA client's budget: the limiter it paces with, and what a 429 teaches it."""

    def __init__(self, settings: HaloSettings, limiter: RollingWindowLimiter) -> None:
        self.limiter = limiter
        configured = settings.configured_budget()
        self._configured = configured
        self.basis = Basis("config" if "requests_per_window" in configured else "default",
                           "config" if "window_seconds" in configured else "default")
        self._said_unreadable = False
        self._said_overridden: tuple[int, float] | None = None

    def refused(self, text: str) -> None:
        """A 429 answered ``text``: adopt the count and window it names, unless config overrides them."""
        named = parse_budget(text)
        if named is None:
            if not self._said_unreadable:
                self._said_unreadable = True
                logger.warning("halopsa: a 429 answer did not name the instance's limit ({!r}); keeping {} requests "
                               "per {} ({}); set plugins.halopsa.requests_per_window and window_seconds if that "
                               "is wrong", text[:200], self.limiter.limit, f"{self.limiter.window:g} s",
                               self.basis.describe())
            return
        count, window = named
        limit = self.limiter.limit if "requests_per_window" in self._configured else count
        length = self.limiter.window if "window_seconds" in self._configured else window
        if (limit, length) != (count, window) and self._said_overridden != named:
            self._said_overridden = named
            logger.warning("halopsa: the instance says it admits {} requests per {}, but plugins.halopsa sets {} per "
                           "{}; keeping the configured values (remove requests_per_window/window_seconds to follow "
                           "the instance)", count, f"{window:g} s", limit, f"{length:g} s")
        if (limit, length) == (self.limiter.limit, self.limiter.window):
            return
        was = f"{self.limiter.limit} per {self.limiter.window:g} s ({self.basis.describe()})"
        self.limiter.rebudget(limit, length)
        self.basis = Basis("config" if "requests_per_window" in self._configured else "learned",
                           "config" if "window_seconds" in self._configured else "learned",
                           learned_at=time.time(), said=text[:200])
        logger.warning("halopsa: learned the instance's limit from its 429 ({!r}): now at most {} requests per {} "
                       "(was {}); set plugins.halopsa.requests_per_window and window_seconds to override",
                       text[:200], limit, f"{length:g} s", was)
