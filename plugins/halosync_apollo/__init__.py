"""halosync's Apollo.io source plugin: incremental contact pulls within Apollo's quotas, plus a faithful fake."""

from __future__ import annotations
