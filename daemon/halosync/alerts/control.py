"""The alerts' control methods, for ``halosyncctl alerts`` and ``halosyncctl silence``:

    alerts.list        firing and pending alerts (with the silence that mutes each), active silences, receivers
    alerts.silence     {"rule": NAME} and/or {"matchers": {LABEL: VALUE}}, "duration": "2h" → the silence
    alerts.unsilence   {"id": ID} → the silence removed
    alerts.test        {"receiver": NAME} → one test notification sent now: {"receiver", "ok", "error"}

The functions taking an ``AlertService`` are the API itself; ``register`` puts them on the control socket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from halosync.alerts.dispatch import failure, health_key
from halosync.alerts.silences import SilenceError, SilenceNotFound, parse_duration
from halosync.contracts import Alert
from halosync.control.protocol import ControlFailure
from halosync.control.registry import Call, ControlMethod
from halosync.daemon.api import MethodRegistration
from halosync.errors import HalosyncError

if TYPE_CHECKING:
    from halosync.alerts.service import AlertService


def list_alerts(service: AlertService) -> dict[str, Any]:
    now = service.clock.now()
    alerts = []
    for item in service.evaluator.describe():
        probe = Alert(item["rule"], item["severity"] or "info", "firing", "", labels=item["labels"])
        silence = service.silences.silencing(probe, now)
        alerts.append({**item, "silenced_by": silence.id if silence else None})
    receivers = {}
    for name in service.dispatcher.alerters:
        health = service.daemon.plugin_health.get(health_key(name))
        receivers[name] = {"state": health.state if health else "unknown",
                           "last_error": health.last_error if health else None}
    return {"alerts": alerts, "silences": [s.to_dict() for s in service.silences.active(now)],
            "receivers": receivers, "rules": [r.name for r in service.rules]}


def silence(service: AlertService, *, rule: str | None = None, matchers: dict[str, str] | None = None,
            duration: str | float, created_by: str = "", comment: str = "") -> dict[str, Any]:
    wanted = dict(matchers or {})
    if rule:
        known = {r.name for r in service.rules}
        if rule not in known and not any(ch in rule for ch in "*?["):
            raise SilenceError(f"no alert rule {rule!r}; rules are {', '.join(sorted(known))}")
        wanted["rule"] = rule
    seconds = parse_duration(duration)
    return service.silences.add(wanted, seconds, service.clock.now(), created_by=created_by,
                                comment=comment).to_dict()


def unsilence(service: AlertService, silence_id: str) -> dict[str, Any]:
    return service.silences.remove(silence_id).to_dict()


class UnknownReceiver(HalosyncError):
    pass


async def test_receiver(service: AlertService, name: str) -> dict[str, Any]:
    """Send one info-level test notification to ``name`` now (once, no retries) and say how it went; the result
    is recorded in the receiver's health like any delivery. A HaloPSA receiver opens a ticket for it."""
    alerter = service.dispatcher.alerters.get(name)
    if alerter is None:
        raise UnknownReceiver(f"no alert receiver {name!r}; receivers are {', '.join(service.dispatcher.alerters)}")
    now = service.clock.now()
    alert = Alert("test", "info", "firing", f"test notification to receiver {name}: nothing is wrong", None,
                  {"receiver": name}, started_at=now)
    try:
        with trio.fail_after(service.dispatcher.settings.timeout):
            await alerter.send([alert])
    except Exception as exc:  # the operator asked how the receiver fares: a failure is the answer, not a crash
        reason = failure(exc)
        service.daemon.record_error(health_key(name), f"test delivery failed: {reason}")
        return {"receiver": name, "ok": False, "error": reason}
    service.daemon.record_success(health_key(name))
    return {"receiver": name, "ok": True, "error": None}


def register(daemon: MethodRegistration[ControlMethod], service: AlertService) -> None:
    async def list_method(call: Call) -> dict[str, Any]:
        return list_alerts(service)

    async def silence_method(call: Call) -> dict[str, Any]:
        matchers = call.params.get("matchers") or {}
        if not isinstance(matchers, dict) or not all(isinstance(v, str) for v in matchers.values()):
            raise ControlFailure("invalid_params", "alerts.silence: matchers must be an object of label: value")
        duration = call.params.get("duration")
        if not isinstance(duration, str | int | float) or isinstance(duration, bool):
            raise ControlFailure("invalid_params", "alerts.silence: duration is required (seconds, or 30m, 2h, 1d)")
        try:
            return silence(service, rule=call.str_param("rule"), matchers=matchers, duration=duration,
                           created_by=str(call.peer), comment=call.str_param("comment", "") or "")
        except SilenceError as exc:
            raise ControlFailure("invalid_params", f"alerts.silence: {exc}") from exc

    async def unsilence_method(call: Call) -> dict[str, Any]:
        silence_id = call.str_param("id", required=True)
        assert silence_id is not None
        try:
            return unsilence(service, silence_id)
        except SilenceNotFound as exc:
            raise ControlFailure("not_found", str(exc)) from exc

    async def test_method(call: Call) -> dict[str, Any]:
        name = call.str_param("receiver", required=True)
        assert name is not None
        try:
            return await test_receiver(service, name)
        except UnknownReceiver as exc:
            raise ControlFailure("not_found", str(exc)) from exc

    for method in (
        ControlMethod("alerts.list", list_method, help="firing and pending alerts, silences and receivers"),
        ControlMethod("alerts.test", test_method, mutating=True,
                      help="send a test notification to one receiver now and report how it went"),
        ControlMethod("alerts.silence", silence_method, mutating=True,
                      help="mute notifications of a rule or of matching alerts until the duration ends"),
        ControlMethod("alerts.unsilence", unsilence_method, mutating=True, help="remove a silence by its id"),
    ):
        daemon.add_control_method(method)


def register_switched_off(daemon: MethodRegistration[ControlMethod]) -> None:
    """With ``[alerts] enabled = false`` the methods still answer, saying why there is nothing to show."""

    async def switched_off(call: Call) -> dict[str, Any]:
        raise ControlFailure("unavailable", f"{call.method}: alerts are switched off in this daemon "
                                            "([alerts] enabled = false)")

    for name in ("alerts.list", "alerts.silence", "alerts.unsilence", "alerts.test"):
        daemon.add_control_method(ControlMethod(name, switched_off, help="alerts are switched off"))
