"""``queries``: the store's statements by total time since the daemon started (halosync.store.querystats)."""

from __future__ import annotations

from typing import Any

from halosync.control.protocol import ControlFailure
from halosync.control.registry import Call, ControlMethod

ORDERS = ("total", "mean", "max", "count")


async def queries(call: Call) -> dict[str, Any]:
    top = call.int_param("top", 20, minimum=1, maximum=1000) or 20
    order = call.str_param("order", "total") or "total"
    if order not in ORDERS:
        raise ControlFailure("invalid_params", f"queries: order must be one of {', '.join(ORDERS)}, not {order!r}")
    store = call.daemon.store
    stats = store.query_stats
    answer = {"database": "sqlite" if store.sqlite else "postgresql", "order": order, **stats.summary(),
              "top": stats.top(top, order)}
    if call.bool_param("reset"):  # after the answer: what was counted so far is shown once more
        stats.reset()
    return answer


QUERY_METHODS = (
    ControlMethod("queries", queries, "the store's statements by total time since start (params: top, order, "
                  "reset)", mutating=lambda params: bool(params.get("reset"))),
)
