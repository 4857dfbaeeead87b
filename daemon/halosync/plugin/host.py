"""What the daemon hands to registration hooks: a read-only view of the configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halosync.config.loader import Config
from halosync.contracts import LeadEvent  # its home is halosync.contracts; kept importable from here
from halosync.provider.shared import SharedBudgets


@dataclass(frozen=True)
class PluginHost:
    """The view of the daemon a registration hook receives.

    ``settings(name)`` is the validated table ``[plugins.name]`` (secrets resolved), or None when that plugin is
    not enabled; a plugin that gets None returns no objects.
    """

    config: Config
    # Issue 18: provider budgets shared with the other daemons of a PostgreSQL store (None on SQLite: one daemon).
    shared: SharedBudgets | None = None

    def settings(self, name: str) -> dict[str, Any] | None:
        return self.config.plugin(name)

    @property
    def state_dir(self) -> Path:
        return self.config.state_dir

    @property
    def request_timeout(self) -> float:
        return float(self.config.get("sync.request_timeout", 30.0))


__all__ = ["LeadEvent", "PluginHost"]
