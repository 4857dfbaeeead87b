"""Configuration: lookup order, validation with the line of each problem, environment overrides, plugin tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from halosync.config import loader
from halosync.config.schema import REQUIRED, Field, PluginConfigSpec
from halosync.errors import ConfigError
from tests.config.conftest import Load, Problems

DEMO = PluginConfigSpec("demo", fields={
    "base_url": Field(str, REQUIRED, "the provider", url=True),
    "api_key": Field(str, REQUIRED, "credential", secret=True),
    "page_size": Field(int, 100, minimum=1, maximum=500),
    "tags": Field(list, [], items=str),
})


# --- lookup --------------------------------------------------------------------------------------------


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    explicit, from_env, local = tmp_path / "a.toml", tmp_path / "b.toml", tmp_path / "halosync.toml"
    assert loader.find_config(None, {}) in (None, Path("/etc/halosync/halosync.toml"))
    local.write_text("")
    assert loader.find_config(None, {}) == Path("halosync.toml")
    assert loader.find_config(None, {"HALOSYNC_CONFIG": str(from_env)}) == from_env
    assert loader.find_config(str(explicit), {"HALOSYNC_CONFIG": str(from_env)}) == explicit


def test_no_file_means_defaults() -> None:
    config = loader.load(None, environ={})
    assert config.get("sync.interval") == 300.0
    assert config.database_url == "sqlite:////var/lib/halosync/halosync.db"
    assert config.origins["sync.interval"] == "default"


def test_missing_explicit_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        loader.load(tmp_path / "nope.toml", environ={})
    assert str(caught.value) == f"{tmp_path}/nope.toml:0: (file): cannot read: No such file or directory"


# --- one line per problem, at the right line -------------------------------------------------------------


def test_syntax_error_reports_its_line(problems: Problems) -> None:
    assert problems('[daemon]\nlog_level = "info"\nshutdown_grace = \n') == [
        "halosync.toml:3: (syntax): Invalid value"]


def test_unknown_key_with_did_you_mean(problems: Problems) -> None:
    assert problems("# comment\n\n[sync]\nintervall = 60\n") == [
        "halosync.toml:4: sync.intervall: unknown key (did you mean 'interval'?)"]
    assert problems("[synk]\n") == ["halosync.toml:1: synk: unknown key (did you mean 'sync'?)"]


def test_wrong_types(problems: Problems) -> None:
    text = '[sync]\ninterval = "soon"\nbatch_size = true\ndry_run = 1\n[daemon]\nlog_level = "loud"\n'
    assert problems(text) == [
        "halosync.toml:6: daemon.log_level: must be one of trace, debug, info, success, warning, error, critical, "
        "not 'loud'",
        "halosync.toml:2: sync.interval: must be a number, not a string ('soon')",
        "halosync.toml:3: sync.batch_size: must be an integer, not true or false (True)",
        "halosync.toml:4: sync.dry_run: must be true or false, not an integer (1)",
    ]


def test_limits_and_list_items(problems: Problems) -> None:
    text = "[sync]\nbatch_size = 500\n[plugins]\nallow = [\"a\", 2]\n"
    assert problems(text) == [
        "halosync.toml:2: sync.batch_size: must be at most 100, not 500",
        "halosync.toml:4: plugins.allow: item 2 must be a string, not an integer",
    ]


def test_log_rotation_is_checked_early(problems: Problems) -> None:
    [line] = problems('[daemon]\nlog_dir = "/tmp"\nlog_rotation = "whenever"\n')
    assert line.startswith("halosync.toml:3: daemon.log_rotation: is not a valid log rotation: ")


def test_lines_for_nested_tables_dotted_keys_and_inline_tables(problems: Problems) -> None:
    text = "\n".join([
        "sync.intervall = 1",                                  # 1: dotted key at top level
        "[plugins.demo]",                                      # 2
        'base_url = "https://x.example"',                      # 3
        'api_key = "k-123456"',                                # 4
        "page_size = 0",                                       # 5
        "[daemon]",                                            # 6
        'extra = { a = 1, inner = { deep = "x" } }',           # 7: inline tables
        "",
        "[http]",                                              # 9
        'listen = "127.0.0.1:1"',                              # 10
        'colour = "red"',                                      # 11
    ])
    assert problems(text, [DEMO]) == [
        "halosync.toml:7: daemon.extra: unknown key",
        "halosync.toml:11: http.colour: unknown key",
        "halosync.toml:1: sync.intervall: unknown key (did you mean 'interval'?)",
        "halosync.toml:5: plugins.demo.page_size: must be at least 1, not 0",
    ]


def test_inline_table_plugin_key_line(problems: Problems) -> None:
    text = '# x\nplugins = { demo = { base_url = "https://a.example", api_key = "k-1234", colr = 1 } }\n'
    assert problems(text, [DEMO]) == ["halosync.toml:2: plugins.demo.colr: unknown key"]


def test_check_reports_sub_keys(problems: Problems) -> None:
    def no_red(value: object) -> list[tuple[str, str]]:
        return [(k, "red is not allowed") for k, v in dict(value).items() if v == "red"]  # type: ignore[call-overload]

    spec = PluginConfigSpec("paint", fields={"colours": Field(dict, {}, check=no_red)})
    text = "[plugins.paint.colours]\nwall = \"white\"\ndoor = \"red\"\n"
    assert problems(text, [spec]) == ["halosync.toml:3: plugins.paint.colours.door: red is not allowed"]


# --- secrets and URLs -------------------------------------------------------------------------------------


def test_secret_references(load: Load, tmp_path: Path) -> None:
    (tmp_path / "key").write_text("from-a-file\n")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "demo_key").write_text("from-a-credential")
    base = '[plugins.demo]\nbase_url = "https://api.example"\napi_key = "{}"\n'
    env = {"DEMO_KEY": "from-the-env", "CREDENTIALS_DIRECTORY": str(creds)}
    assert load(base.format("env:DEMO_KEY"), [DEMO], env).plugin("demo")["api_key"] == "from-the-env"  # type: ignore[index]
    assert load(base.format(f"file:{tmp_path}/key"), [DEMO], env).plugin("demo")["api_key"] == "from-a-file"  # type: ignore[index]
    assert load(base.format("credential:demo_key"), [DEMO], env).plugin("demo")["api_key"] == "from-a-credential"  # type: ignore[index]
    assert load(base.format("a-literal-key"), [DEMO], env).plugin("demo")["api_key"] == "a-literal-key"  # type: ignore[index]


def test_unavailable_secrets(problems: Problems, tmp_path: Path) -> None:
    base = '[plugins.demo]\nbase_url = "https://api.example"\napi_key = "{}"\n'
    assert problems(base.format("env:NOT_SET_ANYWHERE"), [DEMO]) == [
        "halosync.toml:3: plugins.demo.api_key: environment variable NOT_SET_ANYWHERE is not set; "
        "export it or use file:/credential:"]
    assert problems(base.format(f"file:{tmp_path}/missing"), [DEMO]) == [
        "halosync.toml:3: plugins.demo.api_key: cannot read file 'missing': No such file or directory"]
    [line] = problems(base.format("credential:demo_key"), [DEMO])
    assert line.startswith("halosync.toml:3: plugins.demo.api_key: credential 'demo_key' needs $CREDENTIALS_DIRECTORY")


@pytest.mark.parametrize("url", ["https://api.example.com", "http://127.0.0.1:8080", "http://localhost/x",
                                 "http://[::1]:9/", "http://127.5.6.7"])
def test_provider_urls_accepted(load: Load, url: str) -> None:
    config = load(f'[plugins.demo]\nbase_url = "{url}"\napi_key = "k-1234"\n', [DEMO])
    assert config.plugin("demo")["base_url"] == url  # type: ignore[index]


def test_plain_http_to_a_remote_host_is_refused(problems: Problems) -> None:
    text = '[plugins.demo]\napi_key = "k-1234"\nbase_url = "http://api.example.com"\n'
    assert problems(text, [DEMO]) == [
        "halosync.toml:3: plugins.demo.base_url: must use https:// (http:// is only accepted for loopback hosts), "
        "not 'http://api.example.com'"]
    assert problems(text.replace("http://api", "ftp://api"), [DEMO]) == [
        "halosync.toml:3: plugins.demo.base_url: must be an https:// URL, not 'ftp://api.example.com'"]


# --- environment ------------------------------------------------------------------------------------------


def test_environment_overrides(load: Load) -> None:
    env = {"HALOSYNC_SYNC__INTERVAL": "60", "HALOSYNC_LOG_LEVEL": "DEBUG", "HALOSYNC_HTTP__LISTEN": "",
           "HALOSYNC_PLUGINS__DEMO__API_KEY": "k-from-env", "HALOSYNC_DAEMON__CONTROL_GROUP": "true"}
    config = load('[sync]\ninterval = 10\n[plugins.demo]\nbase_url = "https://a.example"\napi_key = "x-1234"\n',
                  [DEMO], env)
    assert config.get("sync.interval") == 60.0
    assert config.origins["sync.interval"] == "env:HALOSYNC_SYNC__INTERVAL"
    assert config.get("daemon.log_level") == "debug"
    assert config.origins["daemon.log_level"] == "env:HALOSYNC_LOG_LEVEL"
    assert config.get("http.listen") == ""
    assert config.plugin("demo")["api_key"] == "k-from-env"  # type: ignore[index]
    assert config.get("daemon.control_group") == "true"  # a string key takes the text as written


def test_environment_problem_names_the_variable(problems: Problems) -> None:
    assert problems("", env={"HALOSYNC_SYNC__INTERVALL": "5", "HALOSYNC_SYNC__BATCH_SIZE": "many"}) == [
        "halosync.toml:0: sync.intervall: unknown key (did you mean 'interval'?) (set by $HALOSYNC_SYNC__INTERVALL)",
        "halosync.toml:0: sync.batch_size: must be an integer, not a string ('many') "
        "(set by $HALOSYNC_SYNC__BATCH_SIZE)",
    ]


# --- plugin tables ------------------------------------------------------------------------------------------


def test_plugin_tables(load: Load, problems: Problems) -> None:
    config = load('[plugins.demo]\nbase_url = "https://a.example"\napi_key = "k-1234"\ntags = ["x"]\n', [DEMO])
    assert config.enabled_plugins() == ["demo"]
    assert config.plugin("demo") == {"enabled": True, "base_url": "https://a.example", "api_key": "k-1234",
                                     "page_size": 100, "tags": ["x"]}
    assert problems("[plugins.demo]\n", [DEMO]) == [
        "halosync.toml:1: plugins.demo.base_url: is required: the provider",
        "halosync.toml:1: plugins.demo.api_key: is required: credential",
    ]
    assert problems("[plugins.dmeo]\n", [DEMO]) == [
        "halosync.toml:1: plugins.dmeo: no plugin named 'dmeo' is installed (did you mean 'demo'?); "
        "`halosync plugins` lists them"]


def test_disabled_and_blocked_plugins_are_not_judged(load: Load, problems: Problems) -> None:
    config = load("[plugins.demo]\nenabled = false\nbase_url = 1\n", [DEMO])
    assert config.plugin("demo") is None and config.enabled_plugins() == []
    config = load('[plugins]\nblock = ["demo"]\n[plugins.demo]\nbase_url = 1\n', [DEMO])
    assert config.plugin("demo") is None
    assert problems('[plugins]\nallow = ["other"]\n[plugins.demo]\n', [DEMO]) == [
        "halosync.toml:3: plugins.demo: plugin 'demo' is not in plugins.allow; add it there or remove the table"]


# --- what `config show` prints -------------------------------------------------------------------------------


def test_values_are_redacted_with_origins(load: Load) -> None:
    text = ('[database]\nurl = "postgresql://halo:pg-pass-word@db.example/halo"\n'
            '[plugins.demo]\nbase_url = "https://a.example"\napi_key = "k-very-secret"\n')
    config = load(text, [DEMO])
    values = {key: (value, origin) for key, value, origin in config.values()}
    assert values["plugins.demo.api_key"][0] == "********"
    assert values["database.url"][0] == "postgresql://halo:********@db.example/halo"
    assert values["plugins.demo.api_key"][1].endswith("halosync.toml:5")
    assert values["sync.interval"] == (300.0, "default")
    assert "k-very-secret" not in repr(config.redacted()) and "pg-pass-word" not in repr(config.redacted())


def test_database_url_and_listen_address(problems: Problems, load: Load) -> None:
    assert problems('[database]\nurl = "mysql://root:pw@db/x"\n[http]\nlisten = "8787"\n') == [
        "halosync.toml:2: database.url: must be sqlite:///PATH or postgresql://USER@HOST/DB",
        "halosync.toml:4: http.listen: must be HOST:PORT (e.g. \"127.0.0.1:8787\", \"[::1]:8787\") or \"\" to turn "
        "it off, not '8787'",
    ]
    assert load('[http]\nlisten = "[::1]:0"\n').get("http.listen") == "[::1]:0"


def test_environment_creating_an_unknown_section_names_the_variable(problems: Problems) -> None:
    assert problems("", env={"HALOSYNC_SYNK__INTERVAL": "5"}) == [
        "halosync.toml:0: synk: unknown key (did you mean 'sync'?) (set by $HALOSYNC_SYNK__INTERVAL)"]
