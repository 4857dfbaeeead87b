"""``halosyncctl silence [RULE] [--match LABEL=VALUE]... --for DURATION`` and ``halosyncctl unsilence ID``.

A silence stops notifications (not evaluation) of the matching alerts until it expires; ``halosyncctl alerts``
lists silences with their ids. Values may be shell-style patterns (``--match provider='halo*'``).
"""

from __future__ import annotations

import sys
from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer, when
from halosync.exitcodes import EX_USAGE


def register(sub: Any) -> None:
    p = add_command(sub, "silence", "mute an alert rule's notifications for a while",
                    "Mute notifications of a rule, or of the alerts whose labels match, until DURATION has passed. "
                    "Example: halosyncctl silence queue_backlog --for 2h --comment 'bulk import'")
    p.add_argument("rule", nargs="?", help="the rule's name (halosyncctl alerts lists them)")
    p.add_argument("--match", metavar="LABEL=VALUE", action="append", default=[],
                   help="a label the alert must carry (provider=halopsa, source=apollo, severity=warning)")
    p.add_argument("--for", dest="duration", metavar="DURATION", required=True,
                   help="how long: seconds, or 30m, 2h, 1d (at most 90d)")
    p.add_argument("--comment", default="", help="why, for whoever reads `halosyncctl alerts` next")
    p.set_defaults(handler=handle_silence)
    u = add_command(sub, "unsilence", "remove a silence before it expires")
    u.add_argument("id", help="the silence's id (halosyncctl alerts lists them)")
    u.set_defaults(handler=handle_unsilence)


def _matchers(pairs: list[str]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for pair in pairs:
        label, sep, value = pair.partition("=")
        if not sep or not label or not value:
            return None
        out[label] = value
    return out


def _render(session: Session, silence: dict[str, Any]) -> None:
    matchers = ", ".join(f"{k}={v}" for k, v in silence.get("matchers", {}).items())
    session.console.print(f"silence {silence.get('id')}: {matchers} until {when(silence.get('expires_at'))}")


def handle_silence(session: Session) -> int:
    args = session.args
    matchers = _matchers(args.match)
    if matchers is None or (not args.rule and not matchers):
        print("halosyncctl: silence: give a rule and/or --match LABEL=VALUE", file=sys.stderr)
        return EX_USAGE
    params: dict[str, Any] = {"matchers": matchers, "duration": args.duration, "comment": args.comment}
    if args.rule:
        params["rule"] = args.rule
    return answer(session, "alerts.silence", params, _render)


def handle_unsilence(session: Session) -> int:
    def render(s: Session, silence: dict[str, Any]) -> None:
        s.console.print(f"silence {silence.get('id')} removed")

    return answer(session, "alerts.unsilence", {"id": session.args.id}, render)
