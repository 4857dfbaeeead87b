"""Load, override, validate and resolve a configuration file.

Lookup: ``--config`` > ``$HALOSYNC_CONFIG`` > ``./halosync.toml`` > ``/etc/halosync/halosync.toml``; no file at all
means every default. Environment overrides: ``HALOSYNC_`` + key path joined by ``__`` (``HALOSYNC_SYNC__INTERVAL=60``),
and ``HALOSYNC_LOG_LEVEL``. Every problem is collected (not just the first) and raised as one ``ConfigError``.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from halosync import secrets
from halosync.config.locate import key_lines, line_of
from halosync.config.schema import CORE, Field, PluginConfigSpec
from halosync.errors import ConfigError, ConfigProblem

SEARCH_PATH = (Path("halosync.toml"), Path("/etc/halosync/halosync.toml"))
ENV_PREFIX = "HALOSYNC_"


@dataclass
class Config:
    """The effective configuration: validated values (defaults filled in, secrets resolved) and where each
    value came from (``file:LINE``, ``env:NAME`` or ``default``)."""

    path: Path | None
    data: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)
    secret_keys: set[str] = field(default_factory=set)
    plugin_specs: dict[str, PluginConfigSpec] = field(default_factory=dict)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        return dict(value) if isinstance(value, Mapping) else {}

    def plugin(self, name: str) -> dict[str, Any] | None:
        """The validated table of an enabled plugin, or None when the plugin is not enabled."""
        table = self.data.get("plugins", {}).get(name)
        if not isinstance(table, Mapping) or table.get("enabled", True) is False:
            return None
        return dict(table)

    def enabled_plugins(self) -> list[str]:
        plugins = self.data.get("plugins", {})
        return [n for n, t in plugins.items() if isinstance(t, Mapping) and t.get("enabled", True) is not False]

    @property
    def state_dir(self) -> Path:
        return Path(self.data["daemon"]["state_dir"])

    @property
    def database_url(self) -> str:
        url: str = self.data["database"]["url"]
        return url or f"sqlite:///{self.state_dir / 'halosync.db'}"

    def redacted(self) -> dict[str, Any]:
        """The data with every secret replaced by a mask (for ``config show``)."""

        def walk(node: Any, prefix: str) -> Any:
            if isinstance(node, Mapping):
                return {k: walk(v, f"{prefix}{k}.") for k, v in node.items()}
            return secrets.MASK if prefix[:-1] in self.secret_keys and node else node

        result: dict[str, Any] = walk(self.data, "")
        return result


def find_config(explicit: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get("HALOSYNC_CONFIG"):
        return Path(env["HALOSYNC_CONFIG"])
    for candidate in SEARCH_PATH:
        if candidate.is_file():
            return candidate
    return None


def load(
    path: Path | None,
    plugin_specs: Iterable[PluginConfigSpec] = (),
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read and validate ``path`` (None: defaults only). Raises ConfigError listing every problem."""
    env = dict(os.environ if environ is None else environ)
    specs = {s.name: s for s in plugin_specs}
    shown = str(path) if path else "<defaults>"
    text = ""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([ConfigProblem(shown, 0, "(file)", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid TOML"
        raise ConfigError([ConfigProblem(shown, int(m.group(1)) if m else 0, "(syntax)", message)]) from None

    validator = _Validator(shown, key_lines(text), specs, env)
    origins: dict[str, str] = {}
    _apply_env(raw, env, origins, validator)
    data = validator.validate(raw, origins)
    if validator.problems:
        raise ConfigError(validator.problems)
    return Config(path, data, origins, validator.secret_keys, specs)


def _apply_env(raw: dict[str, Any], env: Mapping[str, str], origins: dict[str, str], v: _Validator) -> None:
    overrides = {k: val for k, val in env.items() if k.startswith(ENV_PREFIX) and "__" in k}
    if "HALOSYNC_LOG_LEVEL" in env:
        overrides["HALOSYNC_DAEMON__LOG_LEVEL"] = env["HALOSYNC_LOG_LEVEL"]
    for name, value in sorted(overrides.items()):
        path = [p.lower() for p in name[len(ENV_PREFIX):].split("__")]
        node = raw
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                v.problem(tuple(path), f"environment variable {name} overrides a value that is not a table")
                break
            node = child
        else:
            node[path[-1]] = _env_value(value)
            origins[".".join(path)] = f"env:{name}"


def _env_value(text: str) -> Any:
    """Environment values are TOML values when they parse as one (60, true, ["a"]), else plain strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


class _Validator:
    def __init__(self, shown: str, lines: dict[tuple[str, ...], int], specs: dict[str, PluginConfigSpec],
                 env: Mapping[str, str]) -> None:
        self.shown, self.lines, self.specs, self.env = shown, lines, specs, env
        self.problems: list[ConfigProblem] = []
        self.secret_keys: set[str] = set()

    def problem(self, path: tuple[str, ...], message: str) -> None:
        self.problems.append(ConfigProblem(self.shown, line_of(self.lines, path), ".".join(path), message))

    def validate(self, raw: dict[str, Any], origins: dict[str, str]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        extra_sections = {k: s for k, s in CORE.items()}
        for name, value in raw.items():
            if name not in extra_sections:
                self._unknown((name,), name, extra_sections)
            elif not isinstance(value, dict):
                self.problem((name,), f"must be a table ([{name}]), not {_type_name(value)}")
        for section, fields in extra_sections.items():
            table = raw.get(section, {})
            table = table if isinstance(table, dict) else {}
            if section == "plugins":
                data[section] = self._plugins(table, fields, origins)
            else:
                data[section] = self._table((section,), table, fields, origins)
        return data

    def _plugins(self, table: dict[str, Any], fields: Mapping[str, Field], origins: dict[str, str]) -> dict[str, Any]:
        out = self._table(("plugins",), {k: v for k, v in table.items() if k in fields}, fields, origins)
        for name, value in table.items():
            if name in fields:
                continue
            path = ("plugins", name)
            if not isinstance(value, dict):
                self.problem(path, f"must be a table ([plugins.{name}]), not {_type_name(value)}")
                continue
            spec = self.specs.get(name)
            if spec is None:
                hint = _did_you_mean(name, self.specs)
                self.problem(path, f"no plugin named {name!r} is installed{hint}; `halosync plugins` lists them")
                continue
            plugin_fields = {"enabled": Field(bool, True, "load this plugin"), **spec.fields}
            enabled = value.get("enabled", True)
            if enabled is False:  # a disabled plugin's other keys are not checked: it may be half-configured
                out[name] = {"enabled": False}
                continue
            out[name] = self._table(path, value, plugin_fields, origins)
        return out

    def _table(self, path: tuple[str, ...], table: dict[str, Any], fields: Mapping[str, Field],
               origins: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in table:
            if key not in fields:
                self._unknown((*path, key), key, fields)
        for key, spec in fields.items():
            kpath = (*path, key)
            dotted = ".".join(kpath)
            if key not in table:
                if spec.required:
                    self.problem(kpath, "is required" + (f": {spec.help}" if spec.help else ""))
                    continue
                out[key] = spec.default
                origins.setdefault(dotted, "default")
                continue
            origins.setdefault(dotted, f"file:{line_of(self.lines, kpath)}")
            out[key] = self._value(kpath, table[key], spec)
        return out

    def _value(self, path: tuple[str, ...], value: Any, spec: Field) -> Any:
        expected = spec.type if isinstance(spec.type, tuple) else (spec.type,)
        if float in expected and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            names = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in expected)
            self.problem(path, f"must be {names}, not {_type_name(value)} ({value!r})")
            return value
        if spec.choices is not None and value not in spec.choices:
            self.problem(path, f"must be one of {', '.join(map(str, spec.choices))}, not {value!r}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if spec.minimum is not None and value < spec.minimum:
                self.problem(path, f"must be at least {spec.minimum:g}, not {value!r}")
            if spec.maximum is not None and value > spec.maximum:
                self.problem(path, f"must be at most {spec.maximum:g}, not {value!r}")
        if spec.secret and isinstance(value, str):
            self.secret_keys.add(".".join(path))
            try:
                value = secrets.resolve(value, dict(self.env))
            except secrets.SecretUnavailable as exc:
                self.problem(path, str(exc))
        if spec.url and isinstance(value, str):
            message = check_provider_url(value)
            if message:
                self.problem(path, message)
        if spec.check is not None:
            for sub, message in spec.check(value):
                self.problem((*path, *filter(None, sub.split("."))), message)
        return value

    def _unknown(self, path: tuple[str, ...], key: str, known: Mapping[str, Any]) -> None:
        self.problem(path, f"unknown key{_did_you_mean(key, known)}")


def check_provider_url(url: str) -> str | None:
    """None when ``url`` is an acceptable provider URL, else the reason (https only, http for loopback)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"must be an https:// URL, not {url!r}"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return f"must use https:// (http:// is only accepted for loopback hosts), not {url!r}"
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _did_you_mean(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
               dict: "a table"}


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)
