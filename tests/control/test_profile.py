"""`halosyncctl profile cpu|memory` against a running daemon: it keeps answering while it is profiled, the CPU
profile is a speedscope file with every thread and shows where a busy thread spends its time, and the memory
profile names the line whose allocations grow."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from tests.control.harness import restore_logging, running_daemon

Capsys = pytest.CaptureFixture[str]
__all__ = ["restore_logging"]  # a fixture used by name


def busy_loop_for_the_profiler(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(i * i for i in range(2000))


HOARD: list[bytes] = []


def hoard_for_the_profiler(stop: threading.Event) -> None:
    while not stop.is_set():
        HOARD.append(bytes(10_000))  # ~1 MB a second, from this line
        time.sleep(0.01)


@pytest.fixture
def worker() -> Iterator[threading.Event]:
    stop = threading.Event()
    yield stop
    stop.set()
    HOARD.clear()


async def test_cpu_profile_of_every_thread_while_the_daemon_answers(capsys: Capsys, tmp_path: Path,
                                                                    worker: threading.Event) -> None:
    threading.Thread(target=busy_loop_for_the_profiler, args=(worker,), name="busy", daemon=True).start()
    output = tmp_path / "cpu.speedscope.json"
    async with running_daemon() as running:
        answered: list[str] = []

        async def meanwhile() -> None:
            await trio.sleep(0.5)
            client = await running.raw()
            answered.append((await client.request("status"))["result"]["state"])  # served during the profile
            await client.aclose()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(meanwhile)
            code, result = await running.ctl_json(capsys, "profile", "cpu", "--seconds", "2", "--output",
                                                  str(output))
        assert code == 0 and answered == ["running"]
        assert result["output"] == str(output) and result["seconds"] >= 2 and result["samples"] > 50
        assert 0 < result["sampler_cpu_seconds"] < result["seconds"] / 2
        assert any(h["function"] == "busy_loop_for_the_profiler" or "genexpr" in h["function"]
                   for h in result["hottest"][:5]), result["hottest"][:5]
        audit = (running.daemon.config.state_dir / "audit.log").read_text()
        assert '"method": "profile.cpu"' in audit  # who profiled the daemon is on record
    document = json.loads(output.read_text())
    assert document["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = document["shared"]["frames"]
    names = [p["name"] for p in document["profiles"]]
    assert any(n.startswith("MainThread") for n in names) and any(n.startswith("busy") for n in names)
    for profile in document["profiles"]:
        assert profile["type"] == "sampled" and len(profile["samples"]) == len(profile["weights"])
        assert all(0 <= i < len(frames) for stack in profile["samples"] for i in stack)
    busy = next(p for p in document["profiles"] if p["name"].startswith("busy"))
    assert sum(busy["weights"]) == pytest.approx(2, abs=0.5)
    inside = sum(w for stack, w in zip(busy["samples"], busy["weights"], strict=True)
                 if stack and frames[stack[-1]]["name"].startswith("busy_loop_for_the_profiler"))
    assert inside >= 0.8 * sum(busy["weights"])  # its time is spent in its loop, and the profile says so


async def test_cpu_profile_text_and_one_at_a_time(capsys: Capsys, tmp_path: Path) -> None:
    async with running_daemon() as running:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(running.ctl, capsys, "profile", "cpu", "--seconds", "2", "--output",
                               str(tmp_path / "first.json"))
            await trio.sleep(0.5)
            client = await running.raw()
            second = await client.request("profile.cpu", {"seconds": 1})
            await client.aclose()
        assert second["error"]["code"] == "busy" and "being taken already" in second["error"]["message"]
        code, out, _ = await running.ctl(capsys, "profile", "cpu", "--seconds", "1", "--output",
                                         str(tmp_path / "second.json"))
        assert code == 0 and "written to" in out and "speedscope" in out and "hottest functions" in out
        code, _, err = await running.ctl(capsys, "profile", "cpu", "--output", str(tmp_path / "no" / "such.json"))
        assert code == 1 and "cannot write" in err and "give --output a writable place" in err


async def test_memory_profile_names_the_line_that_grows(capsys: Capsys, tmp_path: Path,
                                                        worker: threading.Event) -> None:
    threading.Thread(target=hoard_for_the_profiler, args=(worker,), daemon=True).start()
    output = tmp_path / "memory.json"
    async with running_daemon() as running:
        code, result = await running.ctl_json(capsys, "profile", "memory", "--seconds", "1", "--output",
                                              str(output))
        assert code == 0 and result["rss_bytes"] > result["traced_bytes"] > 0
        grew = [g for g in result["growth"] if g["file"].endswith("test_profile.py")]
        assert grew and grew[0]["size_diff_bytes"] > 300_000, result["growth"][:3]
        assert json.loads(output.read_text())["growth"] == result["growth"]
        code, out, _ = await running.ctl(capsys, "profile", "memory", "--seconds", "0", "--top", "5")
        assert code == 0 and "top allocations by line" in out and "growth over" in out
