"""A faithful fake of Apollo.io's REST API, for tests, ``halosync demo`` and benchmarks (real sockets).

In process::

    fake = FakeApollo(api_keys=["test-key"], default_limits=UNLIMITED)
    fake.generate(GeneratorSpec(count=1000, seed=1))
    url = await nursery.start(serve, fake)      # halosync.provider.asgi.serve

Out of process: ``python -m halosync_apollo.fake --port 0 --contacts N --seed S`` prints its base URL on stdout.
"""

from __future__ import annotations

from halosync_apollo.fake.app import FakeApollo
from halosync_apollo.fake.generator import GeneratedContacts, GeneratorSpec, generate_contacts
from halosync_apollo.fake.limits import DEFAULT_LIMITS, PLANS, UNLIMITED, Limits
from halosync_apollo.fake.state import Churn, Fault, KeyGrant, LoggedRequest

__all__ = [
    "DEFAULT_LIMITS", "PLANS", "UNLIMITED", "Churn", "FakeApollo", "Fault", "GeneratedContacts", "GeneratorSpec",
    "KeyGrant", "Limits", "LoggedRequest", "generate_contacts",
]
