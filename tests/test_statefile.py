"""statefile.replace_text: whole texts only, under concurrent writers and after failures."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from halosync.statefile import replace_text


def test_replaces_the_text_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "state" / "silences.json"
    replace_text(target, "one")
    replace_text(target, "two")
    assert target.read_text(encoding="utf-8") == "two"
    assert os.listdir(target.parent) == ["silences.json"]


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "alerts.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    replace_text(target, "new")
    assert target.stat().st_mode & 0o777 == 0o640


def test_concurrent_writers_never_mix_their_texts(tmp_path: Path) -> None:
    target = tmp_path / "memory.json"
    # Large texts, so a shared temp file would interleave or truncate one writer's bytes with the other's.
    texts = ["a" * 300_000, "b" * 200_000]
    errors: list[BaseException] = []
    start = threading.Barrier(len(texts))

    def write(text: str) -> None:
        start.wait()
        try:
            for _ in range(40):
                replace_text(target, text)
                assert target.read_text(encoding="utf-8") in texts
        except BaseException as exc:  # handed to the main thread, which fails the test with it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a writer did not finish within 60 s"
    assert errors == []
    assert target.read_text(encoding="utf-8") in texts
    assert os.listdir(tmp_path) == ["memory.json"], "a temp file was left behind"


def test_a_failed_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "tickets.json"
    replace_text(target, "old")
    with pytest.raises(UnicodeEncodeError):
        replace_text(target, "bad \udcff surrogate")
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["tickets.json"]
