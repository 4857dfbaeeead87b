"""Who polls which source: one poller per source among the daemons that share a store.

On PostgreSQL (``SharedLeadership``) each source has a lease row (``halosync.ha.leases``): the daemon holding it
polls, renewing it every quarter lease; the others stand by, look every quarter lease, and take it once it lapses
(a daemon that died) or is released (a clean stop releases every lease at once). A daemon that cannot renew stops
believing it polls a little before the lease could lapse, and every page it stages is committed only if its lease
epoch is still the row's (``fence``), so two pollers never both move a source's cursor.

A lease row rather than a session advisory lock: the lease is visible (holder, heartbeat, expiry: what status shows
and diagnose counts), works through the store's connection pool (no connection pinned for a daemon's life, none
lost to a pool recycle, fine behind pgbouncer in transaction mode), lapses after ``ha.lease_seconds`` even when a
host vanishes without closing its TCP connection (an advisory lock then waits for TCP keepalive, minutes), and
carries a fencing epoch.

On SQLite (``SoloLeadership``) the one daemon polls everything; a second daemon on the same SQLite file is refused
at start (``halosync.daemon.lock``).
"""

from __future__ import annotations

import math
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import trio
from loguru import logger

from halosync import metrics
from halosync.errors import StoreError
from halosync.ha import leases
from halosync.ha.leases import Lease, LeaseLost, Member
from halosync.store.gateway import Store

MEMBER_GONE_AFTER = 3.0  # lease lengths without a heartbeat after which a member is shown as gone
MEMBER_FORGET_AFTER = 20.0  # ... and after which its row is deleted

Fence = Callable[[], None]
LIVE_MEMBERS: set[str] = set()  # member ids of the daemons running in this process


def exited(member: str) -> bool:
    """Whether ``member`` is a daemon of this host that is no longer running: its lease is taken at once (a daemon
    restarted after a crash polls again without waiting for the lease to lapse)."""
    return leases.exited_here(member, socket.gethostname(), LIVE_MEMBERS)


def lease_name(source: str) -> str:
    return f"source:{source}"


def new_member_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SharedLeadership:
    """The poller election of a daemon on a shared (PostgreSQL) store; ``run`` is its loop."""

    shared = True

    def __init__(self, store: Store, lease_seconds: float, sources: Callable[[], Iterable[str]],
                 version: str = "", member_id: str | None = None) -> None:
        self.store = store
        self.lease_seconds = float(lease_seconds)
        self.tick = self.lease_seconds / 4
        self.member_id = member_id or new_member_id()
        self.host, self.pid, self.version = socket.gethostname(), os.getpid(), version
        self._sources = sources
        self._held: dict[str, tuple[int, float]] = {}  # source -> (epoch, trio time the lease was last confirmed)
        self._free_seen: set[str] = set()  # sources seen free last round while this daemon had its fair share
        self.leaving = False
        self.changed = trio.Event()  # set (and replaced) whenever what this daemon polls changes
        self.changes = 0
        self._view: tuple[float, list[Lease], list[Member]] = (0.0, [], [])
        self._view_at = 0.0
        self.last_error: str | None = None

    # --- what the engine asks ------------------------------------------------------------------------

    def holds(self, source: str) -> bool:
        """Whether this daemon polls ``source`` now. Believed only for 4/5 of a lease after the last renewal
        the database confirmed: by then the lease may be lapsing and another daemon about to take it."""
        held = self._held.get(source)
        if held is None or self.leaving:
            return False
        return trio.current_time() - held[1] < 0.8 * self.lease_seconds

    def fence(self, source: str) -> Fence | None:
        """A check to run inside a page's transaction: raises LeaseLost unless the lease is still this daemon's."""
        held = self._held.get(source)
        epoch = held[0] if held is not None else -1
        name, member = lease_name(source), self.member_id
        return lambda: leases.fence(name, member, epoch)

    def holder_of(self, source: str) -> str | None:
        """The member id of the daemon that polls ``source``, as last seen."""
        for lease in self._view[1]:
            if lease.name == lease_name(source) and lease.holder and lease.expires_at > self._view[0]:
                return lease.holder
        return None

    # --- the loop ------------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Heartbeat, renew, take what is free; every quarter lease. The first round is done before ``started``,
        so the engine starts knowing what it polls."""
        LIVE_MEMBERS.add(self.member_id)
        try:
            await self._round_logged()
            task_status.started()
            while not self.leaving:
                await trio.sleep(self.tick)
                if not self.leaving:
                    await self._round_logged()
        finally:
            LIVE_MEMBERS.discard(self.member_id)

    async def _round_logged(self) -> None:
        try:
            await self.round()
            if self.last_error is not None:
                logger.info("ha: the store answers again; leases are renewed")
            self.last_error = None
        except (StoreError, leases.LeaseLost, OSError) as exc:
            if self.last_error is None:
                logger.warning("ha: cannot reach the store to renew leases ({}); this daemon stops polling {:g} s "
                               "after its last renewal, and another daemon may take over", exc,
                               0.8 * self.lease_seconds)
            self.last_error = str(exc)
            for source in list(self._held):
                if not self.holds(source):
                    self._lose(source, "lost")
        except Exception as exc:  # psycopg2 errors reach here as peewee's; a round must never end the loop
            if self.last_error is None:
                logger.opt(exception=True).warning("ha: a lease round failed ({})", exc)
            self.last_error = str(exc)

    async def round(self) -> None:
        sources = sorted(self._sources())
        polls = [s for s in sources if self.holds(s)]
        await self.store.run(leases.heartbeat, self.member_id, self.host, self.pid, self.version, polls)
        for source in [s for s in self._held if s not in sources]:  # a source removed by a reload
            await self.store.run(leases.release, lease_name(source), self.member_id)
            self._lose(source, "released")
        now, lease_rows, members = await self.store.run(leases.view)
        live = [m for m in members if now - m.heartbeat_at < MEMBER_GONE_AFTER * self.lease_seconds]
        share = math.ceil(len(sources) / max(1, len(live)))
        by_name = {lease.name: lease for lease in lease_rows}
        for source in sources:
            if self.leaving:
                return
            started = trio.current_time()
            held = self._held.get(source)
            if held is not None:
                if await self._quietly(leases.renew, lease_name(source), self.member_id, held[0],
                                       self.lease_seconds):
                    self._held[source] = (held[0], started)
                else:
                    self._lose(source, "lost")
                continue
            row = by_name.get(lease_name(source))
            dead = row.holder if row is not None and row.holder and exited(row.holder) else ""
            free = row is None or row.holder is None or row.expires_at < now or bool(dead)
            if not free:
                self._free_seen.discard(source)
                continue
            # Spread the sources: take a free one while under the fair share, or once it stayed free a round.
            if len(self._held) >= share and source not in self._free_seen and not dead:
                self._free_seen.add(source)
                continue
            epoch = await self._quietly(leases.take, lease_name(source), self.member_id, self.lease_seconds, dead)
            self._free_seen.discard(source)
            if epoch is not None and not self.leaving:
                self._held[source] = (epoch, started)
                self._changed(source, "acquired", row)
        if sorted(s for s in sources if self.holds(s)) != polls:  # what it polls now, for the others to see
            await self.store.run(leases.heartbeat, self.member_id, self.host, self.pid, self.version,
                                 [s for s in sources if self.holds(s)])
        await self._refresh_view()
        forgotten = await self.store.run(leases.forget_members, MEMBER_FORGET_AFTER * self.lease_seconds)
        if forgotten:
            logger.info("ha: forgot {} daemon(s) whose heartbeat stopped over {:g} s ago", forgotten,
                        MEMBER_FORGET_AFTER * self.lease_seconds)

    async def _quietly(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn`` in its own transaction; a lock that is not granted in time (a frozen daemon's) counts as no."""
        try:
            return await self.store.transaction(fn, *args)
        except Exception as exc:
            if "lock timeout" in str(exc) or "LockNotAvailable" in type(exc).__name__:
                return None
            raise

    async def _refresh_view(self) -> None:
        self._view = await self.store.run(leases.view)
        self._view_at = time.time()
        now, _, members = self._view
        metrics.HA_MEMBERS.set(sum(1 for m in members if now - m.heartbeat_at < MEMBER_GONE_AFTER *
                                   self.lease_seconds))

    def _changed(self, source: str, change: str, row: Lease | None) -> None:
        self.changes += 1
        metrics.record_leadership(source, change, source in self._held)
        if change == "acquired":
            before = f"after {row.holder}" if row is not None and row.holder else "it was free"
            logger.info("ha: this daemon ({}) now polls {} ({}; lease {:g} s)", self.member_id, source, before,
                        self.lease_seconds)
        elif change == "lost":
            logger.warning("ha: this daemon ({}) lost the lease of {} (not renewed in time); it stands by",
                           self.member_id, source)
        else:
            logger.info("ha: this daemon ({}) released the lease of {}", self.member_id, source)
        self.changed.set()
        self.changed = trio.Event()

    def _lose(self, source: str, change: str) -> None:
        if self._held.pop(source, None) is not None:
            self._changed(source, change, None)

    async def leave(self) -> None:
        """A clean stop: stop polling now and release every lease at once, so a standby takes over on its next
        look (a quarter lease), not after the lease lapses."""
        if self.leaving:
            return
        self.leaving = True
        for source in list(self._held):
            self._lose(source, "released")
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            try:
                await self.store.run(leases.leave, self.member_id)
                logger.info("ha: released this daemon's leases; a standby takes over")
            except Exception as exc:  # the store is gone: the leases lapse on their own
                logger.warning("ha: could not release the leases ({}); they lapse within {:g} s", exc,
                               self.lease_seconds)

    # --- what status and /health show ---------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        now, lease_rows, members = self._view
        polls = sorted(s for s in self._held if self.holds(s))
        others = []
        for m in members:
            if m.id == self.member_id:
                continue
            age = max(0.0, now - m.heartbeat_at)
            others.append({"id": m.id, "host": m.host, "pid": m.pid, "version": m.version, "polls": m.polls,
                           "last_heartbeat_at": m.heartbeat_at, "heartbeat_age_seconds": round(age, 3),
                           "state": "alive" if age < MEMBER_GONE_AFTER * self.lease_seconds else "gone"})
        holders = {m.id: m for m in members}
        shown_leases = {}
        for lease in lease_rows:
            if not lease.name.startswith("source:"):
                continue
            held = bool(lease.holder) and lease.expires_at > now
            holder = holders.get(lease.holder or "")
            shown_leases[lease.name.removeprefix("source:")] = {
                "holder": lease.holder if held else None,
                "holder_host": holder.host if held and holder else None,
                "holder_pid": holder.pid if held and holder else None,
                "expires_in_seconds": round(lease.expires_at - now, 3) if held else None,
                "epoch": lease.epoch, "changes": lease.changes}
        return {"mode": "shared", "store": "postgresql", "id": self.member_id, "host": self.host, "pid": self.pid,
                "role": "poller" if polls else "standby", "polls": polls, "lease_seconds": self.lease_seconds,
                "leadership_changes": self.changes, "daemons": 1 + sum(1 for o in others if o["state"] == "alive"),
                "others": others, "leases": shown_leases, "seen_at": self._view_at, "last_error": self.last_error}


class SoloLeadership:
    """SQLite: this daemon is the only one, and polls every source. A second daemon on the same file is refused at
    start (``halosync.daemon.lock.database_held``, exit 75)."""

    shared = False

    def __init__(self, sources: Callable[[], Iterable[str]], member_id: str | None = None) -> None:
        self._sources = sources
        self.member_id = member_id or new_member_id()
        self.changed = trio.Event()
        self.leaving = False
        self._since = time.time()  # nothing to look up: the picture is as of the start

    def holds(self, source: str) -> bool:
        return True

    def fence(self, source: str) -> Fence | None:
        return None

    def holder_of(self, source: str) -> str | None:
        return self.member_id

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()

    async def leave(self) -> None:
        self.leaving = True

    def describe(self) -> dict[str, Any]:
        sources = sorted(self._sources())
        return {"mode": "single", "store": "sqlite", "id": self.member_id, "host": socket.gethostname(),
                "pid": os.getpid(), "role": "poller", "polls": sources, "lease_seconds": None,
                "leadership_changes": 0, "daemons": 1, "others": [],
                "leases": {s: {"holder": self.member_id, "holder_host": socket.gethostname(),
                               "holder_pid": os.getpid(), "expires_in_seconds": None, "epoch": 0, "changes": 0}
                           for s in sources}, "seen_at": self._since, "last_error": None}


Leadership = SharedLeadership | SoloLeadership

__all__ = ["Fence", "Leadership", "LeaseLost", "SharedLeadership", "SoloLeadership", "lease_name"]
