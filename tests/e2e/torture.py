"""Kill torture: a real `halosync run` SIGKILLed again and again, many kills aimed at HaloPSA writes in flight.

The fakes run in their own processes and outlive every kill. The fake Apollo holds generated contacts with many
people who have no e-mail (LinkedIn only) and duplicates; between kills, later duplicates of LinkedIn-only people
arrive (now with an e-mail, some with their LinkedIn URL written another way), so they are pulled after the first
contact's create may be in doubt. The fake HaloPSA carries out a share of POSTs and holds their answer back
(``slow``): a kill that lands while ``writes_in_flight`` is above zero leaves a create applied and unanswered.
At the end a `run --once` finishes the work, and the fake HaloPSA's users are compared with the fake Apollo's
truth of which contacts are one person. Used by the crash-safety test (a few kills) and ``python -m tests.bench
torture`` (50 and more).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halosync.cli.commands.demo import write_config
from halosync.store.gateway import Store
from halosync.store.models import Link
from halosync_apollo.fake.generator import GeneratorSpec, generate_contacts
from halosync_apollo.fake.shape import apollo_time
from tests.e2e.processes import daemon_env, get_json, start_fake, stop
from tests.waiting import until_sync

IDENTIFYING = {"user": {"CFApolloId": "{source_id}", "CFLinkedIn": "{linkedin_url}"}}


@dataclass
class Torture:
    """One torture run: how many kills, what data, which faults."""

    kills: int = 8
    contacts: int = field(default=150)
    seed: int = 13
    # the people: many LinkedIn-only, some contacts twice, and more duplicates of LinkedIn-only people later
    missing_email_share: float = 0.35
    duplicate_share: float = 0.15
    later_waves: int = field(default=3)  # batches of later duplicates, spread over the kills
    later_per_wave: int = 8
    # the faults: a share of POSTs applied whose answer HaloPSA holds back, and kills that wait for one
    slow_rate: float = 0.35
    slow_seconds: float = field(default=1.2)
    aimed_share: float = 0.75  # the others land at a random moment


@dataclass
class Outcome:
    """What a torture run measured (see ``_tally`` for lost and duplicated)."""

    kills: int = 0
    in_flight_kills: int = 0
    leads: int = 0
    problems: list[str] = field(default_factory=list)
    people: int = 0
    users: int = 0
    lost: int = 0
    duplicated: int = 0
    final_exit: int = -1
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.final_exit == 0


def post_json(url: str, body: Any) -> Any:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def later_duplicates(spec: GeneratorSpec, wave: int, count: int,
                     rng: random.Random) -> dict[str, tuple[dict[str, Any], str]]:
    """Contacts of people whose first contact had no e-mail: the same person again, now with an address,
    updated after everything pulled so far (so a later pull brings them). Answers new contact id -> (contact,
    the id of the contact it duplicates)."""
    generated = generate_contacts(spec)
    linkedin_only = [c for c in generated.contacts if not c.get("email") and c.get("linkedin_url")]
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for n, original in enumerate(rng.sample(linkedin_only, min(count, len(linkedin_only)))):
        contact = json.loads(json.dumps(original))
        contact["id"] = f"{rng.getrandbits(96):024x}"
        domain = contact["organization"]["primary_domain"]
        contact["email"] = f"{contact['first_name']}.{contact['last_name']}.w{wave}n{n}@{domain}".lower()
        contact["contact_emails"] = [{"email": contact["email"], "email_status": "verified", "position": 0}]
        if n % 2:  # the same profile written another way
            contact["linkedin_url"] = contact["linkedin_url"].replace("http://www.", "https://") + "/"
        contact["updated_at"] = apollo_time(spec.end + wave * 600 + n)
        out[contact["id"]] = (contact, original["id"])
    return out


def run_torture(directory: Path, plan: Torture, *, say: Any = None) -> Outcome:
    started_at = time.monotonic()
    spec = GeneratorSpec(count=plan.contacts, seed=plan.seed, missing_email_share=plan.missing_email_share,
                         duplicate_share=plan.duplicate_share)
    apollo, apollo_url = start_fake(["halosync_apollo.fake", "--port", "0", "--unthrottled", "--api-key",
                                     "demo-key"])
    halo, halo_url = start_fake(["halosync_halopsa.fake", "--port", "0", "--rate", "100000/300", "--latency",
                                 "0.02", "--slow-rate", str(plan.slow_rate), "--slow-seconds",
                                 str(plan.slow_seconds)])
    try:
        post_json(f"{apollo_url}/__admin/generate", {"count": spec.count, "seed": spec.seed,
                                                     "missing_email_share": spec.missing_email_share,
                                                     "duplicate_share": spec.duplicate_share})
        post_json(f"{halo_url}/_fake/seed", {"fields": [{"name": n, "usage": 3} for n in IDENTIFYING["user"]]})
        truth: dict[str, str] = dict(get_json(f"{apollo_url}/__admin/truth"))
        config = write_config(directory, apollo_url, halo_url, log_level="info", halopsa={
            "custom_fields": IDENTIFYING}, sync={"batch_size": 10, "concurrency": 3, "retry_base": 0.2,
                                                 "retry_cap": 2.0})
        outcome = Outcome()
        rng = random.Random(plan.seed)
        waves = {max(1, plan.kills * (w + 1) // (plan.later_waves + 1)): w + 1 for w in range(plan.later_waves)}
        command = [sys.executable, "-m", "halosync.cli.main", "--config", str(config), "run"]
        log = directory / "daemon.log"
        for kill in range(1, plan.kills + 1):
            if kill in waves:
                added = later_duplicates(spec, waves[kill], plan.later_per_wave, rng)
                post_json(f"{apollo_url}/__admin/contacts", {"contacts": [c for c, _ in added.values()]})
                truth.update({cid: truth[original] for cid, (_, original) in added.items()})
            in_flight = _run_and_kill(command, log, kill, halo_url, rng, plan)
            outcome.kills += 1
            outcome.in_flight_kills += in_flight
            if say:
                say(f"kill {kill}/{plan.kills}{' (write in flight)' if in_flight else ''}")
        final = subprocess.run([*command, "--once"], env=daemon_env(), capture_output=True, text=True, timeout=300)
        outcome.final_exit = final.returncode
        if final.returncode:
            outcome.problems.append(final.stderr[-2000:])
        _tally(outcome, truth, get_json(f"{halo_url}/_fake/stats")["records"]["users"], directory)
        outcome.seconds = time.monotonic() - started_at
        return outcome
    finally:
        for proc in (apollo, halo):
            stop(proc)


def _run_and_kill(command: list[str], log: Path, kill: int, halo_url: str, rng: random.Random,
                  plan: Torture) -> bool:
    """Start the daemon, let it work, SIGKILL it: while a write is in flight for aimed kills (if one comes
    within a few seconds), at a random moment otherwise. Answers whether a write was in flight at the kill."""
    with log.open("a") as stderr:
        daemon = subprocess.Popen(command, env=daemon_env(), stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            wait_running(log, kill)
            aimed = rng.random() < plan.aimed_share
            # a real process killed at a chosen moment: wall-clock time is the point here
            deadline = time.monotonic() + (rng.uniform(0.3, 4.0) if aimed else rng.uniform(0.05, 1.5))
            while time.monotonic() < deadline:
                if aimed and get_json(f"{halo_url}/_fake/stats")["writes_in_flight"]:
                    time.sleep(rng.uniform(0.0, plan.slow_seconds / 2))  # somewhere inside the held answer
                    break
                time.sleep(0.01)
            in_flight = bool(get_json(f"{halo_url}/_fake/stats")["writes_in_flight"])
        finally:
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=10)
    return in_flight


def wait_running(log: Path, times: int) -> None:
    """Until the daemon has said "running" ``times`` times in its log (imports and start-up take a while)."""
    until_sync(log.read_text, lambda text: text.count(" running (store ") >= times,
               what=f"the daemon's start number {times} in its log", within=60, step=0.02)


def person_links(directory: Path) -> dict[str, str]:
    """contact id -> the HaloPSA user id it is linked to, read from the daemon's SQLite store."""
    store = Store(f"sqlite:///{directory / 'halosync.db'}")
    try:
        return dict(store.call(lambda: [(x.source_id, x.sink_id) for x in Link.select().where(
            Link.kind == "person")]))
    finally:
        store.close()


def _tally(outcome: Outcome, truth: dict[str, str], users: int, directory: Path) -> None:
    """Lost: people with no HaloPSA user (or sharing another person's). Duplicated: users beyond one per person
    (a person linked to several, or users nobody is linked to: a create that landed twice)."""
    links = person_links(directory)
    users_of: dict[str, set[str]] = defaultdict(set)
    for contact_id, person in truth.items():
        if contact_id in links:
            users_of[person].add(links[contact_id])
    people = set(truth.values())
    owners: dict[str, set[str]] = defaultdict(set)
    for person, ids in users_of.items():
        for sink_id in ids:
            owners[sink_id].add(person)
    shared = sum(len(p) - 1 for p in owners.values())
    outcome.leads, outcome.people, outcome.users = len(truth), len(people), users
    outcome.lost = sum(1 for p in people if not users_of[p]) + shared
    outcome.duplicated = sum(len(ids) - 1 for ids in users_of.values()) + max(0, users - len(owners))
    for person in sorted(people):
        if len(users_of[person]) != 1:
            outcome.problems.append(f"person {person}: users {sorted(users_of[person])}")
