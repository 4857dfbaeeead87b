"""An example third-party halosync plugin (see docs/plugins.md in halosync)."""

from __future__ import annotations

__version__ = "0.1.0"
