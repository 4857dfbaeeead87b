"""Silences: "do not notify about alerts matching these labels until then".

A silence matches an alert when every matcher matches: ``rule`` against the rule's name, ``severity`` against its
severity, any other key against the alert's label of that name; values may be shell-style patterns (``halo*``).
A silenced alert still fires and is listed (``halosyncctl alerts``); it is only not delivered. When the silence
expires or is removed while the alert still fires, the next evaluation delivers it. Silences are kept in
``<state_dir>/alert-silences.json`` so that a restart does not wake everyone up.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from loguru import logger

from halosync.contracts import Alert
from halosync.errors import HalosyncError
from halosync.statefile import replace_text

FILE_NAME = "alert-silences.json"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = 90 * 86400  # a silence is a pause, not a way to switch a rule off (that is `enabled = false`)


class SilenceError(HalosyncError):
    """A silence request that cannot be carried out; the message says why and what to send instead."""


class SilenceNotFound(SilenceError):
    pass


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: dict[str, str]
    starts_at: float
    expires_at: float
    created_by: str = ""
    comment: str = ""

    def matches(self, alert: Alert) -> bool:
        for key, pattern in self.matchers.items():
            actual = alert.rule if key == "rule" else alert.severity if key == "severity" else alert.labels.get(key)
            if actual is None or not fnmatchcase(actual, pattern):
                return False
        return True

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.expires_at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_duration(text: str | float | int) -> float:
    """``90``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"`` or ``"1h30m"`` → seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    elif isinstance(text, str) and re.fullmatch(r"(\d+(\.\d+)?[smhdw])+", text.strip()):
        seconds = sum(float(n) * _UNITS[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)([smhdw])", text.strip()))
    elif isinstance(text, str) and re.fullmatch(r"\d+(\.\d+)?", text.strip()):
        seconds = float(text)
    else:
        raise SilenceError(f"duration {text!r} is not understood; give seconds or e.g. 30m, 2h, 1d")
    if not 0 < seconds <= MAX_DURATION:
        raise SilenceError(f"duration must be more than 0 and at most {MAX_DURATION // 86400} days; "
                           "to stop a rule for good, set enabled = false in [alerts.rules.NAME]")
    return seconds


class Silences:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._items: dict[str, Silence] = {}
        self._load()

    def add(self, matchers: dict[str, str], duration: float, now: float, *, created_by: str = "",
            comment: str = "") -> Silence:
        if not matchers or not all(isinstance(k, str) and k and isinstance(v, str) and v
                                   for k, v in matchers.items()):
            raise SilenceError("a silence needs at least one matcher, e.g. rule=queue_backlog or provider=halopsa")
        silence = Silence(uuid.uuid4().hex[:12], dict(matchers), now, now + duration, created_by, comment)
        self._items[silence.id] = silence
        self._save()
        return silence

    def remove(self, silence_id: str) -> Silence:
        silence = self._items.pop(silence_id, None)
        if silence is None:
            raise SilenceNotFound(f"no silence with id {silence_id!r}; `halosyncctl alerts` lists them")
        self._save()
        return silence

    def active(self, now: float) -> list[Silence]:
        return sorted((s for s in self._items.values() if s.active(now)), key=lambda s: s.expires_at)

    def silencing(self, alert: Alert, now: float) -> Silence | None:
        return next((s for s in self.active(now) if s.matches(alert)), None)

    def prune(self, now: float) -> list[Silence]:
        """Forget expired silences; returns them (the component logs each expiry)."""
        expired = [s for s in self._items.values() if s.expires_at <= now]
        for silence in expired:
            del self._items[silence.id]
        if expired:
            self._save()
        return expired

    # --- persistence ---------------------------------------------------------------------------------

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            for item in raw.get("silences", []):
                silence = Silence(**item)
                self._items[silence.id] = silence
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            logger.error("alert silences in {} cannot be read ({}); starting without them. Fix or delete the file",
                         self.path, exc)

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            replace_text(self.path, json.dumps({"version": 1, "silences": [s.to_dict() for s in self._items.values()]},
                                               indent=1))
        except OSError as exc:
            logger.error("alert silences could not be saved to {} ({}); they hold until the daemon restarts",
                         self.path, exc)
