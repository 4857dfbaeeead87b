"""The plugins' own checks (auth, permissions, HaloPSA custom fields, ...) and their rate-limit headroom.

Each source and sink answers ``checks()`` itself (see ``halosync.contracts``); this runs them under a deadline,
names the plugin on every line, and turns a crash inside a plugin into a failed line rather than a traceback.
``rate_limits()`` is read after the checks, since those are what called the provider and saw its quota headers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import trio

from halosync.contracts import CheckResult, RateWindow, Sink, Source
from halosync.errors import HalosyncError

LOW_HEADROOM = 0.10


def _named(plugin: str, result: CheckResult) -> CheckResult:
    if result.name == plugin or result.name.startswith(f"{plugin}."):
        return result
    return replace(result, name=f"{plugin}.{result.name}")


async def plugin_checks(obj: Source | Sink, within: float) -> list[CheckResult]:
    """``obj.checks()`` and the headroom of its quotas; the plugin's objects are closed afterwards."""
    name = obj.name
    try:
        with trio.move_on_after(within):
            try:
                found = [_named(name, r) for r in await obj.checks()]
            except HalosyncError as exc:
                found = [CheckResult(f"{name}.checks", "fail", str(exc), "see the lines above for this plugin")]
            except Exception as exc:  # a plugin bug must not hide the other checks; the line names it
                found = [CheckResult(f"{name}.checks", "fail", f"the plugin's checks crashed: "
                                     f"{type(exc).__name__}: {exc}", f"report it to the {name} plugin's authors")]
            if any("rate_limit" in r.name or "quota" in r.name for r in found):
                return found  # the plugin judged its own quotas
            return [*found, headroom(name, obj.rate_limits())]
        return [CheckResult(f"{name}.checks", "fail", f"no result within {within:g} s",
                            "the provider answers very slowly; see the tcp/tls lines, and try again later")]
    finally:
        with trio.move_on_after(5, shield=True):
            await obj.aclose()


def headroom(plugin: str, windows: Sequence[RateWindow]) -> CheckResult:
    """One line: how much of each quota window is left, warning when one is nearly or completely used."""
    name = f"{plugin}.rate_limits"
    known = [w for w in windows if w.limit and w.remaining is not None]
    if not known:
        return CheckResult(name, "pass", "no quota reported yet (the provider sends none, or was not called)")
    parts, tight = [], []
    for w in known:
        assert w.limit is not None and w.remaining is not None  # filtered above
        label = f"{w.endpoint + ' ' if w.endpoint else ''}{w.window}"
        parts.append(f"{label} {w.remaining}/{w.limit} left")
        if w.remaining / w.limit < LOW_HEADROOM:
            reset = f", resets in {max(0.0, w.reset_at - time.time()):.0f} s" if w.reset_at else ""
            tight.append(f"{label}: {w.remaining} of {w.limit} left{reset}")
    if tight:
        return CheckResult(name, "warn", "; ".join(tight),
                           "requests wait for the window to reset; if this persists, another client shares the "
                           "key (give halosync its own) or lower the request rate (sync.interval, batch sizes)")
    return CheckResult(name, "pass", "; ".join(parts))
