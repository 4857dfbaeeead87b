"""One function per rule kind: from the sampled history, the current value of every instance of a rule.

An instance is a label set: ``{"provider": "halopsa"}`` for a per-provider rule, ``{}`` for a daemon-wide one.
An instance that has no value now (no traffic in the window, no such source any more) is simply absent: its
alert, if firing, resolves through the usual delay. The functions are pure, so each is easy to test and the
Prometheus rules in contrib/prometheus can mirror them one for one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from halosync.alerts.readings import History, Snapshot
from halosync.config.alert_rules import Rule
from halosync.contracts import RateWindow

Labels = tuple[tuple[str, str], ...]
Values = list[tuple[Labels, float]]
ERROR_CLASSES = ("5xx", "error")


def _window(history: History, rule: Rule) -> tuple[Snapshot, Snapshot] | None:
    now = history.latest
    if now is None:
        return None
    then = history.at_or_before(now.at - rule.window)
    if then is None or then is now:
        return None
    return then, now


def error_rate(rule: Rule, history: History) -> Values:
    pair = _window(history, rule)
    if pair is None:
        return []
    then, now = pair
    out: Values = []
    for provider, counts in sorted(now.requests.items()):
        before = then.requests.get(provider, {})
        total = sum(counts.values()) - sum(before.values())
        failed = sum(counts.get(c, 0.0) - before.get(c, 0.0) for c in ERROR_CLASSES)
        if total > 0 and total >= rule.min_count:
            out.append(((("provider", provider),), 100.0 * failed / total))
    return out


def response_time(rule: Rule, history: History) -> Values:
    """The 95th percentile over the window, interpolated within buckets as Prometheus's histogram_quantile."""
    pair = _window(history, rule)
    if pair is None:
        return []
    then, now = pair
    out: Values = []
    for provider, buckets in sorted(now.latency.items()):
        before = dict(then.latency.get(provider, []))
        delta = [(le, count - before.get(le, 0.0)) for le, count in buckets]
        if delta and delta[-1][1] > 0 and delta[-1][1] >= rule.min_count:
            out.append(((("provider", provider),), quantile(0.95, delta)))
    return out


def quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """``histogram_quantile``: ``buckets`` are (upper bound, cumulative count), ascending, the last one +Inf."""
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):  # above the highest finite bound: Prometheus answers that bound
                return lower_bound
            if count == lower_count:
                return le
            return lower_bound + (le - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = le, count
    return lower_bound


def queue_backlog(rule: Rule, history: History) -> Values:
    now = history.latest
    if now is None or "pending" not in now.queue:
        return []
    return [((), float(now.queue["pending"]))]


def db_connections(rule: Rule, history: History) -> Values:
    now = history.latest
    if now is None or not now.db_pool or now.db_in_use is None:
        return []
    return [((), 100.0 * now.db_in_use / now.db_pool)]


def memory(rule: Rule, history: History) -> Values:
    now = history.latest
    if now is None or now.memory_percent is None:
        return []
    return [((), now.memory_percent)]


def cursor_stalled(rule: Rule, history: History) -> Values:
    now = history.latest
    if now is None:
        return []
    out: Values = []
    for source, status in sorted(now.sources.items()):
        age = status.get("cursor_age_seconds")
        if isinstance(age, int | float):
            out.append(((("source", source),), float(age) / now.sync_interval))
    return out


def source_failing(rule: Rule, history: History) -> Values:
    """Per source: how long its pulls have been failing, by the engine's ``failing_since`` (0 when its last pull
    succeeded)."""
    now = history.latest
    if now is None:
        return []
    out: Values = []
    for source, status in sorted(now.sources.items()):
        since = status.get("failing_since")
        out.append(((("source", source),), max(0.0, now.at - since) if isinstance(since, int | float) else 0.0))
    return out


def duplicates_spike(rule: Rule, history: History) -> Values:
    """Merged duplicates in the window against the baseline's average per window of the same length. Without a
    window's worth of baseline yet (a fresh daemon, whose first sync merges many existing records) no judgement."""
    pair = _window(history, rule)
    if pair is None:
        return []
    then, now = pair
    start = history.at_or_before(then.at - rule.baseline)
    if start is None or then.at - start.at < rule.window:
        return []
    recent = now.totals.get("merged", 0) - then.totals.get("merged", 0)
    if recent < max(rule.min_count, 1):
        return [((), 0.0)]
    before = then.totals.get("merged", 0) - start.totals.get("merged", 0)
    # At least one merge per window as the baseline, so that a quiet history does not divide by zero.
    per_window = max(1.0, before * rule.window / (then.at - start.at))
    return [((), recent / per_window)]


def quota_shortfall(w: RateWindow, now: float) -> float | None:
    """Seconds a quota window is forecast to stay exhausted before it resets, or None when it will last. A stale
    forecast (of a window that has reset by now) is none; one in the past means exhausted now (a plugin's forecast
    that is not recomputed when asked never counts for longer than the window it was about)."""
    if w.exhausted_at is None or w.reset_at is None or w.reset_at <= now:
        return None
    return max(0.0, w.reset_at - max(w.exhausted_at, now))


def rate_limit_exhaustion(rule: Rule, history: History) -> Values:
    """``quota_shortfall`` per provider, window and endpoint; absent when the window will last."""
    now = history.latest
    if now is None:
        return []
    out: dict[Labels, float] = {}
    for w in now.rate_windows:
        gap = quota_shortfall(w, now.at)
        if gap is None:
            continue
        labels: Labels = (("provider", w.provider), ("window", w.window))
        if w.endpoint:
            labels += (("endpoint", w.endpoint),)
        out[labels] = max(out.get(labels, 0.0), gap)
    return sorted(out.items())


def dead_letters_growing(rule: Rule, history: History) -> Values:
    pair = _window(history, rule)
    if pair is None or "dead" not in pair[1].queue:
        return []
    then, now = pair
    return [((), float(now.queue["dead"]) - float(then.queue.get("dead", now.queue["dead"])))]


KINDS: dict[str, Callable[[Rule, History], Values]] = {
    "error_rate": error_rate,
    "response_time": response_time,
    "queue_backlog": queue_backlog,
    "db_connections": db_connections,
    "memory": memory,
    "cursor_stalled": cursor_stalled,
    "duplicates_spike": duplicates_spike,
    "rate_limit_exhaustion": rate_limit_exhaustion,
    "dead_letters_growing": dead_letters_growing,
    "source_failing": source_failing,
}
