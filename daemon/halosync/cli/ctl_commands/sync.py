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


PLAN_ROWS_SHOWN = 50


def _plan(session: Session, source: str, plan: dict[str, Any]) -> None:
    counts = plan.get("counts") or {}
    session.console.print(pairs(f"plan for {source} (dry run: nothing written)", counts))
    for what in ("creates", "updates", "merges", "reviews"):
        entries = [e for e in plan.get(what) or [] if isinstance(e, dict)]
        if entries:
            columns = list(dict.fromkeys(k for e in entries[:PLAN_ROWS_SHOWN] for k in e))
            session.console.print(table(f"{what} ({counts.get(what, len(entries))})", columns,
                                        [[e.get(c) for c in columns] for e in entries[:PLAN_ROWS_SHOWN]]))


def render(session: Session, result: dict[str, Any]) -> None:
    summary = result.get("summary")
    if summary is None:
        what = f"source {result['source']}" if result.get("source") else "every enabled source"
        session.console.print(f"sync started for {what}" + (" (dry run)" if result.get("dry_run") else ""))
        return
    for source in _source_summaries(summary):
        plan = source.get("plan")
        session.console.print(pairs(f"source {source.get('source')}",
                                    {k: v for k, v in source.items() if k not in ("plan", "source")}))
        if isinstance(plan, dict):
            _plan(session, str(source.get("source")), plan)
    totals = summary.get("totals")
    if isinstance(totals, dict):
        session.console.print(table("totals", list(totals), [list(totals.values())]))


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
