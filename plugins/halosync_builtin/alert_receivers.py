"""``[plugins.alerts.receivers.NAME]``: the named receivers alert rules route to, one table each, by ``type``.

    [plugins.alerts.receivers.slack]
    type = "webhook"
    preset = "slack"                         # json (default) | slack | teams
    url = "env:SLACK_WEBHOOK_URL"

    [plugins.alerts.receivers.oncall]
    type = "email"
    host = "smtp.example.com"                # port 587 with STARTTLS by default
    username = "halosync@example.com"
    password = "credential:smtp_password"
    from = "halosync@example.com"
    to = ["noc@example.com"]

    [plugins.alerts.receivers.tickets]
    type = "halopsa"                         # credentials default to [plugins.halopsa]'s
    tickettype_id = 1
    ticket_client_id = 12

Secret keys (``password``, ``client_secret``, a webhook's ``url`` and header values) take a literal or a reference
(``env:``, ``file:``, ``credential:``), resolved when the receivers are built and masked in every log line.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from halosync.plugin import check_provider_url, secrets


@dataclass(frozen=True)
class Key:
    types: tuple[type, ...]
    default: Any = None
    required: bool = False
    secret: bool = False
    url: bool = False
    choices: tuple[str, ...] = ()


_STR, _INT, _LIST, _TABLE = (str,), (int,), (list,), (dict,)
_NUMBER = (int, float)

TYPES: dict[str, dict[str, Key]] = {
    "log": {
        "level": Key(_STR, "warning", choices=("info", "warning", "error", "critical")),
    },
    "webhook": {
        "url": Key(_STR, required=True, secret=True, url=True),
        "preset": Key(_STR, "json", choices=("json", "slack", "teams")),
        "headers": Key(_TABLE, {}),
    },
    "email": {
        "host": Key(_STR, required=True),
        "port": Key(_INT, 0),  # 0: 587 for starttls and none, 465 for tls
        "security": Key(_STR, "starttls", choices=("starttls", "tls", "none")),
        "username": Key(_STR, ""),
        "password": Key(_STR, "", secret=True),
        "from": Key(_STR, required=True),
        "to": Key(_LIST, required=True),
        "subject_prefix": Key(_STR, ""),
        "ca_file": Key(_STR, ""),  # a private CA or self-signed relay certificate to trust
        "timeout": Key(_NUMBER, 30.0),
    },
    "halopsa": {
        "tickettype_id": Key(_INT, required=True),
        "ticket_client_id": Key(_INT, 0),  # the customer the tickets are logged against (your own, usually)
        "priority_id": Key(_INT, 0),
        "base_url": Key(_STR, "", url=True),  # empty: [plugins.halopsa]'s instance and credentials
        "tenant": Key(_STR, ""),
        "auth_url": Key(_STR, "", url=True),
        "client_id": Key(_STR, ""),
        "client_secret": Key(_STR, "", secret=True),
        "scope": Key(_STR, "all"),
        "timeout": Key(_NUMBER, 30.0),
    },
}


def check_receivers(value: Any) -> list[tuple[str, str]]:
    """Problems as ``(subkey, message)`` for the configuration validator."""
    if not isinstance(value, Mapping):
        return [("", "must be a table of receivers: [plugins.alerts.receivers.NAME]")]
    problems: list[tuple[str, str]] = []
    for name, table in value.items():
        if not isinstance(table, Mapping):
            problems.append((name, f"must be a table ([plugins.alerts.receivers.{name}])"))
            continue
        kind = table.get("type")
        if kind not in TYPES:
            problems.append((f"{name}.type", f"must be one of {', '.join(TYPES)}, not {kind!r}"))
            continue
        keys = TYPES[kind]
        for key, item in table.items():
            if key == "type":
                continue
            if key not in keys:
                close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.6)
                problems.append((f"{name}.{key}", f"unknown key for a {kind} receiver"
                                 + (f" (did you mean {close[0]!r}?)" if close else "")))
                continue
            problems += [(f"{name}.{key}", m) for m in _check_value(keys[key], item)]
        problems += [(f"{name}.{key}", "is required") for key, spec in keys.items()
                     if spec.required and key not in table]
    return problems


def _check_value(spec: Key, item: Any) -> list[str]:
    if not _has_type(item, spec.types):
        return [f"must be {' or '.join(t.__name__ for t in spec.types)}, not {item!r}"]
    if spec.choices and item not in spec.choices:
        return [f"must be one of {', '.join(spec.choices)}, not {item!r}"]
    if isinstance(item, list) and not all(isinstance(x, str) and x for x in item):
        return ["must be a list of strings"]
    if isinstance(item, dict) and not all(isinstance(x, str) for x in item.values()):
        return ["must be a table of strings"]
    if spec.secret and item:
        try:
            item = secrets.resolve(item)
        except secrets.SecretUnavailable as exc:
            return [str(exc)]
    if spec.url and item and (problem := check_provider_url(item)):
        return [problem]
    return []


def _has_type(item: Any, types: tuple[type, ...]) -> bool:
    # A function of its own, so that the checks after it see ``item`` as Any rather than a narrowed object.
    return isinstance(item, types) and not isinstance(item, bool)


def settings(table: Mapping[str, Any]) -> dict[str, Any]:
    """A checked receiver table with defaults filled in and secrets resolved (and registered for masking)."""
    keys = TYPES[table["type"]]
    out: dict[str, Any] = {"type": table["type"], **{key: table.get(key, spec.default) for key, spec in keys.items()}}
    for key, spec in keys.items():
        if spec.secret and out[key]:
            out[key] = secrets.resolve(out[key])
    if "headers" in out:
        out["headers"] = {k: secrets.resolve(v) for k, v in out["headers"].items()}
    return out
