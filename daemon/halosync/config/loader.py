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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

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
        result: dict[str, Any] = self._walk(self.data, (), lambda path, value: value)
        return result

    def values(self) -> list[tuple[str, Any, str]]:
        """Every setting as ``(key.path, redacted value, origin)``, in file order of sections then keys."""
        out: list[tuple[str, Any, str]] = []
        self._walk(self.data, (), lambda path, value: out.append((".".join(path), value, self.origin(path))))
        return out

    def origin(self, path: tuple[str, ...]) -> str:
        return self.origins.get(".".join(path), "default")

    def _walk(self, node: Any, path: tuple[str, ...], leaf: Callable[[tuple[str, ...], Any], Any]) -> Any:
        dotted = ".".join(path)
        if isinstance(node, Mapping) and dotted not in self.origins:  # a section or a plugin's table
            return {k: self._walk(v, (*path, k), leaf) for k, v in node.items()}
        if dotted in self.secret_keys and node:
            return leaf(path, secrets.MASK)
        # Any other value might embed a secret (a password in database.url): mask what is known.
        return leaf(path, _redact_value(node))


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return secrets.redact(value)
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _redact_value(v) for k, v in value.items()}
    return value


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
    *,
    unavailable_plugins: Iterable[str] = (),
) -> Config:
    """Read and validate ``path`` (None: defaults only). Raises ConfigError listing every problem.

    ``unavailable_plugins`` are installed plugins that failed to load: their tables are not judged here (the load
    failure is the problem `check-config` reports for them).
    """
    env = dict(os.environ if environ is None else environ)
    specs = {s.name: s for s in plugin_specs}
    shown = str(path) if path else "<defaults>"
    text = ""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([ConfigProblem(shown, 0, "(file)", f"cannot read: {exc.strerror or exc}")]) from None
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            raise ConfigError([ConfigProblem(shown, line, "(file)", "is not UTF-8 text; save it as UTF-8")]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid TOML"
        raise ConfigError([ConfigProblem(shown, int(m.group(1)) if m else 0, "(syntax)", message)]) from None

    validator = _Validator(shown, key_lines(text), specs, env, frozenset(unavailable_plugins))
    _apply_env(raw, env, validator)
    data = validator.validate(raw)
    _register_url_password(data["database"]["url"])
    if validator.problems:
        # Masked only now: a message may quote a value that holds a secret resolved later in the file.
        raise ConfigError([replace(p, message=secrets.redact(p.message)) for p in validator.problems])
    return Config(path, data, validator.origins, validator.secret_keys, specs)


def _register_url_password(url: Any) -> None:
    """A password inside database.url is a secret too: mask it in logs, messages and `config show`."""
    if not isinstance(url, str):  # a wrong type is already a problem of its own
        return
    try:
        password = urlsplit(url).password
    except ValueError:  # a malformed URL is the store's to report, with its own message
        return
    if password:
        secrets.register(unquote(password))
        secrets.register(password)


def _apply_env(raw: dict[str, Any], env: Mapping[str, str], v: _Validator) -> None:
    """Apply ``HALOSYNC_A__B__C`` overrides to the parsed file (``HALOSYNC_LOG_LEVEL`` is daemon.log_level)."""
    overrides = {k: (k, val) for k, val in env.items() if k.startswith(ENV_PREFIX) and "__" in k}
    if "HALOSYNC_LOG_LEVEL" in env:  # the short form wins: it is what an operator types for one debugging run
        overrides["HALOSYNC_DAEMON__LOG_LEVEL"] = ("HALOSYNC_LOG_LEVEL", env["HALOSYNC_LOG_LEVEL"].lower())
    for key, (name, value) in sorted(overrides.items()):
        path = tuple(p.lower() for p in key[len(ENV_PREFIX):].split("__"))
        if not all(path):
            v.problem(path, f"environment variable {name}: empty key part (use __ only between keys)")
            continue
        v.origins[".".join(path)] = f"env:{name}"
        node = raw
        for depth, part in enumerate(path[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                v.problem(path[: depth + 1], f"is not a table, so {name} cannot set a key inside it")
                break
            node = child
        else:
            node[path[-1]] = _env_value(value)
            v.env_text[".".join(path)] = value


def _env_value(text: str) -> Any:
    """Environment values are TOML values when they parse as one (60, true, ["a"]), else plain strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


class _Validator:
    def __init__(self, shown: str, lines: dict[tuple[str, ...], int], specs: dict[str, PluginConfigSpec],
                 env: Mapping[str, str], unavailable: frozenset[str] = frozenset()) -> None:
        self.shown, self.lines, self.specs, self.env, self.unavailable = shown, lines, specs, env, unavailable
        self.problems: list[ConfigProblem] = []
        self.secret_keys: set[str] = set()
        self.origins: dict[str, str] = {}  # dotted key -> "FILE:LINE" | "env:NAME" | "default"
        self.env_text: dict[str, str] = {}  # dotted key -> the environment variable's text, before TOML parsing

    def problem(self, path: tuple[str, ...], message: str) -> None:
        # A value set from the environment has no line; the message says which variable to look at instead.
        for depth in range(len(path), 0, -1):
            origin = self.origins.get(".".join(path[:depth]), "")
            if origin.startswith("env:"):
                message = f"{message} (set by ${origin[4:]})"
                line = 0
                break
        else:
            line = line_of(self.lines, path)
            dotted = ".".join(path)
            # Not in the file at all, but something beneath it came from the environment (HALOSYNC_TYPO__KEY=1).
            names = [o[4:] for k, o in self.origins.items() if k.startswith(f"{dotted}.") and o.startswith("env:")]
            if line == 0 and names:
                message = f"{message} (set by ${names[0]})"
        self.problems.append(ConfigProblem(self.shown, line, ".".join(path), message))

    def validate(self, raw: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in CORE:
                self._unknown((name,), name, CORE)
            elif not isinstance(value, dict):
                self.problem((name,), f"must be a table ([{name}]), not {_type_name(value)}")
        for section, fields in CORE.items():
            table = raw.get(section, {})
            table = table if isinstance(table, dict) else {}
            if section == "plugins":
                data[section] = self._plugins(table, fields)
            else:
                data[section] = self._table((section,), table, fields)
        return data

    def _plugins(self, table: dict[str, Any], fields: Mapping[str, Field]) -> dict[str, Any]:
        out = self._table(("plugins",), {k: v for k, v in table.items() if k in fields}, fields)
        allow, block = out.get("allow") or [], out.get("block") or []
        for name, value in table.items():
            if name in fields:
                continue
            path = ("plugins", name)
            if not isinstance(value, dict):
                self.problem(path, f"must be a table ([plugins.{name}]), not {_type_name(value)}")
                continue
            if name in block or name in self.unavailable:
                # Not loaded, so nothing can judge its table; it is kept, switched off.
                self._switched_off(path, out)
                continue
            if allow and name not in allow:
                hint = _did_you_mean(name, [n for n in (*allow, *self.specs) if n != name])
                self.problem(path, f"plugin {name!r} is not in plugins.allow{hint}; add it there or remove the table")
                continue
            spec = self.specs.get(name)
            if spec is None:
                hint = _did_you_mean(name, self.specs)
                self.problem(path, f"no plugin named {name!r} is installed{hint}; `halosync plugins` lists them")
                continue
            plugin_fields = {"enabled": Field(bool, True, "load this plugin"), **spec.fields}
            enabled = value.get("enabled", True)
            if enabled is False:  # a disabled plugin's other keys are not checked: it may be half-configured
                self._switched_off(path, out)
                continue
            out[name] = self._table(path, value, plugin_fields)
        return out

    def _switched_off(self, path: tuple[str, ...], out: dict[str, Any]) -> None:
        out[path[-1]] = {"enabled": False}
        self.origins.setdefault(".".join((*path, "enabled")), f"{self.shown}:{line_of(self.lines, (*path, 'enabled'))}")

    def _table(self, path: tuple[str, ...], table: dict[str, Any], fields: Mapping[str, Field]) -> dict[str, Any]:
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
                self.origins.setdefault(dotted, "default")
                if spec.secret:
                    self.secret_keys.add(dotted)
                continue
            self.origins.setdefault(dotted, f"{self.shown}:{line_of(self.lines, kpath)}")
            out[key] = self._value(kpath, table[key], spec)
        return out

    def _value(self, path: tuple[str, ...], value: Any, spec: Field) -> Any:
        expected = spec.type if isinstance(spec.type, tuple) else (spec.type,)
        dotted = ".".join(path)
        if str in expected and not isinstance(value, str) and dotted in self.env_text:
            value = self.env_text[dotted]  # HALOSYNC_X=true for a string key means the text "true"
        if float in expected and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        # A secret's value is never repeated in a message, even when it is of the wrong type.
        shown = "" if spec.secret else f" ({value!r})"
        if not _is_instance(value, expected):
            self.problem(path, f"must be {_type_names(expected)}, not {_type_name(value)}{shown}")
            return value
        if spec.items is not None and isinstance(value, list):
            items = spec.items if isinstance(spec.items, tuple) else (spec.items,)
            for index, item in enumerate(value):
                if not _is_instance(item, items):
                    self.problem(path, f"item {index + 1} must be {_type_names(items)}, not {_type_name(item)}")
        if spec.choices is not None and value not in spec.choices:
            choice = "that" if spec.secret else repr(value)
            self.problem(path, f"must be one of {', '.join(map(str, spec.choices))}, not {choice}")
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
        elif spec.secret and isinstance(value, list):  # several secrets (key rotation): each item is resolved
            self.secret_keys.add(".".join(path))
            value = [self._secret_item(path, index, item) for index, item in enumerate(value)]
        if spec.url and isinstance(value, str) and value:  # "" means "not set" (the default of optional URLs)
            message = check_provider_url(value)
            if message:
                self.problem(path, message)
        if spec.check is not None:
            for sub, message in spec.check(value):
                self.problem((*path, *filter(None, sub.split("."))), message)
        return value

    def _secret_item(self, path: tuple[str, ...], index: int, item: Any) -> Any:
        if not isinstance(item, str):
            return item
        try:
            return secrets.resolve(item, dict(self.env))
        except secrets.SecretUnavailable as exc:
            self.problem((*path, str(index)), str(exc))
            return item

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


def _is_instance(value: Any, expected: tuple[type, ...]) -> bool:
    # TOML's true/false are Python bools, which are ints; an int key must not accept them.
    return isinstance(value, expected) and (bool in expected or not isinstance(value, bool))


def _type_names(expected: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in expected)


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)
