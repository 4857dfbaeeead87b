"""The one way async code reaches the database.

peewee is synchronous, so every unit of work runs in a thread behind a ``CapacityLimiter``: on SQLite one at a
time (one writer; WAL lets readers elsewhere carry on), on the store's own thread so that it keeps one connection
and one page cache (``halosync.store.dbthread``); on PostgreSQL ``pool_size`` at a time in trio's worker threads,
each unit taking a pooled connection and giving it back. ``Store.transaction(fn)`` runs ``fn`` inside one
transaction: everything it does commits together or not at all, which is how a page of staged leads and its cursor,
or an outbox result and its link, stay consistent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import peewee as pw
import trio

from halosync.errors import StoreError, StoreUnreachable
from halosync.store.checkpoint import SAFETY_PAGES, WalCheckpointer
from halosync.store.database import is_sqlite, open_database, redacted_url
from halosync.store.dbthread import DatabaseThread
from halosync.store.migrations_runner import Migrations
from halosync.store.models import MODELS, database_proxy
from halosync.store.querystats import QueryStats

P = ParamSpec("P")
T = TypeVar("T")


class Store:
    def __init__(self, url: str, *, timeout: float = 30.0, pool_size: int = 4,
                 background_checkpoint: bool = False, query_stats: QueryStats | None = None,
                 idle_in_transaction: float | None = None) -> None:
        """``background_checkpoint`` (the daemon's store): on an SQLite file, ``checkpointer`` is set, and its
        ``run()`` task must run for as long as the store is used (see halosync.store.checkpoint).
        ``query_stats``: where every statement is timed (``halosyncctl queries``, the slow-query log).
        ``idle_in_transaction`` (PostgreSQL): seconds after which the server ends a transaction of this store whose
        client stopped talking mid-way (a frozen host, a SIGSTOP): its row and advisory locks are released instead
        of holding up every daemon sharing the store (``transaction``)."""
        self.url = url
        self.idle_in_transaction = idle_in_transaction
        self.timeout = timeout
        self.query_stats = query_stats or QueryStats()
        self.db = open_database(url, timeout=timeout, pool_size=pool_size,
                                wal_autocheckpoint=SAFETY_PAGES if background_checkpoint else None,
                                stats=self.query_stats)
        self.sqlite = is_sqlite(self.db)
        path = str(self.db.database) if self.sqlite else ""
        self.checkpointer = WalCheckpointer(path, timeout) if background_checkpoint and path not in (
            "", ":memory:") else None
        self.limiter = trio.CapacityLimiter(1 if self.sqlite else pool_size)
        self._thread = DatabaseThread("halosync-store", self._close_connection) if self.sqlite else None
        database_proxy.initialize(self.db)

    @property
    def shown_url(self) -> str:
        return redacted_url(self.url)

    # --- async API -----------------------------------------------------------------------------------

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args)`` in a database thread (no transaction of its own: autocommit per statement)."""
        return await self._in_thread(lambda: self._call(fn, *args, **kwargs))

    async def transaction(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args)`` in a database thread inside one transaction."""

        def atomic() -> T:
            with self.db.atomic():
                if self.idle_in_transaction and not self.sqlite:
                    # SET LOCAL, not a session setting: it ends with the transaction, so a pooler in transaction
                    # mode (pgbouncer) carries it to no other client.
                    timeout = f"{max(1, round(self.idle_in_transaction * 1000))}ms"
                    self.db.execute_sql(  # type: ignore[no-untyped-call]
                        "SET LOCAL idle_in_transaction_session_timeout = %s", (timeout,))
                return fn(*args, **kwargs)

        return await self._in_thread(lambda: self._call(atomic))

    async def _in_thread(self, unit: Callable[[], T]) -> T:
        if self._thread is None:
            return await trio.to_thread.run_sync(unit, limiter=self.limiter)
        async with self.limiter:  # also serialises with whoever else takes it (a dry run's own thread)
            return await self._thread.run(unit)

    # --- sync API (for offline commands and for code already in a database thread) ---------------

    def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            self.db.connect(reuse_if_open=True)
            return fn(*args, **kwargs)
        except (pw.OperationalError, pw.InterfaceError) as exc:  # Interface: a connection the server ended
            why, lost = _first_cause(exc)
            if lost and not self.sqlite:
                # The pool's idle connections most likely went with this one (a restart ends them all): dropped,
                # or each would cost the next units an attempt to find it dead.
                self.db.close_idle()  # type: ignore[attr-defined]  # a pooled database (PostgreSQL)
                raise StoreUnreachable(f"database {self.shown_url}: {why}") from exc
            raise StoreError(f"database {self.shown_url}: {why}") from exc
        finally:
            if not self.sqlite:  # return the connection to the pool between units of work
                self.db.close()

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return self._call(fn, *args, **kwargs)

    def create_schema(self) -> None:
        """Bring the schema up to date (used by tests and `halosync run`; `halosync migrate` for control)."""
        self.call(lambda: Migrations(self).up())

    def close(self) -> None:
        if self._thread is not None:
            self._thread.stop()  # closes the store thread's connection
        self._close_connection()  # and the calling thread's own, if it used one
        if hasattr(self.db, "close_all"):
            self.db.close_all()

    def _close_connection(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def tables(self) -> list[str]:
        return self.call(self.db.get_tables)


# SQLSTATE classes and codes of a connection that is gone or not to be had now: 08 connection exception, 57P0x
# the server shutting down, restarting or not yet accepting, 25P03 a transaction it ended for idling too long.
_LOST_CODES = ("08", "57P01", "57P02", "57P03", "25P03")
_LOST_TEXTS = ("closed the connection", "terminating connection", "connection already closed", "could not connect",
               "connection refused", "no connection to the server", "ssl syscall", "ssl connection has been closed",
               "the database system is", "connection to server")


def _first_cause(exc: BaseException) -> tuple[str, bool]:
    """What went wrong first, and whether it is a connection lost (or not to be had): a rollback on a connection
    the server closed raises "connection already closed" over the error that says why (an idle-in-transaction
    timeout, a server restart)."""
    first: BaseException = exc
    seen: BaseException | None = exc
    codes: list[str] = []
    while seen is not None:
        if isinstance(seen, pw.OperationalError | pw.InterfaceError):
            first = seen
        codes.append(str(getattr(seen, "pgcode", "") or ""))
        seen = seen.__context__
    text = " ".join(str(first).split())
    lost = isinstance(first, pw.InterfaceError) or any(c.startswith(_LOST_CODES) for c in codes if c) or any(
        marker in text.lower() for marker in _LOST_TEXTS)
    if lost:
        text += ("; the server ended this connection or cannot be reached (a restart, or a transaction left idle "
                 "longer than ha.lease_seconds, as by a frozen daemon), which rolls back what was not committed: "
                 "the daemon tries the work again on a new connection")
    return text, lost


__all__ = ["MODELS", "Store"]
