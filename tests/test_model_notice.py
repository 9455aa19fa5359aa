"""A session on a model with an announced shutdown says so: a warning and a log row."""

from __future__ import annotations

import math

import pytest

from realtime_nb.server import LocalServer
from realtime_nb.session import RealtimeSession


async def test_a_model_with_a_shutdown_date_warns_once_and_logs_a_row() -> None:
    from realtime_nb.errors import ModelShutdownWarning

    async with LocalServer(audio_speed=math.inf) as srv:
        with pytest.warns(ModelShutdownWarning, match="gpt-realtime' shuts down on 2027-01-20"):
            s = await RealtimeSession(srv.url, model="gpt-realtime").connect()
        rows = s.events.filter(type="local.model_notice")
        assert len(rows) == 1 and "gpt-realtime-2" in rows[0].payload["notice"]
        await s.close()
        s2 = await RealtimeSession(srv.url, model="gpt-realtime-2").connect()
        assert not s2.events.filter(type="local.model_notice")
        await s2.close()
