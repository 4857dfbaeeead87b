"""Helpers for configuration tests: write a file, load it, collect the problems as the user would read them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

from halosync.config import loader
from halosync.config.loader import Config
from halosync.config.schema import PluginConfigSpec
from halosync.errors import ConfigError

Load = Callable[..., Config]
Problems = Callable[..., list[str]]


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "halosync.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def load(write: Callable[[str], Path]) -> Load:
    def load(text: str, specs: Iterable[PluginConfigSpec] = (), env: Mapping[str, str] | None = None) -> Config:
        return loader.load(write(text), specs, environ=env or {})

    return load


@pytest.fixture
def problems(write: Callable[[str], Path]) -> Problems:
    """The printed problem lines of an invalid file, with the file's directory cut for brevity."""

    def problems(text: str, specs: Iterable[PluginConfigSpec] = (), env: Mapping[str, str] | None = None) -> list[str]:
        path = write(text)
        with pytest.raises(ConfigError) as caught:
            loader.load(path, specs, environ=env or {})
        return [str(p).replace(f"{path.parent}/", "") for p in caught.value.problems]

    return problems
