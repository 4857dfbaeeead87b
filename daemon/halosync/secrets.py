"""Secret references and masking.

A secret value in the configuration is a literal, ``env:NAME``, ``file:/path`` or ``credential:NAME`` (a file in
``$CREDENTIALS_DIRECTORY``, as systemd's ``LoadCredential=`` provides). Every resolved secret is registered here
and ``redact`` masks it in any text: log sinks and error messages pass through it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

MASK = "********"
_known: set[str] = set()
_lock = threading.Lock()


class SecretUnavailable(Exception):
    """The reference names something that is not there; the message says what to set."""


def resolve(reference: str, environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if reference.startswith("env:"):
        name = reference[4:]
        if name not in env or env[name] == "":
            raise SecretUnavailable(f"environment variable {name} is not set; export it or use file:/credential:")
        return register(env[name])
    if reference.startswith("file:"):
        return register(_read(Path(reference[5:]), "file"))
    if reference.startswith("credential:"):
        name = reference[11:]
        directory = env.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise SecretUnavailable(
                f"credential {name!r} needs $CREDENTIALS_DIRECTORY (set by systemd's LoadCredential=); "
                "run under the unit or use env:/file: instead"
            )
        return register(_read(Path(directory) / name, "credential"))
    return register(reference)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SecretUnavailable(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None


def register(value: str) -> str:
    """Remember a secret so that ``redact`` masks it; returns the value."""
    if len(value) >= 4:  # masking very short strings would mangle ordinary text
        with _lock:
            _known.add(value)
    return value


def redact(text: str) -> str:
    if not _known:
        return text
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def known() -> frozenset[str]:
    with _lock:
        return frozenset(_known)
