"""A sampling profile of every thread, as a speedscope document (https://www.speedscope.app, or the offline
``speedscope`` viewer): open it, pick a thread, and read the flame graph ("left heavy") or the timeline.

A sampler thread looks at every other thread's Python stack (``sys._current_frames``) every ``interval`` seconds
for ``seconds`` seconds; the daemon keeps running meanwhile. It is wall-clock sampling: a thread waiting (the trio
loop in ``epoll``, an idle worker in ``queue.get``) shows where it waits, which is what tells a stuck daemon from a
busy one. The cost is one stack walk per thread per sample; the answer says what the sampling took
(``sampler_cpu_seconds``, the sampler thread's own CPU time).

No profiling library is used: pyinstrument samples only the thread that starts it, yappi traces every call (far
dearer, and it distorts what it measures), and py-spy is a separate program that needs ptrace rights; reading
``sys._current_frames`` is how all of them see other threads, and the speedscope format is documented and stable.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from types import CodeType, FrameType
from typing import Any

SCHEMA = "https://www.speedscope.app/file-format-schema.json"
MAX_DEPTH = 200  # frames kept per stack (the innermost ones)


@dataclass
class _Thread:
    name: str
    samples: list[list[int]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)


@dataclass
class CpuProfile:
    document: dict[str, Any]  # the speedscope file
    samples: int
    seconds: float
    hottest: list[dict[str, Any]]  # functions by samples on top of a stack (self), then anywhere in it (total)
    sampler_cpu_seconds: float  # what the sampling itself cost (the sampler thread's CPU time)


class Sampler:
    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self._frames: list[dict[str, Any]] = []
        self._index: dict[CodeType, int] = {}
        self._threads: dict[int, _Thread] = {}
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self, seconds: float) -> CpuProfile:
        """Sample for ``seconds`` (or until ``stop()``), in the calling thread; returns the profile."""
        me = threading.get_ident()
        cpu_started = time.thread_time()
        started = last = time.perf_counter()
        deadline = started + seconds
        count = 0
        while not self._stop.is_set():
            now = time.perf_counter()
            if now >= deadline:
                break
            names = {t.ident: t.name for t in threading.enumerate()}
            weight = now - last
            last = now
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                thread = self._threads.get(ident)
                if thread is None:
                    thread = self._threads[ident] = _Thread(f"{names.get(ident, 'thread')} ({ident})")
                stack = self._stack(frame)
                if thread.samples and thread.samples[-1] == stack:  # a thread that stays put: one longer sample
                    thread.weights[-1] += weight
                else:
                    thread.samples.append(stack)
                    thread.weights.append(weight)
            count += 1
            self._stop.wait(max(0.0, self.interval - (time.perf_counter() - now)))
        profile = self._profile(count, time.perf_counter() - started)
        profile.sampler_cpu_seconds = round(time.thread_time() - cpu_started, 4)
        return profile

    def _stack(self, frame: FrameType | None) -> list[int]:
        stack: list[int] = []
        while frame is not None and len(stack) < MAX_DEPTH:
            code = frame.f_code
            index = self._index.get(code)
            if index is None:
                index = self._index[code] = len(self._frames)
                self._frames.append({"name": code.co_qualname, "file": code.co_filename,
                                     "line": code.co_firstlineno})
            stack.append(index)
            frame = frame.f_back
        stack.reverse()  # speedscope wants the outermost frame first
        return stack

    def _profile(self, count: int, seconds: float) -> CpuProfile:
        profiles = []
        self_samples: dict[int, float] = {}
        total_samples: dict[int, float] = {}
        for thread in self._threads.values():
            total = sum(thread.weights)
            profiles.append({"type": "sampled", "name": thread.name, "unit": "seconds", "startValue": 0,
                             "endValue": round(total, 6), "samples": thread.samples,
                             "weights": [round(w, 6) for w in thread.weights]})
            for stack, weight in zip(thread.samples, thread.weights, strict=True):
                if stack:
                    self_samples[stack[-1]] = self_samples.get(stack[-1], 0.0) + weight
                for index in set(stack):
                    total_samples[index] = total_samples.get(index, 0.0) + weight
        hottest = [{"function": self._frames[i]["name"], "file": self._frames[i]["file"],
                    "line": self._frames[i]["line"], "self_seconds": round(s, 3),
                    "total_seconds": round(total_samples.get(i, 0.0), 3)}
                   for i, s in sorted(self_samples.items(), key=lambda kv: kv[1], reverse=True)[:30]]
        document = {"$schema": SCHEMA, "shared": {"frames": self._frames}, "profiles": profiles,
                    "name": f"halosync pid {os.getpid()}: {len(profiles)} thread(s), {seconds:.1f} s, "
                            f"{count} samples every {self.interval * 1000:g} ms (wall clock)",
                    "exporter": "halosync", "activeProfileIndex": 0}
        return CpuProfile(document, count, seconds, hottest, 0.0)
