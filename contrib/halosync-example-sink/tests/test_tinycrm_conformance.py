"""The TinyCRM sink against halosync's conformance kit: ``pip install -e '.[test]' && pytest``."""

from __future__ import annotations

import pytest
from halosync_example_sink.kit import TinyCRMKitFake

from halosync.testing import SinkConformance


@pytest.fixture
def halosync_sink_fake() -> TinyCRMKitFake:
    return TinyCRMKitFake()


class TestTinyCRMConformance(SinkConformance):
    pass
