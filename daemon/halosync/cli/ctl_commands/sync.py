"""``halosyncctl sync [--source NAME] [--full] [--dry-run] [--wait|--follow]``: start a sync now."""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from halosync.cli.ctl_commands import Session, add_command, pairs, shown, table


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
    """A progress bar when stdout is a terminal, one line per event otherwise."""

    def __init__(self, session: Session) -> None:
        self.console = session.console
        self.progress: Progress | None = None
        self.task: Any = None
        if self.console.is_terminal:
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                     TextColumn("{task.completed:,.0f} leads"), TimeElapsedColumn(),
                                     console=self.console, transient=False)
            self.task = self.progress.add_task("starting", total=None)
            self.progress.start()

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("type") == "done":
            return  # the summary that follows says it all
        numbers = _numbers(event)
        words = " ".join(f"{k}={shown(v)}" for k, v in numbers.items())
        label = str(event.get("source") or event.get("stage") or event.get("type") or "sync")
        if self.progress is None:
            self.console.print(f"{event.get('type', 'event')}: {label} {words}".rstrip())
            return
        done = sum(numbers.get(k, 0) for k in ("staged", "unchanged", "rejected"))
        self.progress.update(self.task, description=f"{label} {words}", completed=done, total=numbers.get("total"))

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


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
        what = f"source {result['source']}" if result.get("source") else "every enabled source"
        session.console.print(f"sync started for {what}" + (" (dry run)" if result.get("dry_run") else ""))
        _paused_note(session, result)
        return
    for source in _source_summaries(summary):
        plan = source.get("plan")
        session.console.print(pairs(f"source {source.get('source')}",
                                    {k: v for k, v in source.items() if k not in ("plan", "source")}))
        if isinstance(plan, dict):
            _plan(session, str(source.get("source")), plan, full=bool(getattr(session.args, "full_plan", False)))
    totals = summary.get("totals")
    if isinstance(totals, dict):
        session.console.print(table("totals", list(totals), [list(totals.values())]))
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

    try:
        result = session.call("sync", params, on_event=on_event, wait_long=args.wait or args.follow)
    finally:
        if view is not None:
            view.stop()
    if session.json:
        session.print_json({**result, "events": events} if args.follow else result)
    else:
        render(session, result)
    failed = [s for s in _source_summaries(result.get("summary")) if s.get("ok") is False]
    return 1 if failed else 0
