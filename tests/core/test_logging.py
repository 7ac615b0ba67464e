"""Log lines are JSON and carry the trace id of the request that wrote them."""

import json
import logging

import pytest

from app.core.logging import JsonFormatter


async def test_access_log_line_carries_the_requests_trace_id(
    client, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="app.access")

    await client.get("/api/users/me", headers={"X-Request-ID": "log-trace-000001",
                                               "Authorization": "Bearer secret-token-value"})

    [record] = [r for r in caplog.records if r.name == "app.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["traceId"] == "log-trace-000001"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/users/me", 401)
    assert "secret-token-value" not in caplog.text
