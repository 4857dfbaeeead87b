"""Every error halosync raises on purpose.

    HalosyncError                     base; ``str(err)`` is one line a user can act on
    ├── ConfigError                   configuration invalid (exit 78); carries every ConfigProblem
    ├── PluginError                   a plugin misbehaved; names the plugin
    │   └── PluginLoadError           a plugin could not be imported or registered (exit 78)
    ├── StoreError                    the state store is unavailable or inconsistent
    │   ├── StoreUnreachable          the connection to the store was lost or cannot be made: worth retrying
    │   └── MigrationError            a schema migration cannot run
    ├── ProviderError                 a provider API answered badly; names provider and status
    │   ├── AuthError                 credentials rejected (401) or a token could not be had
    │   ├── PermissionDenied          the credentials lack a permission (403; exit 77)
    │   ├── RateLimited               a quota is exhausted; ``retry_after`` when known
    │   ├── TransientProviderError    connect errors, timeouts, 5xx: worth retrying
    │   ├── IncompletePull            a pull could not prove it saw every record of a stretch (names the range)
    │   └── RecordRejected            the provider refused one record (validation); never retried
    ├── LeadError                     a lead cannot be processed (malformed); goes to dead letters
    └── ControlError                  halosyncctl could not talk to the daemon
        └── DaemonUnreachable         no daemon on the socket (exit 69)

Messages say what happened and what to do. They never contain a secret value: secrets are masked by
``halosync.secrets.redact`` before any message is built from provider output.
"""

from __future__ import annotations

from dataclasses import dataclass

from halosync.exitcodes import EX_CONFIG, EX_NOPERM, EX_PROBLEMS, EX_UNAVAILABLE


class HalosyncError(Exception):
    """Base of every halosync error."""

    exit_code: int = EX_PROBLEMS


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a configuration file, printed as ``FILE:LINE: key.path: message``."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}: {self.message}"


class ConfigError(HalosyncError):
    exit_code = EX_CONFIG

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class PluginError(HalosyncError):
    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}")


class PluginLoadError(PluginError):
    """An installed plugin cannot be imported or registered. Exit 78 (like an invalid configuration): the
    installation must change (fix, uninstall, or ``[plugins] block``), so a restart loop would not help."""

    exit_code = EX_CONFIG


class StoreError(HalosyncError):
    pass


class StoreUnreachable(StoreError):
    """The database server ended the connection (a restart, a transaction it timed out) or cannot be reached.
    What the unit of work did is rolled back unless the connection went during its commit, so the daemon's loops
    wait and go on instead of stopping."""


class MigrationError(StoreError):
    pass


class ProviderError(HalosyncError):
    """A provider call failed. ``retryable`` says whether the same call may succeed later."""

    retryable = False

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        self.provider = provider
        self.status = status
        prefix = f"{provider}: HTTP {status}: " if status else f"{provider}: "
        super().__init__(prefix + message)


class AuthError(ProviderError):
    pass


class PermissionDenied(ProviderError):
    exit_code = EX_NOPERM


class RateLimited(ProviderError):
    retryable = True

    def __init__(
        self, provider: str, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(provider, message, status=status)


class TransientProviderError(ProviderError):
    retryable = True


class RecordRejected(ProviderError):
    """The provider refused one record; the message is the provider's own reason."""


class LeadError(HalosyncError):
    pass


class ControlError(HalosyncError):
    pass


class DaemonUnreachable(ControlError):
    exit_code = EX_UNAVAILABLE


class IncompletePull(ProviderError):
    """A source could not prove that a pull saw every record of a stretch (the stretch was retried first).
    ``range_from`` is where the unproven stretch starts (the source's own cursor terms), when known."""

    retryable = True

    def __init__(self, provider: str, message: str, *, range_from: str | None = None) -> None:
        self.range_from = range_from
        super().__init__(provider, message)
