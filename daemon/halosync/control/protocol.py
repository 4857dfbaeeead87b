"""The control protocol: newline-delimited JSON with a versioned envelope, at most 1 MiB a line.

    request   {"v": 1, "id": 7, "method": "status", "params": {}}
    result    {"v": 1, "id": 7, "result": {...}}
    error     {"v": 1, "id": 7, "error": {"code": "not_found", "message": "..."}}
    event     {"v": 1, "id": 7, "event": {...}}        (streaming methods, before their result)

Both ends share this module: the daemon's server (trio) and ``halosyncctl``'s blocking client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from halosync.errors import ControlError
from halosync.exitcodes import EX_CONFIG, EX_NOPERM, EX_PROBLEMS, EX_UNAVAILABLE, EX_USAGE

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 1 << 20

# Error codes on the wire, and the exit code halosyncctl turns each into (sysexits, as CONTRACT.md lists them).
EXIT_CODES: dict[str, int] = {
    "parse_error": EX_USAGE,
    "invalid_request": EX_USAGE,
    "unsupported_version": EX_USAGE,
    "unknown_method": EX_USAGE,
    "invalid_params": EX_USAGE,
    "too_large": EX_USAGE,
    "not_found": EX_PROBLEMS,
    "failed": EX_PROBLEMS,
    "internal": EX_PROBLEMS,
    "timeout": EX_PROBLEMS,
    "busy": EX_UNAVAILABLE,
    "unavailable": EX_UNAVAILABLE,
    "permission_denied": EX_NOPERM,
    "config_invalid": EX_CONFIG,
}


class ControlFailure(ControlError):
    """A call that failed with a wire error code; ``str()`` is the message a user reads."""

    def __init__(self, code: str, message: str, *, request_id: Any = None) -> None:
        self.code = code
        self.request_id = request_id
        super().__init__(message)

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return EXIT_CODES.get(self.code, EX_PROBLEMS)


@dataclass(frozen=True)
class Request:
    id: Any
    method: str
    params: dict[str, Any] = field(default_factory=dict)


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), default=str).encode() + b"\n"


def request(request_id: Any, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": request_id, "method": method, "params": params or {}}


def result(request_id: Any, value: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": request_id, "result": value}


def error(request_id: Any, code: str, message: str) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": request_id, "error": {"code": code, "message": message}}


def event(request_id: Any, value: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": request_id, "event": value}


def parse_request(line: bytes) -> Request:
    """Decode one request line; a ControlFailure says what is wrong with it (with the id, when one was readable)."""
    try:
        doc = json.loads(line)
    except (UnicodeDecodeError, ValueError):
        raise ControlFailure("parse_error", "the line is not JSON; send one JSON object per line") from None
    if not isinstance(doc, dict):
        raise ControlFailure("invalid_request", "a request is a JSON object with v, id, method and params")
    request_id = doc.get("id")
    if not isinstance(request_id, (int, str, type(None))) or isinstance(request_id, bool):
        raise ControlFailure("invalid_request", "id must be a number, a string or null")
    if doc.get("v") != PROTOCOL_VERSION:
        raise ControlFailure("unsupported_version",
                             f"protocol version {doc.get('v')!r} is not spoken here; "
                             f"this daemon speaks v{PROTOCOL_VERSION}",
                             request_id=request_id)
    method, params = doc.get("method"), doc.get("params", {})
    if not isinstance(method, str) or not method:
        raise ControlFailure("invalid_request", "method must be a non-empty string", request_id=request_id)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ControlFailure("invalid_request", "params must be a JSON object", request_id=request_id)
    return Request(request_id, method, params)


class LineTooLong(ControlError):
    pass


class LineBuffer:
    """Splits a byte stream into lines, refusing any line longer than ``limit`` without holding it in memory."""

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        lines: list[bytes] = []
        while (end := self._buffer.find(b"\n")) >= 0:
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if len(line) > self.limit:
                raise LineTooLong(f"a line of {len(line)} bytes exceeds the {self.limit}-byte limit")
            lines.append(line)
        if len(self._buffer) > self.limit:
            raise LineTooLong(f"a line longer than the {self.limit}-byte limit")
        return lines

    @property
    def pending(self) -> bool:
        return bool(self._buffer.strip())
