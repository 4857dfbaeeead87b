"""Rule instances moving between inactive, pending and firing, without flapping.

    inactive ──value above a level──▶ pending ──held for `for` seconds──▶ firing (at that level's severity)
    firing ──a higher level held for `for`──▶ firing at the higher severity (notified again)
    firing ──every level at or below its clear threshold for `resolve_after`──▶ resolved, then inactive

A firing level stays held until the value falls to its clear threshold (hysteresis), not merely below the
threshold; and a clear spell must last ``resolve_after`` before the alert resolves (a value that comes back
in the meantime simply keeps it firing). Only transitions come out of ``evaluate``: firing (new, or a change
of severity) and resolved. Repeats are the dispatcher's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loguru import logger

from halosync.alerts.conditions import KINDS, Labels
from halosync.alerts.readings import History
from halosync.config.alert_rules import SEVERITIES, Level, Rule, Severity
from halosync.contracts import Alert


def fingerprint(rule: str, labels: Labels | dict[str, str]) -> str:
    """The identity of one rule instance: ``error_rate{provider=halopsa}``, or the rule's name alone."""
    items = sorted(labels.items()) if isinstance(labels, dict) else sorted(labels)
    return rule + ("{" + ",".join(f"{k}={v}" for k, v in items) + "}" if items else "")


@dataclass
class Instance:
    rule: Rule
    labels: Labels
    held_since: dict[Severity, float] = field(default_factory=dict)  # per level: when its condition began holding
    severity: Severity | None = None  # set while firing
    value: float | None = None
    started_at: float | None = None
    clear_since: float | None = None

    @property
    def key(self) -> str:
        return fingerprint(self.rule.name, self.labels)

    @property
    def state(self) -> str:
        return "firing" if self.severity else ("pending" if self.held_since else "inactive")

    def alert(self, state: str, now: float) -> Alert:
        severity = self.severity or self.rule.severity
        return Alert(self.rule.name, severity, "firing" if state == "firing" else "resolved",
                     summary(self.rule, self.labels, self.value, severity, state), self.value,
                     dict(self.labels), self.started_at, None if state == "firing" else now)

    def describe(self) -> dict[str, Any]:
        return {"key": self.key, "rule": self.rule.name, "labels": dict(self.labels), "state": self.state,
                "severity": self.severity, "value": self.value, "started_at": self.started_at,
                "pending_since": min(self.held_since.values()) if self.held_since else None}


def summary(rule: Rule, labels: Labels, value: float | None, severity: Severity, state: str) -> str:
    where = " ".join(f"{k}={v}" for k, v in labels)
    shown = "no data" if value is None else f"{value:.4g} {rule.unit}"
    threshold = rule.warning if severity == "warning" and rule.warning is not None else rule.threshold
    head = f"{rule.name}{' ' + where if where else ''}"
    if state == "firing":
        return f"{head}: {shown}, above {threshold:g} {rule.unit} ({rule.help})"
    return f"{head}: resolved at {shown} ({rule.help})"


class Evaluator:
    def __init__(self, rules: Iterable[Rule], *, hysteresis: float, resolve_after: float) -> None:
        self.hysteresis = hysteresis
        self.resolve_after = resolve_after
        self.rules: list[Rule] = list(rules)
        self.instances: dict[str, Instance] = {}

    def set_rules(self, rules: Iterable[Rule], *, hysteresis: float, resolve_after: float) -> None:
        """After a reload: instances keep their timers under the new thresholds; those of a removed rule go."""
        self.rules, self.hysteresis, self.resolve_after = list(rules), hysteresis, resolve_after
        names = {r.name: r for r in self.rules}
        for key, inst in list(self.instances.items()):
            if inst.rule.name in names:
                inst.rule = names[inst.rule.name]
            elif inst.severity is None:
                del self.instances[key]

    def saved(self) -> list[dict[str, Any]]:
        """The firing instances, as ``AlertMemory`` keeps them."""
        return [{"key": i.key, "rule": i.rule.name, "labels": [list(pair) for pair in i.labels], "severity": i.severity,
                 "value": i.value, "started_at": i.started_at} for i in self.instances.values() if i.severity]

    def restore(self, entries: Iterable[dict[str, Any]]) -> int:
        """Firing instances from before a restart (of rules that still exist). They keep firing, without a new
        notification, while their condition holds, and resolve as usual once it clears."""
        rules = {r.name: r for r in self.rules}
        restored = 0
        for entry in entries:
            rule = rules.get(entry["rule"])
            if rule is None or entry.get("severity") not in SEVERITIES:
                continue
            labels: Labels = tuple((str(k), str(v)) for k, v in entry["labels"])
            inst = Instance(rule, labels, severity=entry["severity"], value=entry.get("value"),
                            started_at=entry.get("started_at"))
            self.instances[inst.key] = inst
            restored += 1
        return restored

    def evaluate(self, history: History, now: float) -> list[Alert]:
        changes: list[Alert] = []
        seen: set[str] = set()
        for rule in self.rules:
            try:
                values = KINDS[rule.kind](rule, history)
            except Exception as exc:  # one rule's bug must not stop the others; the log names it
                logger.opt(exception=True).error("alert rule {} failed to evaluate: {}", rule.name, exc)
                values = []
            for labels, value in values:
                inst = self.instances.setdefault(fingerprint(rule.name, labels), Instance(rule, labels))
                seen.add(inst.key)
                changes += self._step(inst, value, now)
        live = {r.name for r in self.rules}
        for key, inst in list(self.instances.items()):
            if key in seen:
                continue
            if inst.rule.name not in live:  # rule removed or disabled by a reload: nothing left to wait for
                del self.instances[key]
                if inst.severity is not None:
                    changes.append(inst.alert("resolved", now))
                continue
            changes += self._step(inst, None, now)
        return changes

    def _step(self, inst: Instance, value: float | None, now: float) -> list[Alert]:
        levels = inst.rule.levels(self.hysteresis)
        if value is not None:
            inst.value = value
        for level in levels:
            if value is not None and self._holds(inst, level, value):
                inst.held_since.setdefault(level.severity, now)
            else:
                inst.held_since.pop(level.severity, None)
        due = [lv.severity for lv in levels
               if lv.severity in inst.held_since and now - inst.held_since[lv.severity] >= inst.rule.for_]
        if due:
            inst.clear_since = None
            target = max(due, key=SEVERITIES.index)
            if inst.severity != target:
                first = inst.severity is None
                inst.severity = target
                if first:
                    inst.started_at = now
                return [inst.alert("firing", now)]
            return []
        if inst.severity is not None:
            if inst.held_since:  # still above a clear threshold: keep firing at the level it has
                inst.clear_since = None
                return []
            inst.clear_since = inst.clear_since if inst.clear_since is not None else now
            resolve_after = inst.rule.resolve_after if inst.rule.resolve_after is not None else self.resolve_after
            if now - inst.clear_since >= resolve_after:
                alert = inst.alert("resolved", now)
                del self.instances[inst.key]
                return [alert]
            return []
        if not inst.held_since:
            del self.instances[inst.key]
        return []

    @staticmethod
    def _holds(inst: Instance, level: Level, value: float) -> bool:
        firing_at_or_above = inst.severity is not None and SEVERITIES.index(inst.severity) >= SEVERITIES.index(
            level.severity)
        return value > (level.clear if firing_at_or_above else level.threshold)

    def firing(self) -> list[Alert]:
        return [inst.alert("firing", 0.0) for inst in self.instances.values() if inst.severity is not None]

    def describe(self) -> list[dict[str, Any]]:
        return [inst.describe() for inst in sorted(self.instances.values(), key=lambda i: i.key)]
