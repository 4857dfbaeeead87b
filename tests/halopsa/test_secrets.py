"""Neither the client secret nor a token ever reaches a log line or an error message."""

from __future__ import annotations

import pytest
from loguru import logger

from halosync.errors import AuthError
from halosync_halopsa.fake import FakeHalo
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings
from tests.halopsa.leads import company_ops, sample_leads


async def test_secrets_and_tokens_stay_out_of_logs_and_messages(fake: FakeHalo, halo_url: str) -> None:
    lines: list[str] = []
    handler = logger.add(lines.append, level="DEBUG", format="{message}")
    messages: list[str] = []
    try:
        sink = HaloSink(halo_settings(halo_url, client_secret="fake-secret"))
        fake.inject("429", method="POST")
        fake.inject("500", method="GET")
        await sink.start()
        fake.expire_tokens()
        results = await sink.write(company_ops(sample_leads(3, 1)))
        assert all(r.ok for r in results)
        messages += [c.message + c.hint for c in await sink.checks()]
        await sink.aclose()

        fake.settings.client_secret = "another-secret"  # rotated in HaloPSA, not in halosync
        stale = HaloSink(halo_settings(halo_url, client_secret="fake-secret"))
        with pytest.raises(AuthError) as caught:
            await stale.start()
        messages.append(str(caught.value))
        await stale.aclose()
    finally:
        logger.remove(handler)
    assert any("429" in line for line in lines), "the retry was not logged: the test proves nothing"
    text = "\n".join(lines + messages)
    assert "fake-secret" not in text and "another-secret" not in text
    assert fake.tokens and not any(token in text for token in fake.tokens)
