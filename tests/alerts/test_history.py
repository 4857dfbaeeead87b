"""The sampled history stays small over a day, and percentiles read from buckets as Prometheus reads them."""

from __future__ import annotations

import math

import pytest

from halosync.alerts.conditions import quantile
from halosync.alerts.readings import History, Snapshot


def test_a_day_of_samples_every_15_seconds_stays_a_few_hundred() -> None:
    history = History(keep=86400 + 900, dense=930)
    for i in range(2 * 86400 // 15):
        history.add(Snapshot(at=15.0 * i, totals={"merged": i}))
    latest = history.latest
    assert latest is not None and latest.at == 15.0 * (2 * 86400 // 15 - 1)
    assert len(history) < 400
    # Every sample of the dense part is kept: a 15-minute window starts exactly where it should.
    then = history.at_or_before(latest.at - 900)
    assert then is not None and then.at == latest.at - 900
    # The baseline a day back is found within one coarse step.
    start = history.at_or_before(latest.at - 900 - 86400)
    assert start is not None and latest.at - 900 - 86400 - start.at < 300


def test_quantile_interpolates_within_the_bucket_like_histogram_quantile() -> None:
    # 100 observations: 90 at or under 1 s, 10 between 5 and 10 s.
    buckets = [(1.0, 90.0), (5.0, 90.0), (10.0, 100.0), (math.inf, 100.0)]
    assert quantile(0.95, buckets) == pytest.approx(7.5)
    assert quantile(0.5, buckets) == pytest.approx(0.5 / 0.9)
    assert quantile(0.95, [(1.0, 0.0), (math.inf, 10.0)]) == 1.0  # above the top bound: the top bound
