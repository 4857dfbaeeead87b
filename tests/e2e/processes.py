"""The fakes and the daemon as separate processes (crash-safety test, benchmarks): as they run in production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from typing import Any


def daemon_env() -> dict[str, str]:
    """The environment of a child process: plugins load through entry points, as for a user."""
    env = dict(os.environ)
    env.pop("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", None)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def start_fake(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """``python -m <module> ...`` (a fake, or a benchmark's server), and the base URL it prints on its first line."""
    proc = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.PIPE, text=True,
                            env=daemon_env() if env is None else env)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        raise RuntimeError(f"{args[0]} did not print its URL (got {url!r})")
    return proc, url


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return json.load(answer)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=30)
    if proc.stdout:
        proc.stdout.close()
