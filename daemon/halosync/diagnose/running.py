"""Is a daemon running, and do its front ends answer? The control socket (``system.version``) and the HTTP
listener (``GET /health/live``).

No daemon at all is a warning, not a failure: ``diagnose`` is as often run while the daemon is stopped. A daemon
that runs but whose listener does not answer is a failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import trio

from halosync.config.loader import Config
from halosync.contracts import CheckResult, CheckStatus
from halosync.control.protocol import MAX_LINE_BYTES, encode, request

START_HINT = "start it: systemctl start halosync (journalctl -u halosync says why it stopped)"


async def control_socket_check(config: Config, within: float) -> CheckResult:
    """Connect and ask for the version; the result's status is "pass" only when a daemon answered."""
    name = "daemon.control_socket"
    path = Path(str(config.get("daemon.control_socket")))
    if not await trio.Path(path).exists():
        return CheckResult(name, "warn", f"no daemon is running ({path} does not exist)", START_HINT)
    with trio.move_on_after(within):
        try:
            stream = await trio.open_unix_socket(str(path))
        except PermissionError:
            group = config.get("daemon.control_group") or "the daemon's group"
            return CheckResult(name, "fail", f"permission denied on {path}",
                               f"run as root or the daemon's user, or join {group} (usermod -aG {group} $USER, "
                               "then log in again)")
        except OSError as exc:
            return CheckResult(name, "warn", f"{path} exists but no daemon answers ({exc.strerror or exc})",
                               START_HINT)
        async with stream:
            await stream.send_all(encode(request(1, "system.version")))
            reply = await _read_line(stream)
        return _version_reply(name, path, reply)
    return CheckResult(name, "fail", f"the daemon on {path} did not answer within {within:g} s",
                       "the daemon is stuck or overloaded: journalctl -u halosync; systemctl restart halosync")


async def _read_line(stream: trio.SocketStream) -> bytes:
    data = b""
    while b"\n" not in data and len(data) <= MAX_LINE_BYTES:
        chunk = await stream.receive_some(65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def _version_reply(name: str, path: Path, line: bytes) -> CheckResult:
    try:
        reply = json.loads(line)
    except ValueError:
        return CheckResult(name, "fail", f"{path} answered something that is not the control protocol",
                           "another program owns this socket path: check daemon.control_socket")
    if "error" in reply:
        error = reply["error"]
        status: CheckStatus = "fail" if error.get("code") == "permission_denied" else "warn"
        return CheckResult(name, status, f"the daemon refused: {error.get('message', error)}",
                           "run as root or a member of daemon.control_group")
    result = reply.get("result")
    version = result.get("version", result) if isinstance(result, dict) else result
    return CheckResult(name, "pass", f"a daemon answers on {path} (version {version})")


def listen_url(listen: str) -> str:
    """``http://host:port`` to reach a listener bound to ``listen`` (a wildcard bind is reached on loopback)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def http_listener_check(config: Config, within: float, *, daemon_running: bool) -> CheckResult:
    name = "daemon.http_listener"
    listen = str(config.get("http.listen") or "")
    if not listen:
        return CheckResult(name, "pass", 'the listener is off (http.listen = ""): no /health, /metrics or webhooks')
    url = listen_url(listen) + "/health/live"
    try:
        async with httpx.AsyncClient(timeout=within) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        if not daemon_running:
            return CheckResult(name, "warn", f"nothing answers on {listen} (no daemon running)", START_HINT)
        return CheckResult(name, "fail", f"the daemon runs but {url} does not answer: {exc}",
                           "journalctl -u halosync: did the listener fail to bind (port taken)? check http.listen")
    if response.status_code != 200:
        return CheckResult(name, "fail", f"{url} answered HTTP {response.status_code}",
                           "another program listens on http.listen, or the daemon is unwell: halosyncctl status")
    return CheckResult(name, "pass", f"{url} answers (HTTP 200)")
