"""The lease rows and member rows of a shared PostgreSQL store, in SQL (run in a database thread).

Every time is the database server's (``clock_timestamp()``), so two hosts whose clocks differ agree on when a lease
lapses. A lease is taken only when it is free or lapsed (``expires_at < now``): the one ``INSERT ... ON CONFLICT DO
UPDATE ... WHERE`` makes taking it atomic, and each change of holder adds one to ``epoch``, the fencing token a
page's transaction checks (``fence``).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from halosync.store.models import HALease, HAMember, database_proxy, dumps

NOW = "extract(epoch from clock_timestamp())"


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str | None
    epoch: int
    expires_at: float
    acquired_at: float | None
    renewed_at: float | None
    changes: int


@dataclass(frozen=True)
class Member:
    id: str
    host: str
    pid: int
    version: str
    started_at: float
    heartbeat_at: float
    polls: list[str]


class LeaseLost(Exception):
    """This daemon no longer holds the lease it was working under: what it was about to commit is rolled back."""


def exited_here(member: str, host: str, live: Collection[str]) -> bool:
    """Whether the id ``host:pid:nonce`` (a member, an outbox claimer) names a process of ``host`` (this one) that
    has exited; in this very process, one not in ``live``."""
    parts = member.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    if int(parts[1]) == os.getpid():
        return member not in live
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return False


def _lock_wait(seconds: float) -> bool:
    """Inside a transaction: wait at most ``seconds`` for row locks (False when not in a transaction)."""
    if not database_proxy.in_transaction():
        return True
    _sql(f"SET LOCAL lock_timeout = '{max(1, int(seconds * 1000))}ms'")
    return True


def _sql(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    cursor = database_proxy.execute_sql(sql, params)
    return list(cursor.fetchall()) if cursor.description else []


def db_now() -> float:
    return float(_sql(f"SELECT {NOW}")[0][0])


def heartbeat(member: str, host: str, pid: int, version: str, polls: list[str]) -> float:
    """Insert or refresh this daemon's member row; returns the database's time."""
    member_t = HAMember._meta.table_name
    rows = _sql(
        f'INSERT INTO "{member_t}" (id, host, pid, version, started_at, heartbeat_at, polls) '
        f"VALUES (%s, %s, %s, %s, {NOW}, {NOW}, %s) ON CONFLICT (id) DO UPDATE SET heartbeat_at = {NOW}, "
        f"polls = EXCLUDED.polls RETURNING heartbeat_at", (member, host, pid, version, dumps(sorted(polls))))
    return float(rows[0][0])


def forget_members(older_than: float) -> int:
    """Drop member rows whose heartbeat stopped more than ``older_than`` seconds ago (daemons that died)."""
    table = HAMember._meta.table_name
    return len(_sql(f'DELETE FROM "{table}" WHERE heartbeat_at < {NOW} - %s RETURNING id', (older_than,)))


def leave(member: str) -> None:
    """A clean stop: release every lease this daemon holds and remove its member row, at once."""
    _sql(f'UPDATE "{HALease._meta.table_name}" SET holder = NULL, expires_at = 0 WHERE holder = %s', (member,))
    _sql(f'DELETE FROM "{HAMember._meta.table_name}" WHERE id = %s', (member,))


def take(name: str, member: str, seconds: float, dead: str = "") -> int | None:
    """Take the lease ``name`` for ``seconds`` if it is free or lapsed, or held by ``dead`` (a daemon known to have
    exited); the epoch now held, or None when another daemon holds it. Holding it already renews it. Run in a
    transaction: a row lock held by a frozen daemon (a page's commit) makes it give up after a quarter lease."""
    table = HALease._meta.table_name
    if not _lock_wait(seconds / 4):
        return None
    rows = _sql(
        f'INSERT INTO "{table}" AS l (name, holder, epoch, expires_at, acquired_at, renewed_at, changes) '
        f"VALUES (%s, %s, 1, {NOW} + %s, {NOW}, {NOW}, 1) ON CONFLICT (name) DO UPDATE SET "
        "holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at, renewed_at = EXCLUDED.renewed_at, "
        "epoch = CASE WHEN l.holder = EXCLUDED.holder THEN l.epoch ELSE l.epoch + 1 END, "
        "acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE EXCLUDED.acquired_at END, "
        "changes = CASE WHEN l.holder = EXCLUDED.holder THEN l.changes ELSE l.changes + 1 END "
        f"WHERE l.holder IS NULL OR l.holder = EXCLUDED.holder OR l.expires_at < {NOW} OR l.holder = %s "
        "RETURNING epoch", (name, member, seconds, dead))
    return int(rows[0][0]) if rows else None


def renew(name: str, member: str, epoch: int, seconds: float) -> bool:
    """Extend a lease this daemon holds under ``epoch``; False when it was lost (taken over after it lapsed)."""
    table = HALease._meta.table_name
    if not _lock_wait(seconds / 4):
        return False
    rows = _sql(f'UPDATE "{table}" SET expires_at = {NOW} + %s, renewed_at = {NOW} '
                "WHERE name = %s AND holder = %s AND epoch = %s RETURNING 1", (seconds, name, member, epoch))
    return bool(rows)


def release(name: str, member: str) -> None:
    _sql(f'UPDATE "{HALease._meta.table_name}" SET holder = NULL, expires_at = 0 WHERE name = %s AND holder = %s',
         (name, member))


def fence(name: str, member: str, epoch: int) -> None:
    """Inside a page's transaction: raise LeaseLost unless ``member`` still holds ``name`` under ``epoch``. The row
    is locked FOR SHARE until the commit, so a takeover (an UPDATE) waits for this page, or this page for it."""
    rows = _sql(f'SELECT 1 FROM "{HALease._meta.table_name}" WHERE name = %s AND holder = %s AND epoch = %s '
                "FOR SHARE", (name, member, epoch))
    if not rows:
        raise LeaseLost(f"{name}: this daemon no longer holds the lease (epoch {epoch}); another daemon polls it")


def view() -> tuple[float, list[Lease], list[Member]]:
    """The database's time, every lease and every member (for status, health, metrics, diagnose)."""
    now = db_now()
    leases = [Lease(r.name, r.holder, int(r.epoch), float(r.expires_at), r.acquired_at, r.renewed_at,
                    int(r.changes)) for r in HALease.select().order_by(HALease.name)]
    members = [Member(r.id, r.host, int(r.pid), r.version, float(r.started_at), float(r.heartbeat_at),
                      list(r.polls or [])) for r in HAMember.select().order_by(HAMember.started_at)]
    return now, leases, members
