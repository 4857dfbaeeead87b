"""High availability on PostgreSQL (issue 18): 1, 2 and 3 daemons sharing one store against the fakes.

Two parts, each for 1, 2 and 3 daemons:

- **end to end**: real `halosync run` processes (tests/ha/rig.py) on a fresh PostgreSQL schema, the fake Apollo
  with a contact book and the fake HaloPSA admitting 40 requests per rolling 4 s (the 300 per 5 min of a hosted
  instance, compressed 75 times in time and scaled down). Leads/s is people written to HaloPSA over the seconds
  from every daemon running to the last user; Apollo requests per 1,000 contacts counts contacts/search calls
  (one poller: the same as one daemon); the 429 share counts every HaloPSA answer. With 2 and 3 daemons the
  poller is then SIGSTOPped (a hung poller, or a host cut off: only the lapse of its lease tells, the figure for
  daemons on two hosts) and, once a standby took over, the new poller is SIGKILLed (on one host the standbys see
  the dead pid and take over at once). Lease 2 s: target under 4 s.
- **shared window**: N HaloPSA clients (N daemons' sinks, two workers each) sharing one rolling window of 30
  requests per 2 s through the store, writing as fast as it lets them for 10 windows: how full the instance's window
  was (from the fake's own log, as bench_halopsa_limits) and the 429 share.
"""

from __future__ import annotations

import signal
import tempfile
import time
from pathlib import Path

import trio

from tests.ha.budget_load import shared_window_load
from tests.ha.rig import Cluster, fakes
from tests.pgschema import fresh_schema

TITLE = "ha"
Row = tuple[str, float | int | str, str, str]
LEASE = 2.0
HALO_RATE = (40, 4.0)


def _end_to_end(n: int, contacts: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-ha-") as tmp, fresh_schema("bench_ha") as url, \
            fakes(contacts, halo_rate=f"{HALO_RATE[0]}/{HALO_RATE[1]:g}", halo_latency=0.02) as world:
        cluster = Cluster(Path(tmp), url, world, n, lease=LEASE,
                          halopsa={"requests_per_window": HALO_RATE[0], "window_seconds": HALO_RATE[1]})
        try:
            cluster.start()
            started = time.monotonic()  # from every daemon running (start-up is not what is measured)
            people = world.people()
            cluster.wait_all_written(people, within=900)
            elapsed = time.monotonic() - started
            stats = world.halo()
            answers = sum(stats["by_status"].values())
            out = {"leads_per_s": people / elapsed, "apollo_per_1000": world.apollo_searches() * 1000 / contacts,
                   "refused": stats["by_status"].get("429", 0) / max(1, answers), "failover": float("nan"),
                   "hung": float("nan")}
            if n > 1:
                # A poller that stops answering without exiting (SIGSTOP: a frozen VM, a host cut off the network,
                # a standby on another host): only the lapse of its lease tells, so this is the two-host figure.
                poller = cluster.poller()
                assert poller.proc is not None
                poller.proc.send_signal(signal.SIGSTOP)
                try:
                    successor, out["hung"] = cluster.wait_new_poller(poller, within=30)
                finally:
                    poller.proc.send_signal(signal.SIGCONT)  # it wakes, finds its lease gone, and stands by
                # A SIGKILL on the poller's own host: the standbys see its pid gone and take over at once.
                successor.kill()
                _, out["failover"] = cluster.wait_new_poller(successor, within=30)
            return out
        finally:
            cluster.close()


def _window(n: int) -> dict[str, float]:
    with fresh_schema("bench_ha") as url:
        return trio.run(shared_window_load, url, n, 30, 2.0, 20.0)


def run(quick: bool) -> list[Row]:
    contacts = 300 if quick else 1000
    rows: list[Row] = []
    for n in (1, 2, 3):
        e2e = _end_to_end(n, contacts)
        label = f"{n} daemon{'s' if n > 1 else ''}"
        rows += [
            (f"{label}: leads per s", round(e2e["leads_per_s"], 2), "leads/s",
             f"{contacts} contacts, HaloPSA {HALO_RATE[0]}/{HALO_RATE[1]:g} s, running to last user"),
            (f"{label}: Apollo requests per 1,000 contacts", round(e2e["apollo_per_1000"], 1), "requests",
             "same as 1 daemon"),
            (f"{label}: HaloPSA 429 share (end to end)", round(e2e["refused"], 4), "of answers", "<= 0.01"),
        ]
        if n > 1:
            rows += [
                (f"{label}: failover after SIGKILL of the poller (same host)", round(e2e["failover"], 2), "s",
                 f"< {2 * LEASE:g} (2 leases of {LEASE:g} s)"),
                (f"{label}: failover after the poller hangs (SIGSTOP; as from another host)", round(e2e["hung"], 2),
                 "s", f"< {2 * LEASE:g} (2 leases of {LEASE:g} s)"),
            ]
        window = _window(n)
        rows += [
            (f"{label}: shared window utilisation", round(window["utilisation"], 4),
             f"of {int(window['windows'])} windows of 30/2 s", ">= 0.95 together"),
            (f"{label}: shared window 429 share", round(window["refused"], 4), f"of {int(window['requests'])} "
             "requests", "<= 0.01"),
        ]
    return rows

