"""What alerting must remember across a restart: which alerts are firing (at which severity, since when) and which
receivers were told about them, kept in ``<state_dir>/alert-state.json``.

Without it, a condition still true after a restart fired again once its ``for`` had passed (a second e-mail about
one incident), and a condition that cleared while the daemon was down never sent its resolution (a HaloPSA ticket
left open). With it, a restarted daemon carries on: still true, nothing is sent until the repeat interval; cleared,
the resolution goes to the receivers that heard of the firing. Pending timers are not kept: a condition that had
not fired yet starts its ``for`` again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger

from halosync.statefile import replace_text

if TYPE_CHECKING:
    from halosync.alerts.dispatch import Dispatcher
    from halosync.alerts.evaluator import Evaluator

FILE_NAME = "alert-state.json"


class AlertMemory:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._saved = ""
        self._failing = False  # a failure is logged once, not on every round until it is fixed

    def restore(self, evaluator: Evaluator, dispatcher: Dispatcher) -> int:
        """Put the saved state back; returns how many firing alerts were restored."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            saved = doc.get("firing") or []
            firing = evaluator.restore(saved)
            dispatcher.restore(doc.get("told") or [], {entry["key"] for entry in saved})
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            logger.error("alert state {} cannot be read ({}); firing alerts start over and may notify again",
                         self.path, exc)
            return 0
        if firing:
            logger.info("alerts: {} alert(s) still firing from before the restart", firing)
        return firing

    def save(self, evaluator: Evaluator, dispatcher: Dispatcher) -> None:
        text = json.dumps({"firing": evaluator.saved(), "told": dispatcher.saved()}, sort_keys=True)
        if text == self._saved:
            return
        try:
            replace_text(self.path, text)
            self._saved, self._failing = text, False
        except OSError as exc:
            if not self._failing:
                logger.error("alert state {} cannot be saved ({}); after a restart firing alerts may notify again",
                             self.path, exc)
            self._failing = True
