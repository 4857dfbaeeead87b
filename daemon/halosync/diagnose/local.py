"""Checks of this host: the configuration file itself and the state directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from halosync.config.loader import Config
from halosync.contracts import CheckResult, CheckStatus

LOW_DISK_BYTES = 200 * 1024 * 1024


def config_check(config: Config) -> CheckResult:
    where = str(config.path) if config.path else "no configuration file (every default)"
    enabled = ", ".join(config.enabled_plugins()) or "none"
    if not config.enabled_plugins():
        return CheckResult("config", "warn", f"{where} is valid, but no plugin is enabled",
                           "add [plugins.apollo] and [plugins.halopsa] tables (halosync.toml.example shows every key)")
    return CheckResult("config", "pass", f"{where} is valid; plugins enabled: {enabled}")


def state_dir_checks(config: Config) -> list[CheckResult]:
    """The state dir exists and the current user can create, sync and remove a file in it."""
    state_dir = config.state_dir
    owner_hint = (f"create it and give it to the daemon's user: install -d -o halosync -g halosync -m 0750 {state_dir}"
                  " (under systemd, StateDirectory=halosync does this)")
    if not state_dir.is_dir():
        status: CheckStatus = "fail" if state_dir.exists() else "warn"
        what = "is not a directory" if state_dir.exists() else "does not exist yet"
        return [CheckResult("state_dir.writable", status, f"{state_dir} {what}", owner_hint)]
    try:
        fd, name = tempfile.mkstemp(prefix=".diagnose-", dir=state_dir)
        try:
            os.write(fd, b"halosync diagnose probe\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            Path(name).unlink()
    except OSError as exc:
        return [CheckResult("state_dir.writable", "fail", f"{state_dir} is not writable: {exc.strerror or exc}",
                            f"run diagnose as the daemon's user (sudo -u halosync halosync diagnose), or fix the "
                            f"owner: chown -R halosync:halosync {state_dir}; a read-only mount needs remounting")]
    results = [CheckResult("state_dir.writable", "pass", f"{state_dir} is writable")]
    free = shutil.disk_usage(state_dir).free
    if free < LOW_DISK_BYTES:
        results.append(CheckResult("state_dir.disk", "warn", f"only {free // (1024 * 1024)} MiB free on {state_dir}",
                                   "free space: the store, its WAL and backups live here"))
    else:
        results.append(CheckResult("state_dir.disk", "pass", f"{free // (1024 * 1024)} MiB free"))
    return results
