"""Plugin markers. A plugin module decorates its hook implementations with ``@hookimpl``."""

from __future__ import annotations

import pluggy

PROJECT = "halosync"
ENTRY_POINT_GROUP = "halosync"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["ENTRY_POINT_GROUP", "PROJECT", "hookimpl", "hookspec"]
