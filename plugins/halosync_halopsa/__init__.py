"""HaloPSA sink plugin for halosync: writes leads as Clients, Users and Opportunities, within HaloPSA's limits."""

from __future__ import annotations

__version__ = "0.1.0"
