"""HaloPSA sink plugin for halosync: writes leads as Clients, Users and Opportunities, within HaloPSA's limits."""

from __future__ import annotations

from halosync import __version__  # one version for the distribution that ships this plugin

__all__ = ["__version__"]
