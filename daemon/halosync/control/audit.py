"""The audit trail of the control socket: one line per mutating call, written before the call runs.

Each line says who (peer pid and uid), what (method) and with which parameters, with anything that looks like a
secret masked. Lines go to the daemon's log (``audit: ...``) and, as JSON lines, to ``<state_dir>/audit.log`` so an
operator can answer "who paused the sync?" after the journal has rotated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trio
from loguru import logger

from halosync import secrets
from halosync.control.peer import Peer

_SECRET_WORDS = ("secret", "password", "token", "key", "credential", "authorization")
# Issue 16: parameters that name a person (forget, suppress): the audit log outlives any erasure, so never them.
_PERSONAL_NAMES = ("query", "entries")
PERSONAL_MASK = "[personal data]"


def scrub(value: Any, name: str = "") -> Any:
    """``value`` with secret-looking entries masked (by key name, and every known secret in strings)."""
    if name and any(word in name.lower() for word in _SECRET_WORDS):
        return secrets.MASK
    if name in _PERSONAL_NAMES:
        return PERSONAL_MASK
    if isinstance(value, Mapping):
        return {str(k): scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return secrets.redact(value)
    return value


class AuditLog:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._warned = False

    async def record(self, peer: Peer, method: str, params: Mapping[str, Any]) -> None:
        clean = scrub(dict(params))
        logger.bind(audit=True).info("audit: {} ({}) called {} {}", peer, _user(peer.uid), method,
                                     json.dumps(clean, sort_keys=True))
        if self.path is None:
            return
        line = json.dumps({"at": time.time(), "pid": peer.pid, "uid": peer.uid, "method": method, "params": clean},
                          sort_keys=True, default=str) + "\n"
        try:
            await trio.to_thread.run_sync(self._append, line)
        except OSError as exc:
            if not self._warned:  # once: the journal line above still records every call
                logger.warning("cannot write the audit log {}: {}; audit lines go to the log only", self.path,
                               exc.strerror or exc)
                self._warned = True

    def _append(self, line: str) -> None:
        assert self.path is not None
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line)

    def read(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _user(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
