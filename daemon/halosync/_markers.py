"""The pluggy markers, in a module of their own so that ``import halosync`` (which offers ``hookimpl``) stays light:
``halosync.plugin`` re-exports them with the rest of the public plugin surface."""

from __future__ import annotations

import pluggy

PROJECT = "halosync"
ENTRY_POINT_GROUP = "halosync"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["ENTRY_POINT_GROUP", "PROJECT", "hookimpl", "hookspec"]
