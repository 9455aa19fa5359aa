"""The blocking facade: offline by default, usable from plain cells, safe from its own loop."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest

from realtime_nb import audio
from realtime_nb.errors import UsageError
from realtime_nb.sync import Session, wants_offline
from realtime_nb.synth import utterance


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_offline_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    assert wants_offline(None, None, None)
    assert not wants_offline("ws://x", None, None)
    assert not wants_offline(None, "sk-x", None)
    assert not wants_offline(None, None, "https://r.openai.azure.com")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert not wants_offline(None, None, None)


def test_offline_session_talks_to_the_stand_in() -> None:
    with Session(server_options={"audio_speed": float("inf")}) as s:
        assert s.offline and s.server is not None
        assert "offline stand-in" in repr(s)
        r = s.ask("hello there")
        assert r.status == "completed" and len(r.audio) > 0
        mark = s.events.last_seq
        s.send_audio(utterance(1.0, seed=3), audio.SAMPLE_RATE)
        done = s.wait_for("response.done", timeout=20, after=mark)
        assert done["response"]["status"] == "completed"
        port = s.server.port
    assert s.server is None and not s.connected
    # closing the session stopped the stand-in it started: its port refuses connections
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    # the log survives the close
    assert any(r.type == "local.closed" for r in s.events.rows)


def test_blocking_call_from_a_callback_raises_instead_of_deadlocking() -> None:
    with Session(server_options={"audio_speed": float("inf")}) as s:
        errors: list[BaseException] = []
        done = threading.Event()

        def on_created(event: dict) -> None:
            try:
                s.send_text("nested")  # runs on the session loop: would deadlock
            except UsageError as exc:
                errors.append(exc)
            finally:
                done.set()

        s.on("response.created", on_created)
        s.ask("hi")
        assert done.wait(5)
        assert errors and "deadlock" in str(errors[0])


def test_feed_audio_from_other_threads_keeps_order() -> None:
    with Session(
        server_options={"audio_speed": float("inf")},
        session={"audio": {"input": {"turn_detection": None}}},
    ) as s:
        frames = [np.full(960, i, np.int16).tobytes() for i in range(50)]
        t = threading.Thread(target=lambda: [s.feed_audio(f) for f in frames])
        t.start()
        t.join()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            appends = [r for r in s.events.rows if r.type == "input_audio_buffer.append"]
            if len(appends) == 50:
                break
            time.sleep(0.02)
        assert len(appends) == 50
        item = s.commit()
        received = [
            p
            for _, p in s.server.received
            if isinstance(p, dict) and p.get("type") == "input_audio_buffer.append"
        ]
        values = [int(np.frombuffer(audio.b64decode_audio(p["audio"]), "<i2")[0]) for p in received]
        assert values == list(range(50))
        assert item.startswith("item_")


async def test_awaitable_twin_from_another_loop() -> None:
    s = Session(server_options={"audio_speed": float("inf")})
    try:
        r = await s.aask("hi from top-level await")
        assert r.status == "completed"
    finally:
        s.close()


def test_server_options_need_offline() -> None:
    with pytest.raises(UsageError, match="offline"):
        Session("ws://127.0.0.1:1/v1/realtime", server_options={"x": 1}, connect=False)


def test_interrupt_cancels_and_truncates_at_the_samples_played() -> None:
    # push-to-talk: the server does not interrupt by itself, so interrupt() must cancel too
    push_to_talk = {"audio": {"input": {"turn_detection": None}}}
    with Session(server_options={"audio_speed": 1.0}, session=push_to_talk) as s:
        s.send_text("repeat after me: " + "one two three four five six seven eight nine ten " * 3)
        mark = s.events.last_seq
        rid = s.create_response()
        item_id = s.wait_for("response.output_audio.delta", after=mark, timeout=10)["item_id"]
        deadline = time.monotonic() + 10
        while s.conversation.audio_played_limit_ms(item_id) < 400 and time.monotonic() < deadline:
            time.sleep(0.05)  # the player has played 300 ms only once 300 ms have arrived
        end_ms = s.interrupt(item_id, played_samples=24 * 300 + 23)  # floor to whole ms
        assert end_ms == 300
        done = s.wait_for("response.done", after=mark, timeout=10)["response"]
        assert done["id"] == rid and done["status"] == "cancelled"
        assert done["status_details"]["reason"] == "client_cancelled"
        assert s.conversation.item(item_id).truncated_at_ms == 300
        assert [r.type for r in s.events.since(mark)].count("conversation.item.truncated") == 1
        # an item with no audio received has nothing to truncate
        user_item = s.conversation.items[0].id
        assert s.interrupt(user_item, played_samples=24_000) is None
        with pytest.raises(UsageError):
            s.interrupt(item_id, played_samples=-1)
