"""A throw-away distribution on sys.path with one `halosync` entry point, for plugins that fail in some way."""

from __future__ import annotations

from pathlib import Path

import pytest


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry_point: str, package: str, source: str) -> None:
    """Make ``entry_point = package`` discoverable, with ``source`` as the package's ``__init__.py``."""
    site = tmp_path / f"site-{package}"
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(source)
    dist = site / f"{package}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package.replace('_', '-')}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[halosync]\n{entry_point} = {package}\n")
    monkeypatch.syspath_prepend(str(site))
