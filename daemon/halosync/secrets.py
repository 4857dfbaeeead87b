"""Secret references and masking.

A secret value in the configuration is a literal, ``env:NAME``, ``file:/path`` or ``credential:NAME`` (a file in
``$CREDENTIALS_DIRECTORY``, as systemd's ``LoadCredential=`` provides). Every resolved secret is registered here
and ``redact`` masks it in any text: log sinks and error messages pass through it.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

MASK = "********"
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None  # compiled from _known, rebuilt when a secret is added
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
    global _pattern
    if len(value) >= 4:  # masking very short strings would mangle ordinary text
        with _lock:
            if value not in _known:
                _known.add(value)
                _pattern = None
    return value


def redact(text: str) -> str:
    """``text`` with every known secret replaced by the mask. A secret is masked where it stands as a token of its
    own (in a URL, a header, a JSON string, after "="), not inside a longer word: a weak secret such as "halo" must
    not turn "halosync" into "********sync"."""
    if not _known:
        return text
    return _compiled().sub(MASK, text)


def _compiled() -> re.Pattern[str]:
    global _pattern
    with _lock:
        if _pattern is None:
            # Longest first, so a secret that contains another is masked whole.
            parts = [_bounded(secret) for secret in sorted(_known, key=len, reverse=True)]
            _pattern = re.compile("|".join(parts))
        return _pattern


def _bounded(secret: str) -> str:
    # The word-boundary condition applies only on a side where the secret itself starts or ends with a word
    # character; a secret like "!p@ss" is masked wherever it appears.
    before = r"(?<!\w)" if re.match(r"\w", secret[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", secret[-1]) else ""
    return before + re.escape(secret) + after


def known() -> frozenset[str]:
    with _lock:
        return frozenset(_known)
