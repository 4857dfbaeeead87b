"""Statement statistics: every SQL statement the store executes, timed, grouped by its normalised text.

The store's database objects (halosync.store.database) call ``QueryStats.record`` from ``execute_sql``, the one
place peewee sends SQL. A statement's text is normalised so that one query is one row however many values it
carries: peewee already sends values as placeholders, so normalising folds the lists of placeholders that vary in
length (``IN (?, ?, ?)``, multi-row ``VALUES``) and any literal, and collapses whitespace. Values (a lead's e-mail
address, a payload) are never kept or logged.

A statement slower than ``slow_ms`` (``database.slow_query_ms``; 0 turns it off) is logged at warning with its
duration, and, when ``explain`` is on (``database.explain_slow_queries``), with the database's plan for it.
``halosyncctl queries`` shows the top statements by total time since the daemon started.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger

MAX_STATEMENTS = 1000  # distinct normalised statements kept; beyond it, they are counted under OTHER
MAX_CACHED = 4096  # raw statement texts whose normalised form is remembered
OTHER = "(other statements)"
SHOWN_CHARS = 2000  # of a statement's text in a slow-query line

_PLACEHOLDER = r"(?:\?|%s)"
_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w\"$])-?\d+(?:\.\d+)?(?![\w\"])")
_IN_LIST = re.compile(rf"\bIN\s*\(\s*{_PLACEHOLDER}(?:\s*,\s*{_PLACEHOLDER})*\s*\)", re.IGNORECASE)
_ROW = rf"\(\s*{_PLACEHOLDER}(?:\s*,\s*{_PLACEHOLDER})*\s*\)"
_VALUES = re.compile(rf"\bVALUES\s*{_ROW}(?:\s*,\s*{_ROW})*", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalise(sql: str) -> str:
    """``sql`` with its literals as ``?`` and its variable-length placeholder lists folded."""
    text = _STRING.sub("?", sql)
    text = _NUMBER.sub("?", text)
    text = text.replace("%s", "?")
    text = _IN_LIST.sub("IN (...)", text)
    text = _VALUES.sub("VALUES (...)", text)
    return _SPACE.sub(" ", text).strip()


@dataclass
class StatementFigures:
    count: int = 0
    total: float = 0.0  # seconds
    max: float = 0.0
    slow: int = 0  # executions over the threshold

    def as_dict(self, statement: str) -> dict[str, Any]:
        return {"statement": statement, "count": self.count, "total_ms": round(self.total * 1000, 3),
                "mean_ms": round(self.total * 1000 / self.count, 3) if self.count else 0.0,
                "max_ms": round(self.max * 1000, 3), "slow": self.slow}


Explain = Callable[[str, Any], list[str]]


class QueryStats:
    def __init__(self, *, slow_ms: float = 0.0, explain: bool = False) -> None:
        self.slow_ms = slow_ms
        self.explain = explain
        self.since = time.time()
        self._lock = threading.Lock()
        self._figures: dict[str, StatementFigures] = {}
        self._normalised: dict[str, str] = {}

    def configure(self, *, slow_ms: float, explain: bool) -> None:
        self.slow_ms, self.explain = slow_ms, explain

    def record(self, sql: str, params: Any, seconds: float, explain: Explain) -> None:
        """One execution of ``sql``; ``explain(sql, params)`` gives its plan (called only for a slow one)."""
        text = self._normalised.get(sql)
        if text is None:
            text = normalise(sql)
            if len(self._normalised) >= MAX_CACHED:
                self._normalised.clear()
            self._normalised[sql] = text
        slow = 0 < self.slow_ms <= seconds * 1000
        with self._lock:
            figures = self._figures.get(text)
            if figures is None:
                key = text if len(self._figures) < MAX_STATEMENTS else OTHER
                figures = self._figures.setdefault(key, StatementFigures())
            figures.count += 1
            figures.total += seconds
            figures.max = max(figures.max, seconds)
            figures.slow += slow
        if slow:
            self._log_slow(text, sql, params, seconds, explain)

    def _log_slow(self, text: str, sql: str, params: Any, seconds: float, explain: Explain) -> None:
        plan = ""
        if self.explain and _explainable(sql):
            try:
                plan = "\n  plan: " + "\n        ".join(explain(sql, params))
            except Exception as exc:  # a plan is a courtesy: never fail the statement that was slow
                plan = f"\n  plan: EXPLAIN failed ({type(exc).__name__}: {exc})"
        shown = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."
        logger.warning("slow query: {:.1f} ms (database.slow_query_ms is {:g}): {}{}", seconds * 1000,
                       self.slow_ms, shown, plan)

    def top(self, limit: int, order: str = "total") -> list[dict[str, Any]]:
        with self._lock:
            rows = [f.as_dict(text) for text, f in self._figures.items()]
        key = {"total": "total_ms", "mean": "mean_ms", "max": "max_ms", "count": "count"}[order]
        rows.sort(key=lambda r: r[key], reverse=True)
        return rows[:limit]

    def summary(self) -> dict[str, Any]:
        with self._lock:
            figures = list(self._figures.values())
        return {"since": self.since, "statements": len(figures), "executions": sum(f.count for f in figures),
                "total_ms": round(sum(f.total for f in figures) * 1000, 3), "slow": sum(f.slow for f in figures),
                "slow_query_ms": self.slow_ms, "explain": self.explain}

    def reset(self) -> None:
        with self._lock:
            self._figures.clear()
            self.since = time.time()


def _explainable(sql: str) -> bool:
    return sql.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH") if sql.strip() \
        else False
