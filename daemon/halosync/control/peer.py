"""Who is on the other end of a control connection, and whether they may talk to the daemon.

The kernel tells us (SO_PEERCRED): the peer's pid, uid and gid at connect time, which a client cannot forge.
Allowed: root, the daemon's own uid, members of ``daemon.control_group`` (primary or supplementary group), and the
uids in ``daemon.control_allowed_uids``. The socket's 0660 mode already keeps others out; this check is the second
lock, and the one that still holds if someone loosens the file mode.
"""

from __future__ import annotations

import grp
import os
import pwd
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

_UCRED = struct.Struct("3i")  # struct ucred {pid_t pid; uid_t uid; gid_t gid;}


@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int

    def __str__(self) -> str:
        return f"pid {self.pid} uid {self.uid}"


def peer_of(sock: socket.socket) -> Peer:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, gid = _UCRED.unpack(raw)
    return Peer(pid, uid, gid)


def group_id(name: str) -> int | None:
    """The gid of ``name`` (a group name or a number), or None when no such group exists."""
    if not name:
        return None
    if name.isdigit():
        return int(name)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def _supplementary_groups(pid: int) -> set[int]:
    """The peer process's supplementary groups, read from /proc (empty if it has already gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Groups:"):
                return {int(g) for g in line.split()[1:]}
    except (OSError, ValueError):  # the peer exited since connecting: its uid/gid still decide
        pass
    return set()


def _user_in_group(uid: int, gid: int) -> bool:
    try:
        user = pwd.getpwuid(uid).pw_name
        return user in grp.getgrgid(gid).gr_mem
    except KeyError:
        return False


class PeerPolicy:
    def __init__(self, *, group: str = "", allowed_uids: Iterable[int] = (), own_uid: int | None = None) -> None:
        self.own_uid = os.getuid() if own_uid is None else own_uid
        self.allowed_uids = {int(u) for u in allowed_uids}
        self.group = group
        self.gid = group_id(group)
        if group and self.gid is None:
            logger.warning("daemon.control_group {!r} does not exist; only root and uid {} may use the control socket",
                           group, self.own_uid)

    def allows(self, peer: Peer) -> bool:
        if peer.uid in (0, self.own_uid) or peer.uid in self.allowed_uids:
            return True
        if self.gid is None:
            return False
        return peer.gid == self.gid or self.gid in _supplementary_groups(peer.pid) or _user_in_group(peer.uid, self.gid)

    def refusal(self, peer: Peer) -> str:
        who = f"uid {peer.uid}"
        allowed = "root, the daemon's user" + (f", members of group {self.group!r}" if self.gid is not None else "")
        return (f"{who} may not use this control socket (allowed: {allowed}); run halosyncctl as one of them, "
                "or add the user to daemon.control_group")
