"""`halosync check-config` and `halosync config show`, driven as a user runs them, with the example plugin
installed from contrib/ and discovered through its entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halosync.cli.main import main
from tests.plugin import fake_dist

HEAD = '[plugins]\nallow = ["example", "broken"]\n'  # only the plugins these tests are about are imported


@pytest.fixture(autouse=True)
def entry_points(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> tuple[int, list[str], str]:
    code = main(["--config", str(path), *args])
    out, err = capsys.readouterr()
    return code, [line.replace(f"{path.parent}/", "") for line in err.splitlines()], out


def test_valid_config_says_ok(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text(HEAD + f'[plugins.example]\npath = "{tmp_path}/alerts.txt"\n')
    code, err, out = run(capsys, path, "check-config")
    assert (code, err) == (0, [])
    assert out == f"{path}: ok (1 plugin(s) enabled: example)\n"


@pytest.mark.parametrize(("body", "expected"), [
    ('[plugins.example]\npath = "x"\nprefix = "unterminated\n',
     "halosync.toml:5: (syntax): Illegal character '\\n'"),
    ('[plugins.example]\npath = "x"\nprefx = "y"\n',
     "halosync.toml:5: plugins.example.prefx: unknown key (did you mean 'prefix'?)"),
    ('[plugins.example]\npath = 42\n',
     "halosync.toml:4: plugins.example.path: must be a string, not an integer (42)"),
    ('[plugins.example]\npath = "x"\ntoken = "file:/nonexistent/token"\n',
     "halosync.toml:5: plugins.example.token: cannot read file '/nonexistent/token': No such file or directory"),
    ('[plugins.example]\npath = "x"\ntoken = "env:HALOSYNC_TEST_UNSET_TOKEN"\n',
     "halosync.toml:5: plugins.example.token: environment variable HALOSYNC_TEST_UNSET_TOKEN is not set; "
     "export it or use file:/credential:"),
    ('[plugins.example]\npath = "x"\n\nwebhook_url = "http://hooks.example.com/a"\n',
     "halosync.toml:6: plugins.example.webhook_url: must use https:// (http:// is only accepted for loopback "
     "hosts), not 'http://hooks.example.com/a'"),
    ('[plugins.exampel]\npath = "x"\n',
     "halosync.toml:3: plugins.exampel: plugin 'exampel' is not in plugins.allow (did you mean 'example'?); "
     "add it there or remove the table"),
], ids=["syntax", "unknown-key", "wrong-type", "missing-secret-file", "unset-env-secret", "http-url", "no-plugin"])
def test_each_class_of_bad_config(capsys: pytest.CaptureFixture[str], tmp_path: Path, body: str,
                                  expected: str) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text(HEAD + body)
    code, err, out = run(capsys, path, "check-config")
    assert (code, err, out) == (78, [expected], "")


def test_every_problem_is_listed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text(HEAD + '[sync]\ninterval = "x"\n[plugins.example]\nprefx = 1\n')
    code, err, _ = run(capsys, path, "check-config")
    assert code == 78
    assert err == [
        "halosync.toml:4: sync.interval: must be a number, not a string ('x')",
        "halosync.toml:5: plugins.example.path: is required: file the alerts are appended to",
        "halosync.toml:6: plugins.example.prefx: unknown key (did you mean 'prefix'?)",
    ]


def test_a_plugin_that_fails_to_import_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dist.install(tmp_path, monkeypatch, "broken", "halosync_broken_test", "raise ImportError('needs libfoo')\n")
    path = tmp_path / "halosync.toml"
    path.write_text(HEAD + '[plugins.broken]\nanything = 1\n[plugins.example]\npath = 1\n')
    code, err, _ = run(capsys, path, "check-config")
    assert code == 78
    assert err == [
        "halosync.toml:3: plugins.broken: failed to import 'halosync_broken_test': ImportError: needs "
        "libfoo. Fix or uninstall the plugin, or add 'broken' to [plugins] block",
        "halosync.toml:6: plugins.example.path: must be a string, not an integer (1)",
    ]
    # `run` refuses to start with the same message (and the same exit code).
    code, err, _ = run(capsys, path, "config", "show")
    assert code == 78 and err[0].startswith("halosync: plugin 'broken': failed to import")
    # Blocking it is the documented way out.
    path.write_text(HEAD.replace('"broken"', "") + 'block = ["broken"]\n[plugins.broken]\nanything = 1\n')
    code, err, _ = run(capsys, path, "check-config")
    assert (code, err) == (0, [])


def test_config_show_redacts_and_says_where_each_value_came_from(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_TOKEN", "tok-4f9a-secret")
    monkeypatch.setenv("HALOSYNC_SYNC__INTERVAL", "60")
    path = tmp_path / "halosync.toml"
    path.write_text(HEAD + '[database]\nurl = "postgresql://u:pw-9b7c@db.example/h"\n'
                    '[plugins.example]\npath = "a.txt"\ntoken = "env:EXAMPLE_TOKEN"\n')
    code, err, out = run(capsys, path, "config", "show")
    assert (code, err) == (0, [])
    assert "tok-4f9a-secret" not in out and "pw-9b7c" not in out
    lines = {line.split(" = ")[0]: line for line in out.splitlines()[1:]}
    assert lines["plugins.example.token"].startswith('plugins.example.token = "********"')
    assert lines["plugins.example.token"].endswith(f"# {path}:7")
    assert lines["sync.interval"].endswith("# env:HALOSYNC_SYNC__INTERVAL")
    assert lines["sync.batch_size"].endswith("# default")
    assert lines["database.url"].startswith('database.url = "postgresql://u:********@db.example/h"')

    code, _, out = run(capsys, path, "config", "show", "--json")
    document = json.loads(out)
    assert code == 0 and "tok-4f9a-secret" not in out and "pw-9b7c" not in out
    assert document["values"]["plugins.example.token"] == {"value": "********", "origin": f"{path}:7"}
    assert document["values"]["sync.interval"] == {"value": 60.0, "origin": "env:HALOSYNC_SYNC__INTERVAL"}
    assert document["file"] == str(path)


def test_a_secret_never_appears_in_an_error_message(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # The secret is resolved after the key whose message quotes it; the message must still be masked.
    monkeypatch.setenv("EXAMPLE_TOKEN", "tok-77e1-secret")
    path = tmp_path / "halosync.toml"
    path.write_text(HEAD + '[plugins.example]\npath = "x"\nwebhook_url = "http://tok-77e1-secret.example.com"\n'
                    'token = "env:EXAMPLE_TOKEN"\n')
    code, err, _ = run(capsys, path, "check-config")
    assert code == 78
    assert err == ["halosync.toml:5: plugins.example.webhook_url: must use https:// (http:// is only accepted for "
                   "loopback hosts), not 'http://********.example.com'"]


def test_a_plugin_whose_config_hook_fails_is_a_problem_too(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dist.install(tmp_path, monkeypatch, "broken", "halosync_badspec_test",
                      "from halosync import hookimpl\n\n@hookimpl\ndef halosync_config_spec():\n"
                      "    return {'not': 'a spec'}\n")
    path = tmp_path / "halosync.toml"
    path.write_text(HEAD + '[plugins.example]\npath = "x"\n')
    code, err, _ = run(capsys, path, "check-config")
    assert (code, err) == (78, ["halosync.toml:1: plugins.broken: halosync_config_spec returned {'not': 'a spec'}, "
                                "not a PluginConfigSpec"])


def test_no_file_at_all(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALOSYNC_CONFIG", raising=False)
    # This machine may have /etc/halosync: look in places that hold nothing.
    nowhere = (Path("halosync.toml"), Path("/nonexistent/halosync/halosync.toml"))
    monkeypatch.setattr("halosync.config.loader.SEARCH_PATH", nowhere)
    assert main(["check-config"]) == 78
    out, err = capsys.readouterr()
    assert out == ""
    assert "no configuration file found (looked for: $HALOSYNC_CONFIG (not set), " in err
    assert f"{Path.cwd() / 'halosync.toml'}, /nonexistent/halosync/halosync.toml)" in err
    assert "halosync.toml.example" in err
    assert main(["check-config", "--json"]) == 78
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False and document["file"] is None
    assert document["looked_for"][0] == "$HALOSYNC_CONFIG (not set)"
    assert [p["key"] for p in document["problems"]] == ["config"]


def test_check_config_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text(HEAD + f'[plugins.example]\npath = "{tmp_path}/alerts.txt"\n')
    code, _, out = run(capsys, path, "check-config", "--json")
    document = json.loads(out)
    assert code == 0 and document["ok"] is True and document["problems"] == []
    assert document["file"] == str(path) and document["enabled_plugins"] == ["example"]
    path.write_text(HEAD + "[daemon]\nshutdown_grace = \"soon\"\n")
    code, _, out = run(capsys, path, "check-config", "--json")
    document = json.loads(out)
    assert code == 78 and document["ok"] is False
    assert any(p["key"] == "daemon.shutdown_grace" and p["line"] == 4 for p in document["problems"])


def test_config_show_writes_values_as_toml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "halosync.toml"
    path.write_text('[daemon]\ncontrol_allowed_uids = [1000, 1001]\n')
    code, _, out = run(capsys, path, "config", "show")
    lines = {line.split(" = ")[0]: line for line in out.splitlines()[1:]}
    assert code == 0
    assert lines["daemon.control_allowed_uids"].startswith("daemon.control_allowed_uids = [1000, 1001]  ")
    assert lines["sync.dry_run"].startswith("sync.dry_run = false  ")
