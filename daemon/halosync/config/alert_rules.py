"""The built-in alert rules and how ``[alerts.rules.NAME]`` changes them.

Every rule has the same shape: a value per instance (per provider, per source, or one for the daemon) that fires when
it stays above ``threshold`` for ``for`` seconds. ``warning`` adds a lower threshold that fires at severity warning
first. An alert resolves when the value has stayed at or below its clear threshold (``clear_threshold``, by default
``alerts.hysteresis`` percent under the threshold) for ``resolve_after`` seconds: both keep a value that hovers
around a threshold from flapping.

    [alerts.rules.queue_backlog]
    threshold = 5000        # critical above 5,000 pending writes
    warning = 500
    for = 600
    receivers = ["slack"]

    [alerts.rules.memory]
    enabled = false
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")


@dataclass(frozen=True)
class Level:
    severity: Severity
    threshold: float
    clear: float  # at or below this, a firing level counts as clear (hysteresis)


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # the reading it evaluates (conditions.KINDS); a user may add rules of a built-in kind
    help: str
    unit: str
    threshold: float
    severity: Severity
    for_: float = 0.0
    warning: float | None = None
    clear_threshold: float | None = None
    receivers: tuple[str, ...] | None = None  # None: alerts.receivers
    enabled: bool = True
    window: float = 300.0  # for rates and increases: how far back to look
    baseline: float = 86400.0  # duplicates_spike: the period the recent window is compared with
    min_count: float = 0.0  # too few events in the window to judge: the condition is false
    resolve_after: float | None = None  # None: alerts.resolve_after

    def levels(self, hysteresis_percent: float) -> list[Level]:
        """Lowest first. The clear threshold of each level is ``hysteresis`` percent under it."""
        factor = 1.0 - hysteresis_percent / 100.0
        out = []
        if self.warning is not None and self.warning < self.threshold:
            out.append(Level("warning", self.warning, self.warning * factor))
        clear = self.clear_threshold if self.clear_threshold is not None else self.threshold * factor
        out.append(Level(self.severity, self.threshold, min(clear, self.threshold)))
        return out


# The seed's monitoring rules, then the business rules beyond it. Percentages are 0-100.
BUILTIN: dict[str, Rule] = {r.name: r for r in (
    Rule("error_rate", "error_rate", "share of provider requests that failed (5xx or no answer) in each window",
         "%", threshold=5.0, severity="critical", for_=300.0, window=60.0, min_count=10),
    Rule("response_time", "response_time", "95th percentile provider response time in each window",
         "s", threshold=5.0, severity="warning", for_=60.0, window=60.0, min_count=5),
    Rule("queue_backlog", "queue_backlog", "outbox rows waiting to be written", "items",
         threshold=1000.0, warning=100.0, severity="critical", for_=120.0),
    Rule("db_connections", "db_connections", "database connections in use, share of the pool (PostgreSQL)",
         "%", threshold=90.0, severity="warning", for_=60.0),
    Rule("memory", "memory", "system memory in use", "%", threshold=85.0, severity="warning", for_=120.0),
    Rule("cursor_stalled", "cursor_stalled", "sync intervals since a source's cursor last advanced",
         "intervals", threshold=6.0, severity="warning", clear_threshold=1.0),
    Rule("duplicates_spike", "duplicates_spike",
         "duplicates merged in the window, as a multiple of the baseline's average per window",
         "x", threshold=3.0, severity="warning", window=900.0, min_count=20, clear_threshold=1.5),
    Rule("rate_limit_exhaustion", "rate_limit_exhaustion",
         "seconds a quota window is forecast to stay exhausted before it resets", "s",
         threshold=0.0, severity="warning", for_=60.0),
    Rule("dead_letters_growing", "dead_letters_growing", "new dead letters in the window", "items",
         threshold=0.0, severity="warning", window=900.0),
    # A pull that failed (an error, a quota, credentials, or a pull that could not prove it saw everything)
    # leaves leads behind in the source until one succeeds again.
    Rule("source_failing", "source_failing", "seconds since a source's pulls began failing (0 once one succeeds)",
         "s", threshold=900.0, warning=120.0, severity="critical", clear_threshold=0.0),
)}

# [alerts.rules.NAME] keys → Rule attributes, with the types they accept.
_NUMBER = (int, float)
KEYS: dict[str, tuple[str, tuple[type, ...]]] = {
    "kind": ("kind", (str,)),
    "threshold": ("threshold", _NUMBER),
    "warning": ("warning", _NUMBER),
    "clear_threshold": ("clear_threshold", _NUMBER),
    "for": ("for_", _NUMBER),
    "severity": ("severity", (str,)),
    "receivers": ("receivers", (list,)),
    "enabled": ("enabled", (bool,)),
    "window": ("window", _NUMBER),
    "baseline": ("baseline", _NUMBER),
    "min_count": ("min_count", _NUMBER),
    "resolve_after": ("resolve_after", _NUMBER),
}
_NON_NEGATIVE = {"for", "window", "baseline", "min_count", "resolve_after"}


def check_rules(value: Any) -> list[tuple[str, str]]:
    """Problems in ``[alerts.rules]`` as ``(subkey, message)`` for the configuration validator."""
    if not isinstance(value, Mapping):
        return [("", "must be a table of rules ([alerts.rules.NAME])")]
    problems: list[tuple[str, str]] = []
    for name, table in value.items():
        if not isinstance(table, Mapping):
            problems.append((name, f"must be a table ([alerts.rules.{name}])"))
            continue
        if name not in BUILTIN and "kind" not in table:
            close = difflib.get_close_matches(name, list(BUILTIN), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append((name, f"no built-in rule of this name{hint}; a new rule needs `kind` "
                                   f"(one of {', '.join(sorted(BUILTIN))})"))
        for key, item in table.items():
            problems += [(f"{name}.{key}", m) for m in _check_key(key, item)]
        warning: Any = table.get("warning")
        threshold: Any = table.get("threshold")
        if _has_type(warning, _NUMBER) and _has_type(threshold, _NUMBER) and warning >= threshold:
            problems.append((f"{name}.warning", f"must be below threshold ({threshold:g}): the warning level comes "
                                                "first; leave it out for a rule without one"))
    return problems


def _check_key(key: str, item: Any) -> list[str]:
    if key not in KEYS:
        close = difflib.get_close_matches(key, list(KEYS), n=1, cutoff=0.6)
        return ["unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")]
    types = KEYS[key][1]
    if not _has_type(item, types):
        return [f"must be {'a number' if types == _NUMBER else types[0].__name__}, not {item!r}"]
    if key == "kind" and item not in BUILTIN:
        return [f"must be one of {', '.join(sorted(BUILTIN))}, not {item!r}"]
    if key == "severity" and item not in SEVERITIES:
        return [f"must be one of {', '.join(SEVERITIES)}, not {item!r}"]
    if key == "receivers" and not all(isinstance(r, str) and r for r in item):
        return ["must be a list of receiver names"]
    if key in _NON_NEGATIVE and item < 0:
        return [f"must be at least 0, not {item!r}"]
    return []


def _has_type(item: Any, types: tuple[type, ...]) -> bool:
    # A function of its own, so that the checks after it see ``item`` as Any rather than a narrowed object.
    return isinstance(item, types) and not (isinstance(item, bool) and bool not in types)


def load_rules(overrides: Mapping[str, Mapping[str, Any]]) -> list[Rule]:
    """The built-in rules with the user's overrides applied, plus the user's own rules; disabled ones left out.
    ``overrides`` has been through ``check_rules`` (the configuration loader refuses anything else)."""
    out: list[Rule] = []
    for name in [*BUILTIN, *(n for n in overrides if n not in BUILTIN)]:
        table = overrides.get(name, {})
        base = BUILTIN.get(name) or replace(BUILTIN[table["kind"]], name=name)
        changes: dict[str, Any] = {}
        for key, item in table.items():
            attribute = KEYS[key][0]
            if key == "kind":
                continue
            if key == "receivers":
                item = tuple(item)
            elif isinstance(item, int) and not isinstance(item, bool):
                item = float(item)
            changes[attribute] = item
        rule = replace(base, **changes)
        if rule.enabled:
            out.append(rule)
    return out
