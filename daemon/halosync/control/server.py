"""The control socket server: ``ControlComponent`` (component name ``control``).

One Unix stream socket at ``daemon.control_socket``, never an abstract one: created under a umask that leaves it
0660, given ``daemon.control_group``, and only then listened on, so there is no moment when a stranger could
connect. A socket file left by a crashed daemon is removed; one that a live daemon still answers on is not (we
refuse to start instead of stealing it). Each connection is checked with SO_PEERCRED, then served one request at
a time with an idle timeout; more than ``daemon.control_max_clients`` at once are turned away. A client that
sends garbage gets an error reply; one that sends a line over 1 MiB, or stays silent too long, is disconnected.
No client can take the daemon down: every failure stays inside its own connection.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import trio
from loguru import logger

from halosync.control.audit import AuditLog
from halosync.control.connection import Connection
from halosync.control.methods_read import READ_METHODS, methods_of
from halosync.control.methods_write import WRITE_METHODS
from halosync.control.peer import PeerPolicy, group_id
from halosync.control.privacy import PRIVACY_METHODS
from halosync.control.registry import ControlPorts, MethodRegistry
from halosync.control.snapshot import StatusSnapshot
from halosync.daemon.api import ReloadRegistration
from halosync.errors import ControlError
from halosync.exitcodes import EX_CONFIG, EX_NOPERM, EX_TEMPFAIL

if TYPE_CHECKING:
    from halosync.config.loader import Config

SOCKET_MODE = 0o660
MAX_UNIX_PATH = 107  # sun_path is 108 bytes including the terminating NUL
STALE_PROBE_TIMEOUT = 2.0


class SocketUnusable(ControlError):
    """The control socket cannot be set up; the daemon exits with ``exit_code`` (77 permissions, 78 configuration,
    75 another daemon holds it: try again later)."""

    def __init__(self, exit_code: int, message: str) -> None:
        self.exit_code = exit_code
        super().__init__(message)


def _code(exc: OSError) -> int:
    return EX_NOPERM if isinstance(exc, PermissionError) else EX_CONFIG


class ControlComponentPorts(ControlPorts, ReloadRegistration, Protocol):
    """The methods' ports, plus a reload hook (who may connect follows the configuration)."""


class ControlComponent:
    name = "control"

    def __init__(self) -> None:
        self.path: Path | None = None
        self.registry: MethodRegistry | None = None
        self.policy = PeerPolicy()
        self.status = StatusSnapshot()  # the figures behind `status`, shared by every connection

    async def run(self, daemon: ControlComponentPorts, *,
                  task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        config = daemon.config
        path = Path(config.get("daemon.control_socket"))
        self.policy = _policy(config)

        async def on_reload() -> None:  # who may connect follows the configuration; the socket itself does not move
            self.policy = _policy(daemon.config)
            if Path(daemon.config.get("daemon.control_socket")) != path:
                logger.warning("daemon.control_socket changed; the socket stays at {} until the daemon restarts", path)

        daemon.add_reload_hook(on_reload)
        registry = MethodRegistry(daemon, [*READ_METHODS, *WRITE_METHODS, *PRIVACY_METHODS])
        registry.builtins["system.methods"] = methods_of(lambda: [m.describe() for m in registry.all()])
        audit = AuditLog(config.state_dir / "audit.log" if config.state_dir.is_dir() else None)
        sock = await bind_socket(path, group=config.get("daemon.control_group", ""))
        identity = os.stat(path)
        self.path, self.registry = path, registry
        limit = int(config.get("daemon.control_max_clients", 16))
        clients = trio.CapacityLimiter(limit)
        listener = trio.SocketListener(sock)
        try:
            async with listener, trio.open_nursery() as nursery:
                logger.info("control socket listening on {}", path)
                task_status.started()
                while True:
                    stream = await listener.accept()
                    connection = Connection(stream, daemon, registry, self.policy, audit, nursery,
                                            idle_timeout=float(daemon.config.get("daemon.control_idle_timeout")),
                                            status=self.status)
                    nursery.start_soon(connection.serve, clients)
        finally:
            daemon.remove_reload_hook(on_reload)
            _remove_if_ours(path, identity)


def _policy(config: Config) -> PeerPolicy:
    return PeerPolicy(group=config.get("daemon.control_group", ""),
                      allowed_uids=config.get("daemon.control_allowed_uids", []))


async def bind_socket(path: Path, *, group: str = "") -> trio.socket.SocketType:
    """A listening Unix socket at ``path`` with mode 0660 and group ``group``; see the module docstring."""
    if len(os.fsencode(path)) > MAX_UNIX_PATH:
        raise SocketUnusable(EX_CONFIG, f"daemon.control_socket {str(path)!r} is longer than {MAX_UNIX_PATH} "
                             "bytes, the limit of a Unix socket path; choose a shorter path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SocketUnusable(_code(exc), f"cannot create the directory of the control socket {str(path)!r}: "
                             f"{exc.strerror}; create it or set daemon.control_socket") from None
    await _clear_stale(path)
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # umask is process-wide; bind is a single syscall and nothing else in the daemon creates files meanwhile
    # that would mind a tighter mask for an instant.
    old_mask = os.umask(0o117)
    try:
        await sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise SocketUnusable(_code(exc), f"cannot create the control socket {str(path)!r}: {exc.strerror}; check "
                             "the directory's permissions or set daemon.control_socket") from None
    finally:
        os.umask(old_mask)
    try:
        os.chmod(path, SOCKET_MODE)
        gid = group_id(group)
        if gid is not None:
            try:
                os.chown(path, -1, gid)
            except PermissionError:
                logger.error("cannot give the control socket to group {!r} (the daemon's user must be in it); only "
                             "root and the daemon's user can use it", group)
        sock.listen(128)
    except BaseException:
        sock.close()
        os.unlink(path)
        raise
    return sock


async def _clear_stale(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketUnusable(EX_CONFIG, f"{str(path)!r} exists and is not a socket; remove it or set "
                             "daemon.control_socket")
    probe = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with trio.move_on_after(STALE_PROBE_TIMEOUT):
            await probe.connect(str(path))
        # Connected, or still waiting in a full backlog: either way a live process owns this socket.
        raise SocketUnusable(EX_TEMPFAIL, f"another halosync daemon answers on {str(path)!r}; stop it first "
                             "(`halosyncctl status` shows it), or give this one another daemon.control_socket")
    except OSError as exc:
        if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
            raise SocketUnusable(_code(exc), f"cannot check the existing control socket {str(path)!r}: "
                                 f"{exc.strerror}") from None
    finally:
        probe.close()
    logger.info("removing the stale control socket {} (no daemon answers on it)", path)
    with contextlib.suppress(FileNotFoundError):  # another starting daemon removed it first: same outcome
        os.unlink(path)


def _remove_if_ours(path: Path, identity: os.stat_result) -> None:
    """Remove the socket at exit unless another daemon has replaced it meanwhile."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return
    if (now.st_ino, now.st_dev) == (identity.st_ino, identity.st_dev):
        path.unlink(missing_ok=True)
