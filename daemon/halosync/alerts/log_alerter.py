"""The ``log`` receiver: each notification group as log lines (the daemon's log, so journald for a unit).

The built-in alerts plugin provides it with the level from ``[plugins.alerts]``; the alerts component falls back
to this one when no plugin provides a receiver named ``log``, so the default route always lands somewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from loguru import logger

from halosync.alerts import render
from halosync.contracts import Alert

LINES = 20  # alerts shown one per line in a group; a burst of a thousand is summed up, not printed


class LogAlerter:
    def __init__(self, name: str = "log", level: str = "WARNING") -> None:
        self.name = name
        self.level = level.upper()

    async def send(self, alerts: Sequence[Alert]) -> None:
        level = self.level if render.status(alerts) == "firing" else "INFO"
        logger.log(level, "alert: {}", render.title(alerts))
        for text in render.lines(alerts, LINES):
            logger.log(level, "alert:   {}", text)
