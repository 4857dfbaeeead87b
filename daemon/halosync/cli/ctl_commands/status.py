"""``halosyncctl status``: state, version, uptime, plugins, queue, counters, last sync per source."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, age, answer, failing_line, pairs, table, when


def register(sub: Any) -> None:
    p = add_command(sub, "status", "state, version, uptime, per-plugin state, queue, counters, last sync per source")
    p.set_defaults(handler=handle)


def render(session: Session, status: dict[str, Any]) -> None:
    out = session.console
    queue, totals = status.get("queue", {}), status.get("totals", {})
    out.print(pairs(None, {"state": status.get("state"), "version": status.get("version"),
                           "uptime": age(status.get("uptime_seconds")), "pid": status.get("pid"),
                           "store": status.get("store"), "config": status.get("config")}))
    out.print()
    out.print(pairs("queue", {"pending": queue.get("pending"), "in flight": queue.get("in_flight"),
                              "dead letters": queue.get("dead"), "oldest": age(queue.get("oldest_age_seconds")),
                              "per minute": queue.get("rate_per_minute"),
                              **failing_line(queue.get("failing"))}))
    out.print()
    out.print(table("totals", list(totals), [list(totals.values())]))
    out.print()
    plugins = status.get("plugins", {})
    out.print(table("plugins", ["name", "kind", "state", "last success", "failing now", "failed before", "next try"],
                    [[n, p.get("kind"), p.get("state"), when(p.get("last_success_at")), *_errors(p), _next_try(p)]
                     for n, p in sorted(plugins.items())]))
    sources = status.get("sources", {})
    if sources:
        out.print()
        out.print(table("sources", ["source", "last sync", "last success", "cursor age", "running", "last error"],
                        [[n, when(s.get("last_sync_at")), when(s.get("last_success_at")),
                          age(s.get("cursor_age_seconds")), s.get("running"), s.get("last_error")]
                         for n, s in sorted(sources.items())]))
    _retention(out, status.get("retention"))
    _render_ha(session, status.get("ha"))


def _retention(out: Any, retention: dict[str, Any] | None) -> None:
    """Issue 16: what the last pruning pass removed, and when the next one runs."""
    if not retention:
        return
    pruned = retention.get("pruned") or {}
    out.print()
    out.print(pairs("retention", {"last pass": when(retention.get("last_run_at")),
                                  "pruned": ", ".join(f"{k} {v}" for k, v in pruned.items()) or
                                  ("failed: see the log" if not retention.get("ok") else "-"),
                                  "since start": ", ".join(f"{k} {v}" for k, v in
                                                           (retention.get("total") or {}).items()),
                                  "next pass": when(retention.get("next_run_at"))}))


def _errors(plugin: dict[str, Any]) -> tuple[Any, Any]:
    """(the error it fails with now, the last error it has since recovered from, with when): one of the two."""
    error = plugin.get("last_error")
    if not error:
        return None, None
    failing = plugin.get("failing")
    if failing is None:  # a daemon too old to say: as before
        return error, None
    return (error, None) if failing else (None, f"{when(plugin.get('last_error_at'))}: {error}")



def _render_ha(session: Session, ha: dict[str, Any] | None) -> None:
    """Issue 18: what this daemon does among those sharing the store, who else runs, who polls what."""
    if not ha:
        return
    out = session.console
    role = f"poller of {', '.join(ha['polls'])}" if ha.get("polls") else "standby (polls nothing)"
    out.print()
    out.print(pairs("high availability", {
        "store": "shared (PostgreSQL)" if ha.get("mode") == "shared" else "single daemon (SQLite)",
        "this daemon": f"{ha.get('id')} ({role})", "daemons": ha.get("daemons"),
        "lease": f"{ha['lease_seconds']:g} s" if ha.get("lease_seconds") else "none needed",
        "leadership changes": ha.get("leadership_changes"), "last error": ha.get("last_error")}))
    leases = ha.get("leases") or {}
    if leases:
        out.print(table("pollers", ["source", "holder", "host", "pid", "expires in"],
                        [[n, lease.get("holder") or "(none: a standby takes it)", lease.get("holder_host"),
                          lease.get("holder_pid"), age(lease.get("expires_in_seconds"))]
                         for n, lease in sorted(leases.items())]))
    others = ha.get("others") or []
    if others:
        out.print(table("other daemons", ["host", "pid", "polls", "last heartbeat", "state"],
                        [[o.get("host"), o.get("pid"), ", ".join(o.get("polls") or []) or "-",
                          when(o.get("last_heartbeat_at")), o.get("state")] for o in others]))


def _next_try(plugin: dict[str, Any]) -> str:
    """When a failing plugin is tried again: after a reload (401/403), at a quota's reset, or after a backoff."""
    waiting = plugin.get("waiting_for")
    if waiting == "reload":
        return "after `halosyncctl reload`"
    if waiting and plugin.get("retry_at"):
        return f"{when(plugin['retry_at'])} ({waiting})"
    return ""


def handle(session: Session) -> int:
    return answer(session, "status", {}, render)
