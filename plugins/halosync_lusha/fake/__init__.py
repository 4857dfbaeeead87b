"""A faithful, hostile fake of Lusha's API (contact lists, quotas per plan, signed webhooks) over real sockets.

In process::

    fake = FakeLusha(seed=1)
    fake.add_key("test-key", "premium")
    fake.create_list("L1", 250)
    url = await nursery.start(serve, fake)      # halosync.plugin.serve

Out of process: ``python -m halosync_lusha.fake --port 0 --members N --plan premium`` prints its base URL.
What is taken from Lusha's documentation and what is assumed is listed in ``app.py`` and ``webhooks.py``.
"""

from __future__ import annotations

from halosync_lusha.fake.app import PLANS, FakeLusha, Fault, Logged
from halosync_lusha.fake.generator import make_contacts
from halosync_lusha.fake.webhooks import opt_out_event, send_webhook, signed_headers

__all__ = ["PLANS", "FakeLusha", "Fault", "Logged", "make_contacts", "opt_out_event", "send_webhook",
           "signed_headers"]
