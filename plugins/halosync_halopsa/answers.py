"""Reading HaloPSA's error answers, whose shapes vary by endpoint and version, into halosync errors.

Seen in the wild: ASP.NET validation dictionaries keyed by array path (``{"[3].emailaddress": "..."}``, or under
``"errors"`` as ProblemDetails, with string or list values), OAuth errors (``{"error": "invalid_client"}``),
``{"ClassName", "Message"}``, ``{"resultCode", "errorMessage"}``, ``{"Message"}``, and plain text (the 429).
Every message passes through ``halosync.secrets.redact`` before it is kept.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from halosync.plugin import (
    AuthError,
    PermissionDenied,
    ProviderError,
    RateLimited,
    RecordRejected,
    TransientProviderError,
    secrets,
)

PROVIDER = "halopsa"
_INDEXED = re.compile(r"^\$?\[(\d+)\]\.?(.*)$")
_MESSAGE_KEYS = ("error_description", "errorMessage", "Message", "message", "title")


class BatchRejected(RecordRejected):
    """HaloPSA refused a POST; ``by_index`` holds its reasons per object of the array (may be empty)."""

    def __init__(self, message: str, by_index: dict[int, str], *, status: int) -> None:
        self.by_index = by_index
        self.reason = message  # HaloPSA's words alone, for a per-lead error
        super().__init__(PROVIDER, message, status=status)


class NotFound(RecordRejected):
    """The record asked for does not exist (404)."""


class WriteOutcomeUnknown(TransientProviderError):
    """A write was sent but its answer never came (timeout, broken connection, 5xx): it may have been done.
    Look the records up before sending it again."""


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text


def indexed_errors(body: Any) -> dict[int, str]:
    """``{"[3].emailaddress": "not valid"}`` -> ``{3: "emailaddress: not valid"}`` (ProblemDetails too)."""
    if isinstance(body, dict) and isinstance(body.get("errors"), dict):
        body = body["errors"]
    found: dict[int, list[str]] = {}
    if isinstance(body, dict):
        for key, value in body.items():
            match = _INDEXED.match(str(key))
            if match:
                text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
                found.setdefault(int(match.group(1)), []).append(f"{match.group(2)}: {text}" if match.group(2)
                                                                 else text)
    return {index: secrets.redact("; ".join(parts)) for index, parts in found.items()}


def message_of(body: Any, limit: int = 300) -> str:
    """HaloPSA's own words, in one line."""
    if isinstance(body, dict):
        errors = body.get("errors") if isinstance(body.get("errors"), dict) else None
        if errors:
            parts = [f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items()]
        else:  # the first message there is, with an OAuth error code beside it; else the exception's class
            message = next((str(body[k]) for k in _MESSAGE_KEYS if body.get(k)), "")
            parts = [p for p in (message, str(body.get("error") or "")) if p]
            parts = parts or ([str(body["ClassName"])] if body.get("ClassName") else
                              [f"{k}: {v}" for k, v in body.items()])
        text = "; ".join(parts)
    elif isinstance(body, list | int | float):
        text = json.dumps(body)
    else:
        text = str(body or "").strip()
    text = " ".join(text.split())
    return secrets.redact(text[:limit] + ("..." if len(text) > limit else "")) or "(no message)"


def error_for(response: httpx.Response, what: str) -> ProviderError:
    """The halosync error for a non-2xx answer to ``what`` (e.g. "POST /api/Users")."""
    status = response.status_code
    body = body_of(response)
    message = message_of(body)
    if status == 401:
        return AuthError(PROVIDER, f"{what} refused the credentials ({message}); check plugins.halopsa.client_id, "
                                   "client_secret and tenant", status=status)
    if status == 403:
        return PermissionDenied(PROVIDER, f"{what}: {message}. Grant the API application's scope and the agent "
                                          "it logs in as the permission (Configuration > Integrations > HaloPSA API)",
                                status=status)
    if status == 404:
        return NotFound(PROVIDER, f"{what}: {message}", status=status)
    if status == 429:
        return RateLimited(PROVIDER, f"{what}: {message}", status=status)
    if status >= 500:
        return TransientProviderError(PROVIDER, f"{what}: {message}", status=status)
    return BatchRejected(message, indexed_errors(body), status=status)
