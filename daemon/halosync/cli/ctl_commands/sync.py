"""``halosyncctl sync [--source NAME] [--full] [--dry-run] [--wait|--follow]``: start a sync now.

``--follow`` follows the pull (a bar with a percentage and an ETA when the source knows its total, as Apollo does)
and then its writes: it ends once nothing is left to match or write (``queue``: staged_pending, pending and
in_flight all 0), and its totals are read after that, so they are what ``status`` says next. It stops early, exit
1, when the writes cannot go on by themselves: the daemon is paused, or a sink waits for a reload (its credentials
were refused). Rows waiting for a retry or a rate-limit window are waited for (the line says how many).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from halosync.cli.ctl_commands import Session, add_command, pairs, shown, table
from halosync.exitcodes import EX_PROBLEMS

WRITES_POLL = 0.5  # seconds between two looks at the queue while writes are followed
FRESH_TOTALS_WITHIN = 5.0  # status serves a snapshot (halosync.control.snapshot): wait this long for a newer one


def register(sub: Any) -> None:
    p = add_command(sub, "sync", "start a sync now",
                    "Start a sync now. Without --wait or --follow it starts in the background and returns at once. "
                    "--dry-run prints the plan (creates, updates, merges) and writes nothing. With --wait or "
                    "--follow, exit 1 when a source failed.")
    p.add_argument("--source", metavar="NAME", help="only this source (default: every enabled source)")
    p.add_argument("--full", action="store_true", help="pull everything, not only what changed since the cursor")
    p.add_argument("--dry-run", action="store_true", help="compute and print the plan; write nothing")
    p.add_argument("--full-plan", action="store_true", dest="full_plan",
                   help="with --dry-run: list every planned write (the plan keeps up to 1,000 of each kind; --json "
                        "gives them with all their fields), not only the first few")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--wait", action="store_true", help="wait for the sync to finish and print its summary")
    how.add_argument("--follow", action="store_true", help="show live progress until the sync finishes")
    p.set_defaults(handler=handle)


def _numbers(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


class _ProgressView:
    """A progress bar when stdout is a terminal (percentage and ETA once a total is known), one line per event
    otherwise; nothing under --quiet."""

    def __init__(self, session: Session) -> None:
        self.console = session.console
        self.quiet = session.quiet
        self.progress: Progress | None = None
        self.task: Any = None
        self.writes: Any = None
        self.last_line = ""
        if self.console.is_terminal and not self.quiet:
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                     TaskProgressColumn(), TextColumn("{task.fields[count]}"), TimeElapsedColumn(),
                                     TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
                                     transient=False)
            self.task = self.progress.add_task("starting", total=None, count="")
            self.progress.start()

    def __call__(self, event: dict[str, Any]) -> None:
        if self.quiet:
            return
        if event.get("type") == "done":
            if self.progress is not None:  # the pull is over: its bar is full, whatever the estimate said
                task = self.progress.tasks[0]
                self.progress.update(self.task, total=task.completed or 1, completed=task.completed or 1)
            return  # the summary that follows says it all
        numbers = _numbers(event)
        words = " ".join(f"{k}={shown(v)}" for k, v in numbers.items() if k != "total")
        label = str(event.get("source") or event.get("stage") or event.get("type") or "sync")
        # A pull counts what it staged; a dry run what it read (its staging is rolled back).
        done = numbers["read"] if "read" in numbers else sum(numbers.get(k, 0) for k in ("staged", "unchanged",
                                                                                        "rejected"))
        total = numbers.get("total")
        if self.progress is None:
            of = f" ({done / total:.0%} of {total:,})" if total else ""
            self.console.print(f"{event.get('type', 'event')}: {label} {words}{of}".rstrip())
            return
        self.progress.update(self.task, description=f"{label} {words}", completed=done, total=total,
                             count=f"{done:,} of {total:,} leads" if total else f"{done:,} leads")

    def writes_left(self, left: dict[str, int], written: int, peak: int) -> None:
        """The writes after the pull: what is left to match and write, and how many of the most seen are done."""
        if self.quiet:
            return
        words = (f"writing: {left['staged_pending']:,} to match, {left['pending']:,} pending, "
                 f"{left['in_flight']:,} in flight")
        if self.progress is None:
            if words != self.last_line:  # one line per change, not one per look
                self.console.print(words)
                self.last_line = words
            return
        if self.writes is None:
            self.writes = self.progress.add_task(words, total=peak, count="")
        self.progress.update(self.writes, description=words, completed=written, total=peak,
                             count=f"{written:,} of {peak:,} done")

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _left(queue: dict[str, Any]) -> dict[str, int]:
    return {k: int(queue.get(k) or 0) for k in ("staged_pending", "pending", "in_flight")}


def _stuck(status: dict[str, Any]) -> str | None:
    """Why the writes cannot go on by themselves, or None."""
    if status.get("paused") or status.get("state") == "paused":
        return "the daemon is paused: they are written after `halosyncctl resume`"
    refused = sorted(name for name, plugin in (status.get("plugins") or {}).items()
                     if "sink" in str(plugin.get("kind")).split(",") and plugin.get("waiting_for") == "reload")
    if refused:
        return (f"{', '.join(refused)} refused the credentials and waits for `halosyncctl reload` after the "
                "configuration is fixed")
    return None


def follow_writes(session: Session, view: _ProgressView | None, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Follow the writes the pull queued until none is left (or they cannot go on); then read fresh totals.
    Returns ``{"left": ..., "stopped": reason or None, "seconds": ..., "totals": ...}``."""
    started, peak, stopped = time.monotonic(), 0, None
    while True:
        left = _left(session.call("queue"))
        drained_at = time.time()
        total_left = sum(left.values())
        peak = max(peak, total_left)
        if session.json:
            events.append({"type": "writes", **left})
        if view is not None:
            view.writes_left(left, peak - total_left, peak)
        if total_left == 0:
            break
        stopped = _stuck(session.call("status"))
        if stopped:
            break
        time.sleep(WRITES_POLL)
    status = session.call("status")
    deadline = time.monotonic() + FRESH_TOTALS_WITHIN
    while (status.get("as_of") or 0) < drained_at and time.monotonic() < deadline:
        time.sleep(WRITES_POLL / 5)  # the snapshot refreshes in the background once it is FRESH seconds old
        status = session.call("status")
    return {"left": left, "stopped": stopped, "seconds": round(time.monotonic() - started, 3),
            "totals": status.get("totals")}


PLAN_ROWS_SHOWN = 10  # per kind, unless --full-plan


def _entry(what: str, entry: dict[str, Any]) -> list[Any]:
    """One planned write on one line: what, where, from which lead; an update names the fields it changes."""
    target = entry.get("sink_id") or (f"new (identity {entry.get('entity_id')})" if what == "creates" else None)
    detail: Any = None
    if what == "updates" and isinstance(entry.get("diff"), dict):
        detail = ", ".join(sorted(entry["diff"]))
    elif what == "reviews":
        detail = entry.get("reason") or entry.get("rule")
    elif what == "creates" and isinstance(entry.get("fields"), dict):
        fields = entry["fields"]
        detail = fields.get("email") or fields.get("name") or fields.get("full_name") or fields.get("domain")
    return [entry.get("kind"), entry.get("sink"), target, f"{entry.get('source')}:{entry.get('source_id')}", detail]


def _plan(session: Session, source: str, plan: dict[str, Any], *, full: bool = False) -> None:
    """The plan's counts, what the totals would gain, and the first few writes of each kind (all with --full-plan,
    every field with --json): a plan of a few thousand leads stays a screenful."""
    counts = plan.get("counts") or {}
    session.console.print(pairs(f"plan for {source} (dry run: nothing written)", counts))
    expected = plan.get("expected")
    if isinstance(expected, dict):
        session.console.print(table("the sync would add to the totals", list(expected), [list(expected.values())]))
    cut = False
    for what in ("creates", "updates", "merges", "reviews"):
        entries = [e for e in plan.get(what) or [] if isinstance(e, dict)]
        if not entries:
            continue
        shown_entries = entries if full else entries[:PLAN_ROWS_SHOWN]
        total = counts.get(what, len(entries))
        title = f"{what} ({total}" + (f", first {len(shown_entries)})" if len(shown_entries) < total else ")")
        cut = cut or len(shown_entries) < total
        session.console.print(table(title, ["kind", "sink", "record", "lead", "detail"],
                                    [_entry(what, e) for e in shown_entries]))
    if cut:
        session.console.print("(more planned: --full-plan lists them, --json gives every field)")


def render(session: Session, result: dict[str, Any]) -> None:
    summary = result.get("summary")
    if summary is None:
        if not session.quiet:  # an acknowledgement only
            what = f"source {result['source']}" if result.get("source") else "every enabled source"
            session.console.print(f"sync started for {what}" + (" (dry run)" if result.get("dry_run") else ""))
        _paused_note(session, result)
        return
    for source in [] if session.quiet else _source_summaries(summary):  # --quiet: the totals (or plans) only
        plan = source.get("plan")
        session.console.print(pairs(f"source {source.get('source')}",
                                    {k: v for k, v in source.items() if k not in ("plan", "source")}))
        if isinstance(plan, dict):
            _plan(session, str(source.get("source")), plan, full=bool(getattr(session.args, "full_plan", False)))
    if session.quiet:
        for source in _source_summaries(summary):
            if isinstance(source.get("plan"), dict):
                session.console.print(pairs(f"plan for {source.get('source')}", source["plan"].get("counts") or {}))
    totals = summary.get("totals")
    if isinstance(totals, dict):
        session.console.print(table("totals", list(totals), [list(totals.values())]))
    writes = result.get("writes")
    if isinstance(writes, dict) and not writes.get("stopped") and not session.quiet:
        session.console.print(f"every write done {writes.get('seconds', 0):.1f} s after the pull ended")
    _paused_note(session, result)


def _paused_note(session: Session, result: dict[str, Any]) -> None:
    if result.get("paused") and not result.get("dry_run"):
        session.console.print("the daemon is paused: this sync pulls and stages leads, but nothing is written to "
                              "the sinks until `halosyncctl resume`")


def _source_summaries(summary: Any) -> list[dict[str, Any]]:
    sources = summary.get("sources") if isinstance(summary, dict) else None
    return [s for s in sources if isinstance(s, dict)] if isinstance(sources, list) else []


def handle(session: Session) -> int:
    args = session.args
    params = {"source": args.source, "full": args.full, "dry_run": args.dry_run, "wait": args.wait,
              "follow": args.follow}
    events: list[dict[str, Any]] = []
    view = _ProgressView(session) if args.follow and not session.json else None

    def on_event(event: dict[str, Any]) -> None:
        if session.json:
            events.append(event)
        if view is not None:
            view(event)

    writes: dict[str, Any] | None = None
    try:
        result = session.call("sync", params, on_event=on_event, wait_long=args.wait or args.follow)
        if args.follow and not args.dry_run:
            writes = follow_writes(session, view, events)
    finally:
        if view is not None:
            view.stop()
    if writes is not None:
        summary = result.get("summary")
        if isinstance(summary, dict) and isinstance(writes.get("totals"), dict):
            summary["totals"] = writes["totals"]  # after the writes, not when the pull ended
        result["writes"] = {k: v for k, v in writes.items() if k != "totals"}
    if session.json:
        session.print_json({**result, "events": events} if args.follow else result)
    else:
        render(session, result)
    failed = [s for s in _source_summaries(result.get("summary")) if s.get("ok") is False]
    if writes is not None and writes["stopped"]:
        left = writes["left"]
        print(f"halosyncctl: {left['staged_pending'] + left['pending'] + left['in_flight']:,} write(s) are still "
              f"waiting: {writes['stopped']}", file=sys.stderr)
        return EX_PROBLEMS
    return EX_PROBLEMS if failed else 0
