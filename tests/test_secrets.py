"""Secret references (literal, env:, file:, credential:) and masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from halosync import secrets


def test_references(tmp_path: Path) -> None:
    (tmp_path / "api_key").write_text("from-file-1234\r\n")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "halopsa_client_secret").write_text("from-credential-5678")
    env = {"APOLLO_API_KEY": "from-env-9012", "CREDENTIALS_DIRECTORY": str(creds)}
    assert secrets.resolve("env:APOLLO_API_KEY", env) == "from-env-9012"
    assert secrets.resolve(f"file:{tmp_path}/api_key", env) == "from-file-1234"  # trailing newline dropped
    assert secrets.resolve("credential:halopsa_client_secret", env) == "from-credential-5678"
    assert secrets.resolve("literal-3456", env) == "literal-3456"
    for value in ("from-env-9012", "from-file-1234", "from-credential-5678", "literal-3456"):
        assert secrets.redact(f"x {value} y") == "x ******** y"


@pytest.mark.parametrize(("reference", "env", "message"), [
    ("env:MISSING", {}, "environment variable MISSING is not set; export it or use file:/credential:"),
    ("env:EMPTY", {"EMPTY": ""}, "environment variable EMPTY is not set; export it or use file:/credential:"),
    ("credential:x", {}, "credential 'x' needs $CREDENTIALS_DIRECTORY (set by systemd's LoadCredential=); "
                         "run under the unit or use env:/file: instead"),
    ("file:/nonexistent/k", {}, "cannot read file '/nonexistent/k': No such file or directory"),
])
def test_unavailable(reference: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(secrets.SecretUnavailable) as caught:
        secrets.resolve(reference, env)
    assert str(caught.value) == message


def test_masking_prefers_the_longest_secret_and_spares_short_values() -> None:
    secrets.register("abc")  # too short to mask without mangling ordinary text
    secrets.register("shared-prefix")
    secrets.register("shared-prefix-and-more")
    assert secrets.redact("abc shared-prefix-and-more shared-prefix") == "abc ******** ********"
    assert "shared-prefix" in secrets.known() and "abc" not in secrets.known()


def test_a_weak_secret_is_masked_as_a_token_not_inside_words() -> None:
    secrets.register("zeta")  # the registry is process-wide: a word no other test logs
    assert secrets.redact("zetasync: postgresql://zeta:zeta@db/x") == "zetasync: postgresql://********:********@db/x"
    assert secrets.redact('{"token": "zeta"} key=zeta zeta_sync') == '{"token": "********"} key=******** zeta_sync'
    secrets.register("!p@ss")
    assert secrets.redact("x!p@ss.") == "x********."  # no word character at its start: no boundary needed there
