"""The blocking client of the control socket (``halosyncctl`` is a short-lived synchronous program).

Where it connects: ``--socket`` > the configuration's ``daemon.control_socket`` (``--config``, or the usual config
lookup when it sets the key) > ``$HALOSYNC_SOCKET`` > ``/run/halosync/control.sock``. Every failure to reach the
daemon says where it looked, why that place was chosen, and how to start the daemon.
"""

from __future__ import annotations

import json
import os
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halosync.config import loader
from halosync.control.protocol import ControlFailure, LineBuffer, LineTooLong, encode, request
from halosync.errors import ConfigError, ConfigProblem, DaemonUnreachable

DEFAULT_SOCKET = Path("/run/halosync/control.sock")
HOW_TO_START = ("start it with `systemctl start halosync` (or `halosync run` in a terminal), or point halosyncctl at "
                "its socket with --socket PATH or --config PATH")

OnEvent = Callable[[dict[str, Any]], None]
Warn = Callable[[str], None]
MAX_ANSWER_BYTES = 64 << 20


@dataclass(frozen=True)
class SocketLocation:
    path: Path
    origin: str  # why this path: "--socket", "daemon.control_socket in /etc/halosync/halosync.toml", ...

    def __str__(self) -> str:
        return f"{self.path} (from {self.origin})"


def _configured_socket(path: Path, *, explicit: bool, warn: Warn | None = None) -> str | None:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        if not explicit:
            return None
        raise ConfigError([ConfigProblem(str(path), 0, "(file)", f"cannot read: {exc.strerror or exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        if warn is None:
            raise ConfigError([ConfigProblem(str(path), 0, "(syntax)", str(exc))]) from None
        # Only the socket path is needed here, and the daemon may well run on its last good configuration: say
        # so and go on with the other places the socket can come from (issue 15).
        warn(f"{path}: {exc}: daemon.control_socket cannot be read from it, so it is ignored here "
             "(`halosync check-config` shows every problem)")
        return None
    value = raw.get("daemon", {}).get("control_socket") if isinstance(raw.get("daemon"), dict) else None
    if value is not None and not isinstance(value, str):
        raise ConfigError([ConfigProblem(str(path), 0, "daemon.control_socket", "must be a string (a path)")])
    return value


def resolve_socket(socket_arg: str | None, config_arg: str | None,
                   environ: Mapping[str, str] | None = None, *, warn: Warn | None = None) -> SocketLocation:
    """Where the daemon's socket is. With ``warn``, a configuration file that is not valid TOML is reported through
    it and skipped; without, it raises ``ConfigError``."""
    env = os.environ if environ is None else environ
    if socket_arg:
        return SocketLocation(Path(socket_arg), "--socket")
    if env.get("HALOSYNC_DAEMON__CONTROL_SOCKET"):
        return SocketLocation(Path(env["HALOSYNC_DAEMON__CONTROL_SOCKET"]), "$HALOSYNC_DAEMON__CONTROL_SOCKET")
    config = loader.find_config(config_arg, env)
    if config is not None:
        configured = _configured_socket(config, explicit=bool(config_arg), warn=warn)
        if configured:
            return SocketLocation(Path(configured), f"daemon.control_socket in {config}")
    if env.get("HALOSYNC_SOCKET"):
        return SocketLocation(Path(env["HALOSYNC_SOCKET"]), "$HALOSYNC_SOCKET")
    return SocketLocation(DEFAULT_SOCKET, "the default")


class ControlClient:
    """One connection; ``call`` may be used several times on it."""

    def __init__(self, location: SocketLocation, *, timeout: float | None = 30.0) -> None:
        self.location = location
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._lines = LineBuffer(MAX_ANSWER_BYTES)  # requests are capped at 1 MiB; answers may be longer
        self._pending: list[bytes] = []
        self._next_id = 1

    def __enter__(self) -> ControlClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        where = self.location
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(where.path))
        except FileNotFoundError:
            sock.close()
            raise DaemonUnreachable(f"no daemon is running: there is no control socket at {where}; "
                                    f"{HOW_TO_START}") from None
        except ConnectionRefusedError:
            sock.close()
            raise DaemonUnreachable(f"no daemon answers on {where} (a socket file is left from an earlier run); "
                                    f"{HOW_TO_START}") from None
        except PermissionError:
            sock.close()
            raise ControlFailure("permission_denied", f"permission denied on the control socket {where}; run "
                                 "halosyncctl as root, as the daemon's user, or as a member of "
                                 "daemon.control_group") from None
        except OSError as exc:
            sock.close()
            raise DaemonUnreachable(f"cannot connect to {where}: {exc.strerror or exc}; {HOW_TO_START}") from None
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def call(self, method: str, params: dict[str, Any] | None = None, *, on_event: OnEvent | None = None) -> Any:
        """Send one request and return its result; events of a streaming method go to ``on_event``."""
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        request_id = self._next_id
        self._next_id += 1
        try:
            self._sock.sendall(encode(request(request_id, method, params)))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon may have refused us already; its error line is still waiting to be read
        except TimeoutError:
            raise DaemonUnreachable(f"the daemon on {self.location} does not accept requests") from None
        while True:
            reply = self._read()
            if "event" in reply and reply.get("id") == request_id:
                if on_event is not None:
                    on_event(reply["event"])
                continue
            if "error" in reply and reply.get("id") in (request_id, None):
                err = reply["error"] if isinstance(reply["error"], dict) else {}
                raise ControlFailure(str(err.get("code", "failed")), str(err.get("message", "the call failed")))
            if "result" in reply and reply.get("id") == request_id:
                return reply["result"]

    def _read(self) -> dict[str, Any]:
        assert self._sock is not None
        while not self._pending:
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                raise DaemonUnreachable(f"the daemon on {self.location} did not answer within {self.timeout:g} s; "
                                        "it may be overloaded or stuck (see its log)") from None
            except ConnectionResetError:
                data = b""
            if not data:
                raise DaemonUnreachable(f"the daemon on {self.location} closed the connection without an answer; "
                                        "see its log") from None
            try:
                self._pending.extend(self._lines.feed(data))
            except LineTooLong as exc:
                raise ControlFailure("too_large", f"the daemon's answer is too large: {exc}") from None
        line = self._pending.pop(0)
        try:
            document = json.loads(line)
        except ValueError:
            raise ControlFailure("parse_error", f"the daemon on {self.location} answered something that is not "
                                                "JSON; is it a halosync control socket?") from None
        if not isinstance(document, dict):
            raise ControlFailure("parse_error", "the daemon's answer is not a JSON object")
        return document
