"""SQLite: the store's units of work all run on one thread of its own, so the daemon keeps one connection.

peewee keeps one connection per thread. trio's worker threads are shared by everything that calls
``trio.to_thread`` and are handed out most-recently-idle first, so after any other thread call (an audit line,
a status read, a WAL checkpoint) the store's next unit would land on another thread and open another connection:
a second page cache to fill, and each connection's commits invalidate the other's. A ``DatabaseThread`` runs units
one at a time, in order, on a single long-lived thread. After ``IDLE_EXIT`` seconds without work the thread closes
its connection and exits (a store that is no longer used holds nothing open); the next unit starts a new one.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

import outcome
import trio

T = TypeVar("T")
IDLE_EXIT = 30.0  # seconds without work before the thread closes its connection and exits


class DatabaseThread:
    def __init__(self, name: str, on_exit: Callable[[], None]) -> None:
        """``on_exit`` runs on the thread as it leaves (the store closes the thread's connection there)."""
        self.name = name
        self._on_exit = on_exit
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        """Whether the thread is there (it leaves when idle, and comes back with the next unit)."""
        return self._thread is not None

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` on the thread. Like ``trio.to_thread.run_sync``, a unit of work that has started is waited for
        even if the caller is cancelled: a transaction is never abandoned halfway."""
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()
        result: list[outcome.Outcome[T]] = []

        def job() -> None:
            result.append(outcome.capture(fn))
            with contextlib.suppress(trio.RunFinishedError):  # the caller's event loop is gone: nobody waits
                token.run_sync_soon(done.set)

        self._submit(job)
        with trio.CancelScope(shield=True):
            await done.wait()
        return result[0].unwrap()

    def stop(self, timeout: float = 10.0) -> None:
        """Let queued units finish, close the connection on the thread, and wait for it to exit."""
        with self._lock:
            thread = self._thread
            if thread is not None:
                self._jobs.put(_STOP)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._jobs.put(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        try:
            while True:
                try:
                    job = self._jobs.get(timeout=IDLE_EXIT)
                except queue.Empty:
                    with self._lock:  # a unit submitted meanwhile is seen here, or finds no thread and starts one
                        if self._jobs.empty():
                            self._thread = None
                            return
                    continue
                if job is _STOP:
                    with self._lock:  # a unit submitted after the stop still runs before the thread leaves
                        if self._jobs.empty():
                            self._thread = None
                            return
                    continue
                job()
        finally:
            self._on_exit()


def _STOP() -> None:  # a sentinel job: the thread exits when it reaches it
    pass
