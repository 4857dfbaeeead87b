"""halosync: keeps B2B leads flowing from lead providers into HaloPSA's CRM."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from halosync._markers import hookimpl

try:
    __version__ = version("halosync")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "hookimpl"]
