"""Provider budgets shared by every daemon on one store (issue 18): the narrow port the core hands a plugin.

Several daemons sharing a PostgreSQL store each talk to the same provider account: HaloPSA's rolling window and
Apollo's quotas count all of them together. The core (``halosync.ha.windows``, over the store) implements these
Protocols and hands them over as ``PluginHost.shared`` (None on SQLite: one daemon, nothing to share). A plugin
imports only this module and ``halosync.provider.rolling`` for it, never the store.

Operations that report an outcome (a request answered, a 429, a quota reading) are sync and applied by the core in
the background, in order, with the time they happened; only ``reserve`` and ``latest`` wait for the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from halosync.contracts import RateWindow


@dataclass(frozen=True, slots=True)
class Reservation:
    """What ``SharedWindow.reserve`` answers: a slot (its id), or None and the seconds until one may open; and the
    window as every daemon together sees it now."""

    slot: int | None
    wait: float
    limit: int  # the configured (or learned) budget, as the store holds it
    window: float
    effective: int  # what the window admits now (lower after a 429)
    used: int  # requests in the window, all daemons, in flight or answered
    throttled: int  # 429s counted by all daemons


class SharedWindow(Protocol):
    """One provider's rolling window, counted in the store for every daemon."""

    async def reserve(self, limit: int, window: float, floor: int) -> Reservation:
        """Count one more request if the window has room (creating the window with ``limit`` per ``window``
        seconds if no daemon did yet)."""
        ...

    def answered(self, slot: int) -> None:
        """The reserved request's answer arrived (or it failed): it leaves the window ``window`` s from now."""
        ...

    def unused(self, slot: int) -> None:
        """The slot was not used (nothing was sent)."""
        ...

    def throttled(self) -> None:
        """The provider answered 429: the window admits no more than what it held before."""
        ...

    def rebudget(self, limit: int, window: float) -> None:
        """The provider named its budget (a 429's text): every daemon follows it from now on."""
        ...


class SharedQuotas(Protocol):
    """Quota windows a provider reports in headers, as last seen by any daemon."""

    def publish(self, key: str, windows: list[RateWindow]) -> None:
        """The windows just read from a response's headers (``key``: provider and endpoint)."""
        ...

    async def latest(self, key: str) -> list[RateWindow]:
        """The windows last published under ``key`` by any daemon, those not yet reset."""
        ...


class SharedBudgets(Protocol):
    def window(self, key: str) -> SharedWindow:
        """The shared rolling window ``key`` (e.g. ``halopsa:https://acme.halopsa.com``)."""
        ...

    @property
    def quotas(self) -> SharedQuotas: ...
