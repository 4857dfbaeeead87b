"""How a plugin's failure is taken: the state it shows, when it is tried again, and when the log hears of it.

    the error                                      state      tried again
    AuthError, PermissionDenied (401, 403)         failed     after a reload (SIGHUP, `halosyncctl reload`)
    RateLimited with a reset (a used-up quota)     degraded   at the reset the provider reported
    anything else (5xx, timeouts, 400, a bug)      degraded   backoff: sync.retry_base, doubling, at most
                                                              sync.retry_cap (5 s ... 15 min by default)

Nothing here stops anything: the daemon and every other plugin carry on, and the failing plugin's loops (a
source's polls, a sink's mirror refresh and workers) ask ``retry_in`` before trying again. A manual
``halosyncctl sync`` tries at once whatever the backoff says.

The log hears of a failure when the plugin's state or what it waits for changes, then as a reminder at most every
REMIND_EVERY seconds while it lasts, and of the recovery once: an hour-long outage costs a dozen lines, not one
a retry.
"""

from __future__ import annotations

import time

from loguru import logger

from halosync.daemon.api import PluginHealth
from halosync.errors import AuthError, HalosyncError, PermissionDenied, RateLimited

REMIND_EVERY = 300.0


def describe(exc: BaseException) -> str:
    """One line naming what failed: a halosync error's own message, anything else with its type (a bare
    ``TooSlowError`` or a group has an empty or vague ``str``)."""
    if isinstance(exc, HalosyncError):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def failed(health: PluginHealth, plugin: str, exc: BaseException, doing: str, *, base: float = 5.0,
           cap: float = 900.0, now: float | None = None) -> None:
    """Record a failure of ``plugin`` while ``doing`` (e.g. "pull", "writing"), and log it if it is news."""
    now = time.time() if now is None else now
    health.failures += 1
    health.last_error, health.last_error_at = describe(exc), now
    health.error_type = type(exc).__name__
    if isinstance(exc, AuthError | PermissionDenied):
        health.state, health.waiting_for, health.retry_at = "failed", "reload", None
        then = "tried again after a reload (fix the credentials or permissions, then `halosyncctl reload`)"
    elif isinstance(exc, RateLimited) and exc.retry_after is not None:
        health.state, health.waiting_for, health.retry_at = "degraded", "quota reset", now + exc.retry_after
        then = f"tried again when the provider's quota resets, in {exc.retry_after:.3g} s"
    else:
        wait = min(cap, base * 2 ** min(health.failures - 1, 30))
        health.state, health.waiting_for, health.retry_at = "degraded", "backoff", now + wait
        then = f"tried again in {wait:.3g} s (failure {health.failures} in a row)"
    # News is a change of state or of what the plugin waits for, not of the error's class: a 500 turning into the
    # client's "circuit open" is the same outage.
    key = (health.state, health.waiting_for or "")
    if key != health._logged or now - health._logged_at >= REMIND_EVERY:
        still = " still" if key == health._logged else ""
        log = logger.opt(exception=exc) if not isinstance(exc, HalosyncError) else logger
        log.error("{}: {}{} failing: {}; {}", plugin, doing, still, health.last_error, then)
        health._logged, health._logged_at = key, now


def succeeded(health: PluginHealth, plugin: str, *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    if health.failures:
        logger.info("{}: working again after {} failure(s) in a row (last: {})", plugin, health.failures,
                    health.last_error)
    health.state, health.last_success_at = "connected", now
    forget(health)


def forget(health: PluginHealth) -> None:
    """Start afresh (a success, or a reload: the operator may have fixed it)."""
    health.failures, health.retry_at, health.waiting_for, health._logged = 0, None, None, None
