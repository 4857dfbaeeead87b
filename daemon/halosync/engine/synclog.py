"""What the sync log (``sync.log``, and the main log) says about the pipeline's work.

- one ``info`` line per pull of a source (its cursor before and after, pages, leads seen, staged, unchanged,
  rejected, the requests it spent, how long it took), a progress line every minute of a long pull, and a
  ``warning`` when a pull fails;
- one ``info`` line per sink batch (what was written and how it ended: created, updated, merged, found, retried,
  failed; requests and time);
- an ``error`` line for every dead letter, naming the lead (``source:id``), the stage and the reason, so that
  ``grep ERROR sync.log`` lists every lead that failed; a ``warning`` for every write that will be tried again.

Only ids, counts and reasons are logged: never a lead's fields (names, e-mail addresses). The lines are built from
the ``Ledger`` of a committed unit of work, so what the log says is what the store holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from halosync.engine.ledger import Ledger
from halosync.engine.staging import StageResult
from halosync.log import sync_logger
from halosync.provider.requests import RequestCount

_BATCH_COUNTS = ("created", "updated", "merged", "companies_created", "companies_updated", "opportunities_created")


def _lead(entry: Mapping[str, Any]) -> str:
    return f"{entry.get('source') or '-'}:{entry.get('source_id') or '-'}"


def _cursor(cursor: Any) -> str:
    text = "start" if cursor in (None, "") else str(cursor)
    return text if len(text) <= 80 else text[:77] + "..."


def pull_done(source: str, *, cursor_from: Any, cursor_to: Any, full: bool, pages: int, seen: int,
              totals: StageResult, requests: RequestCount, seconds: float, stopped_early: bool) -> None:
    sync_logger().info(
        "{}: pulled {} page(s){} from {} to {}: seen {}, staged {}, unchanged {}, rejected {}; {} request(s){} in "
        "{:.2f} s{}", source, pages, " (full)" if full else "", _cursor(cursor_from), _cursor(cursor_to), seen,
        totals.staged, totals.unchanged, totals.rejected, requests.sent,
        f" ({requests.failed} failed)" if requests.failed else "", seconds,
        "; stopped early, the daemon is stopping" if stopped_early else "")


def pull_progress(source: str, *, pages: int, seen: int, totals: StageResult, requests: RequestCount,
                  seconds: float) -> None:
    sync_logger().info("{}: pulling: {} page(s) so far, seen {}, staged {}; {} request(s) in {:.0f} s", source,
                       pages, seen, totals.staged, requests.sent, seconds)


def pull_failed(source: str, *, cursor_from: Any, pages: int, totals: StageResult, requests: RequestCount,
                seconds: float, reason: str) -> None:
    sync_logger().warning(
        "{}: the pull failed after {} page(s) from {} (staged {}; {} request(s) in {:.2f} s): {}; it is tried "
        "again at the next poll", source, pages, _cursor(cursor_from), totals.staged, requests.sent, seconds,
        reason)


def batch_done(sink: str, *, kind: str, action: str, size: int, outcomes: Mapping[str, int], ledger: Ledger,
               requests: RequestCount, seconds: float) -> None:
    """``outcomes``: how many rows ended ok, found (already there), exists, failed, postponed (rate limited)."""
    counts = {name.replace("_", " "): ledger.totals[name] for name in _BATCH_COUNTS if ledger.totals[name]}
    retried = sum(1 for e in ledger.lineage if e["stage"] == "write" and e["detail"].get("outcome") == "retry")
    failed = ledger.dead
    shown = ", ".join(f"{name} {n}" for name, n in counts.items())
    extra = [f"{what} {outcomes[what]}" for what in ("found", "exists", "postponed") if outcomes.get(what)]
    sync_logger().info(
        "{}: batch of {} {} {}(s): {}{}{}{}; {} request(s) in {:.2f} s", sink, size, action, kind,
        shown or "nothing written", "".join(f", {e}" for e in extra),
        f", retry {retried - failed}" if retried > failed else "", f", failed {failed}" if failed else "",
        requests.sent, seconds)


def webhooks_done(plugin: str, *, deliveries: int, leads: int, rejected: int, records: int,
                  failed: Mapping[int, str]) -> None:
    """One ``info`` line per plugin for a batch of webhook deliveries taken from the inbox (what they carried), and
    an ``error`` for every delivery that became a dead letter, with its inbox id and reason."""
    log = sync_logger()
    log.info("{}: {} webhook deliver{} processed: {} lead(s) staged, {} rejected, {} sink record(s) mirrored{}",
             plugin, deliveries, "y" if deliveries == 1 else "ies", leads, rejected, records,
             f"; {len(failed)} failed" if failed else "")
    for inbox_id, reason in failed.items():
        log.error("dead letter: webhook delivery {} of {} failed: {}", inbox_id, plugin, reason)


def failures(ledger: Ledger) -> None:
    """Every dead letter (error) and every write put back to be tried again (warning) of a committed unit."""
    log = sync_logger()
    dead = {(e["source"], e["source_id"]) for e in ledger.lineage if e["stage"] == "dead"}
    for entry in ledger.lineage:
        detail = entry["detail"]
        if entry["stage"] == "dead":
            log.error("dead letter: lead {} failed at {}: {}", _lead(entry), detail.get("stage"),
                      detail.get("reason"))
        elif (entry["stage"] == "write" and detail.get("outcome") == "retry"
              and (entry["source"], entry["source_id"]) not in dead):
            log.warning("retry: lead {} {} {} on {} failed (attempt {}): {}; it is tried again", _lead(entry),
                        detail.get("action"), detail.get("kind"), detail.get("sink"), detail.get("attempt"),
                        detail.get("error"))
    untraced = ledger.dead - sum(1 for e in ledger.lineage if e["stage"] == "dead")
    if untraced > 0:  # dead letters without a source id (a record the source sent without one)
        log.error("dead letter: {} record(s) without a source id failed; `halosyncctl dlq list` shows them",
                  untraced)
