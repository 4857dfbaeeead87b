"""One control connection: check the peer, then read request lines and answer them, one at a time."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import trio
from loguru import logger

from halosync.control.audit import AuditLog
from halosync.control.peer import Peer, PeerPolicy, peer_of
from halosync.control.protocol import (
    ControlFailure,
    LineBuffer,
    LineTooLong,
    encode,
    error,
    event,
    parse_request,
    result,
)
from halosync.control.registry import Call, ControlPorts, MethodRegistry, no_events
from halosync.errors import HalosyncError

if TYPE_CHECKING:
    from halosync.control.snapshot import StatusSnapshot

RECEIVE_BYTES = 65536
# A method's answers that are refusals (audited), rather than outcomes (not found, failed, busy, ...).
REFUSALS = frozenset({"invalid_params", "permission_denied"})


class _Refused(Exception):
    """A line that is not a request this daemon answers (unreadable, malformed, an unknown method)."""

    def __init__(self, failure: ControlFailure) -> None:
        super().__init__(str(failure))
        self.failure = failure



class _PeerGone(Exception):
    """The client went away or stopped reading; nothing more can be said to it."""


class Connection:
    def __init__(self, stream: trio.SocketStream, daemon: ControlPorts, registry: MethodRegistry, policy: PeerPolicy,
                 audit: AuditLog, nursery: trio.Nursery, *, idle_timeout: float, status: StatusSnapshot) -> None:
        self.stream = stream
        self.daemon = daemon
        self.status = status
        self.registry = registry
        self.policy = policy
        self.audit = audit
        self.nursery = nursery
        self.idle_timeout = idle_timeout

    async def serve(self, clients: trio.CapacityLimiter) -> None:
        async with self.stream:
            # A client that disconnects or stops reading is an expected end: nothing to report.
            with contextlib.suppress(_PeerGone):
                await self._serve(clients)

    async def _serve(self, clients: trio.CapacityLimiter) -> None:
        try:
            peer = peer_of(self.stream.socket)  # type: ignore[arg-type]
        except OSError:
            return  # gone before we could ask who it was
        if not self.policy.allows(peer):
            logger.warning("control socket: refused {} (not root, the daemon's user or the control group)", peer)
            await self.audit.refused(peer, None, "permission_denied", self.policy.refusal(peer))
            await self._send(error(None, "permission_denied", self.policy.refusal(peer)))
            return
        try:
            clients.acquire_nowait()
        except trio.WouldBlock:
            logger.warning("control socket: turned {} away ({} clients already connected)", peer,
                           clients.total_tokens)
            await self.audit.refused(peer, None, "busy", f"{clients.total_tokens:g} clients already connected")
            await self._send(error(None, "busy", f"the daemon already serves {clients.total_tokens:g} control "
                                                 "clients; try again shortly"))
            return
        try:
            await self._requests(peer)
        finally:
            clients.release()

    async def _requests(self, peer: Peer) -> None:
        lines = LineBuffer()
        line_deadline = trio.current_time() + self.idle_timeout
        while True:
            # A silent client, and one that trickles a line byte by byte, both get idle_timeout for a whole line.
            if not lines.pending:
                line_deadline = trio.current_time() + self.idle_timeout
            with trio.move_on_at(line_deadline) as idle:
                try:
                    data = await self.stream.receive_some(RECEIVE_BYTES)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    raise _PeerGone from None
            if idle.cancelled_caught:
                await self._send(error(None, "timeout", f"no complete request within {self.idle_timeout:g} s; "
                                                        "closing the connection"))
                return
            if not data:
                return  # the client closed its end
            try:
                received = lines.feed(data)
            except LineTooLong as exc:
                logger.warning("control socket: {} sent an oversized line; disconnected", peer)
                await self.audit.refused(peer, None, "too_large", str(exc))
                await self._send(error(None, "too_large", f"{exc}; closing the connection"))
                return
            for line in received:
                if line.strip():
                    await self._answer(line, peer)

    async def _answer(self, line: bytes, peer: Peer) -> None:
        request_id: Any = None
        name: str | None = None
        try:
            try:
                request = parse_request(line)
                request_id, name = request.id, request.method
                method = self.registry.get(request.method)
            except ControlFailure as failure:  # not a request, or not one this daemon answers
                raise _Refused(failure) from None
            if method.is_mutating(request.params):
                await self.audit.record(peer, request.method, request.params)

            async def emit(value: dict[str, Any]) -> None:
                await self._send(event(request_id, value))

            call = Call(self.daemon, request.method, request.params, peer, self.nursery, self.status,
                        emit=emit if method.streaming else no_events)
            reply = result(request_id, await method.handler(call))
        except _PeerGone:
            raise
        except _Refused as refused:
            bad = refused.failure
            await self.audit.refused(peer, name, bad.code, str(bad))
            reply = error(bad.request_id if bad.request_id is not None else request_id, bad.code, str(bad))
        except ControlFailure as failure:
            if failure.code in REFUSALS:  # the method refused its parameters or the caller
                await self.audit.refused(peer, name, failure.code, str(failure))
            reply = error(failure.request_id if failure.request_id is not None else request_id, failure.code,
                          str(failure))
        except HalosyncError as exc:
            reply = error(request_id, "failed", str(exc))
        except Exception as exc:  # a bug in one method must not end the connection, let alone the daemon
            logger.opt(exception=True).error("control method failed on a request from {}", peer)
            reply = error(request_id, "internal", f"{type(exc).__name__}: {exc} (the daemon's log has the details)")
        await self._send(reply)

    async def _send(self, document: dict[str, Any]) -> None:
        try:
            with trio.fail_after(self.idle_timeout):
                await self.stream.send_all(encode(document))
        except (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError):
            raise _PeerGone from None
