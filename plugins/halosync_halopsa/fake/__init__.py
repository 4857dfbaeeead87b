"""A faithful fake HaloPSA, for tests, ``halosync demo`` and benchmarks (over real sockets).

In process::

    halo = FakeHalo(FakeSettings(rate_limit=300, rate_window=300))
    url = await nursery.start(serve_fake, halo)

Out of process: ``python -m halosync_halopsa.fake --port 0`` prints its base URL on stdout.
"""

from __future__ import annotations

from halosync_halopsa.fake.app import make_app, seed, serve_fake
from halosync_halopsa.fake.state import FakeHalo, FakeSettings, LoggedRequest

__all__ = ["FakeHalo", "FakeSettings", "LoggedRequest", "make_app", "seed", "serve_fake"]
