"""``AlertsComponent``: the alert service (``service.py``) as a daemon component, its control methods on the
socket (``control.py``), and its receivers closed at exit."""

from __future__ import annotations

from typing import Any

import trio
from loguru import logger

from halosync.alerts.control import register, register_switched_off
from halosync.alerts.service import AlertPorts, AlertService, build_alerters, close_alerters


class AlertsComponent:
    name = "alerts"

    def __init__(self) -> None:
        self.service: AlertService | None = None

    async def run(self, daemon: AlertPorts, *, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        if not daemon.config.get("alerts.enabled", True):
            logger.info("alerts are switched off ([alerts] enabled = false)")
            register_switched_off(daemon)
            task_status.started()
            return
        service = self.service = AlertService(daemon, build_alerters(daemon))
        daemon.add_reload_hook(service.reload)
        register(daemon, service)
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(service.deliver)
                task_status.started()
                logger.info("alerts: {} rule(s), receivers {}", len(service.rules),
                            ", ".join(service.dispatcher.alerters))
                await service.run()
        finally:
            await close_alerters(service.dispatcher.alerters.values())
