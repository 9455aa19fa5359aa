"""RealtimeSession ⇄ the stand-in over real loopback sockets: every sequence of §5, every error.

Each test starts its own server on port 0. Pacing is off (audio_speed=inf) unless a test needs
a response to still be streaming (barge-in, cancel, dropped socket).
"""

from __future__ import annotations

import asyncio
import json
import math

import numpy as np
import pytest

from realtime_nb import audio
from realtime_nb.errors import (
    ActiveResponseError,
    AudioFormatError,
    AuthenticationError,
    ConnectionClosed,
    ModelNotFoundError,
    ServerError,
    SessionExpired,
    UsageError,
)
from realtime_nb.server import Faults, LocalServer, Reply, scripted
from realtime_nb.session import RealtimeSession
from realtime_nb.synth import utterance
from tests.schema import validate_client_event, validate_server_event

FAST = math.inf
PTT = {"audio": {"input": {"turn_detection": None}}}


def speech(seconds: float = 1.2, seed: int = 0) -> np.ndarray:
    return utterance(speech_s=seconds, lead_silence_s=0.3, tail_silence_s=0.8, seed=seed)


def server_events(session: RealtimeSession) -> list[dict]:
    return [r.payload for r in session.events.rows if r.direction == "server"]


def types(session: RealtimeSession, since: int = 0) -> list[str]:
    return [r.type for r in session.events.since(since) if r.direction == "server"]


async def test_connect_and_configure() -> None:
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url) as s:
        assert s.session_config["id"].startswith("sess_")
        assert s.events.rows[0].type == "local.connecting"
        effective = await s.update_session(
            instructions="Be brief.", audio={"output": {"voice": "marin"}}
        )
        assert effective["instructions"] == "Be brief."
        assert effective["audio"]["output"]["voice"] == "marin"
        # unchanged fields keep their defaults (update semantics: only given fields change)
        assert effective["audio"]["input"]["turn_detection"]["type"] == "server_vad"
        assert s.session_config == effective
        sent = [r for r in s.events.rows if r.direction == "client"]
        assert [r.type for r in sent] == ["session.update"]
        assert sent[0].size > 0


async def test_rejected_update_raises_and_changes_nothing() -> None:
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url) as s:
        before = dict(s.session_config)
        with pytest.raises(ServerError) as info:
            await s.update_session(instructions="x", audio={"output": {"voice": "nova"}})
        assert info.value.code == "invalid_value"
        assert "nova" in str(info.value)
        assert s.session_config == before
        # the error is a row too, blaming the client event id
        error_row = next(r for r in s.events.rows if r.type == "error")
        client_row = next(r for r in s.events.rows if r.type == "session.update")
        assert error_row.payload["error"]["event_id"] == client_row.event_id


async def test_text_turn_with_audio_answer() -> None:
    async with (
        LocalServer(audio_speed=FAST, responder="echo") as srv,
        RealtimeSession(srv.url) as s,
    ):
        r = await s.ask("Say hi in three words")
        assert r.status == "completed"
        assert "Say hi in three words" in r.transcript
        assert r.audio.dtype == np.int16 and len(r.audio) > audio.SAMPLE_RATE // 10
        assert r.usage["total_tokens"] == r.usage["input_tokens"] + r.usage["output_tokens"]
        assert r.timing["created_ms"] <= r.timing["first_audio_ms"] <= r.timing["done_ms"]
        roles = [role for role, _ in s.transcript]
        assert roles == ["user", "assistant"]


async def test_text_only_exchange() -> None:
    async with (
        LocalServer(audio_speed=FAST, responder="echo") as srv,
        RealtimeSession(srv.url) as s,
    ):
        await s.update_session(output_modalities=["text"])
        mark = s.events.last_seq
        r = await s.ask("Say hi in three words")
        assert r.text.startswith("You said")
        assert len(r.audio) == 0
        seq = types(s, mark)
        assert "response.output_text.delta" in seq
        assert not any(t.startswith("response.output_audio") for t in seq)
        assert seq.index("response.done") < seq.index("rate_limits.updated")


async def test_send_audio_paced_like_a_microphone_returns_when_the_last_chunk_is_written() -> None:
    # regression: the last chunk was written while send_audio slept out its pacing, before the
    # "written" future was attached, so a paced send never returned (it timed out)
    async with (
        LocalServer(audio_speed=FAST, responder="echo") as srv,
        RealtimeSession(srv.url, session={"audio": {"input": {"turn_detection": None}}}) as s,
    ):
        clip = speech(0.6)
        loop = asyncio.get_running_loop()
        started = loop.time()
        sent_ms = await s.send_audio(clip, audio.SAMPLE_RATE, realtime=True, timeout=10)
        assert sent_ms == pytest.approx(len(clip) / 24, abs=1)
        assert loop.time() - started >= sent_ms / 1000 - 0.05  # paced: not faster than real time
        committed = await s.commit()
        assert committed and s.conversation.item(committed) is not None


async def test_server_vad_voice_turn() -> None:
    async with (
        LocalServer(audio_speed=FAST, responder="echo") as srv,
        RealtimeSession(srv.url) as s,
    ):
        user = speech(1.2)
        mark = s.events.last_seq
        sent_ms = await s.send_audio(user, audio.SAMPLE_RATE)
        assert sent_ms == pytest.approx(len(user) / 24, abs=1)
        done = await s.wait_for("response.done", timeout=20, after=mark)
        seq = types(s, mark)
        expected = [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.done",
            "response.created",
        ]
        assert [t for t in seq if t in expected][:6] == expected
        stopped = next(
            e for e in server_events(s) if e["type"] == "input_audio_buffer.speech_stopped"
        )
        assert stopped["audio_end_ms"] == pytest.approx(300 + 1200, abs=60)
        committed = next(e for e in server_events(s) if e["type"] == "input_audio_buffer.committed")
        user_item = s.conversation.item(committed["item_id"])
        assert user_item is not None and user_item.role == "user"
        assert len(user_item.audio()) > 0
        r = s.response(done["response"]["id"])
        assert r.status == "completed"
        # the echo responder answers with the user's own speech
        assert len(r.audio) == pytest.approx(1200 * 24, rel=0.35)
        # appends are logged with a marker, never with base64
        appends = [r for r in s.events.rows if r.type == "input_audio_buffer.append"]
        assert sum(r.audio_bytes for r in appends) == len(user) * 2
        assert all(isinstance(r.payload["audio"], dict) for r in appends)


async def test_push_to_talk_turn() -> None:
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url, session=PTT) as s:
        assert s.session_config["audio"]["input"]["turn_detection"] is None
        await s.send_audio(speech(0.8), audio.SAMPLE_RATE)
        mark = s.events.last_seq
        item_id = await s.commit()
        assert item_id.startswith("item_")
        # committing alone never creates a response
        await asyncio.sleep(0.2)
        assert "response.created" not in types(s, mark)
        r = await s.ask(None)
        assert r.status == "completed" and len(r.audio) > 0
        assert "input_audio_buffer.speech_started" not in types(s)


async def test_commit_needs_100_ms() -> None:
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url, session=PTT) as s:
        with pytest.raises(ServerError) as info:
            await s.commit()
        assert info.value.code == "input_audio_buffer_commit_empty"
        await s.send_audio(np.zeros(24 * 50, np.int16), audio.SAMPLE_RATE)  # 50 ms
        with pytest.raises(ServerError, match="100ms"):
            await s.commit()
        await s.send_audio(np.zeros(24 * 60, np.int16), audio.SAMPLE_RATE)  # now 110 ms
        assert (await s.commit()).startswith("item_")
        await s.clear_audio()


async def test_barge_in_with_truncate() -> None:
    long_reply = Reply(text="This answer is long. " * 12)
    async with (
        LocalServer(audio_speed=1.5, responder=scripted([long_reply, "ok"])) as srv,
        RealtimeSession(srv.url) as s,
    ):
        first = await s.create_response()
        await s.wait_for("response.output_audio.delta", timeout=10)
        await asyncio.sleep(0.4)
        mark = s.events.last_seq
        await s.send_audio(speech(0.6), audio.SAMPLE_RATE)
        done = await s.wait_for(
            "response.done", lambda e: e["response"]["id"] == first, timeout=20, after=mark
        )
        assert done["response"]["status"] == "cancelled"
        assert done["response"]["status_details"]["reason"] == "turn_detected"
        item_id = s.conversation.responses[first].output_item_ids[0]
        received_ms = s.conversation.audio_played_limit_ms(item_id)
        assert 0 < received_ms < 60_000
        heard = min(300, received_ms)
        sent = await s.truncate(item_id, heard)
        assert sent == heard
        item = s.conversation.item(item_id)
        assert item.truncated_at_ms == heard
        assert len(item.audio()) == heard * 24
        # truncating past the audio received is clamped, never rejected
        assert await s.truncate(item_id, 10**7) <= received_ms
        with pytest.raises(UsageError):
            await s.truncate(item_id, -5)
        with pytest.raises(UsageError):
            await s.truncate(item_id, 12.5)  # type: ignore[arg-type]


async def test_barge_in_without_auto_interrupt_needs_cancel() -> None:
    vad = {"type": "server_vad", "interrupt_response": False, "create_response": False}
    config = {"audio": {"input": {"turn_detection": vad}}}
    async with (
        LocalServer(audio_speed=1.5, responder=scripted([Reply(text="long " * 60)])) as srv,
        RealtimeSession(srv.url, session=config) as s,
    ):
        rid = await s.create_response()
        await s.wait_for("response.output_audio.delta", timeout=10)
        await s.send_audio(speech(0.5), audio.SAMPLE_RATE)
        await s.wait_for("input_audio_buffer.speech_started", timeout=10)
        assert s.conversation.active_response_id == rid
        final = await s.cancel_response()
        assert final["status"] == "cancelled"
        assert final["status_details"]["reason"] == "client_cancelled"
        # a second cancel has nothing to cancel: benign, returns None
        assert await s.cancel_response() is None


async def test_function_call_round_trip() -> None:
    call = Reply(function_calls=[("get_weather", '{"city": "Paris"}')])
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    async with (
        LocalServer(
            audio_speed=FAST, responder=scripted([call, "It is 21 degrees in Paris."])
        ) as srv,
        RealtimeSession(srv.url, session={"tools": tools}) as s,
    ):
        r1 = await s.ask("What is the weather in Paris?")
        assert r1.function_calls and r1.function_calls[0]["name"] == "get_weather"
        assert json.loads(r1.function_calls[0]["arguments"]) == {"city": "Paris"}
        call_id = r1.function_calls[0]["call_id"]
        assert call_id.startswith("call_") and len(call_id) == 21
        await s.send_function_output(call_id, {"temp_c": 21})
        r2 = await s.ask(None)
        assert "21 degrees" in r2.transcript
        kinds = [i.type for i in s.conversation.items]
        assert kinds == ["message", "function_call", "function_call_output", "message"]


async def test_one_active_response_rule() -> None:
    async with (
        LocalServer(audio_speed=1.0, responder=scripted([Reply(text="slow " * 40)])) as srv,
        RealtimeSession(srv.url) as s,
    ):
        await s.create_response()
        with pytest.raises(ActiveResponseError, match="in progress"):
            await s.create_response()
        await s.cancel_response()


async def test_bad_key_model_and_beta_header() -> None:
    async with LocalServer(api_key="sk-right", audio_speed=FAST) as srv:
        with pytest.raises(AuthenticationError, match="API key") as info:
            await RealtimeSession(srv.url, api_key="sk-wrong").connect()
        assert info.value.code == "invalid_api_key"
        s = RealtimeSession(srv.url, api_key="sk-right", model="gpt-nope")
        with pytest.raises(ModelNotFoundError):
            await s.connect()
        assert s.close_code == 4000
        assert [r.type for r in s.events.rows][-2:] == ["error", "local.closed"]
        beta = RealtimeSession(srv.url, api_key="sk-right", beta=True)
        with pytest.raises(ModelNotFoundError, match="beta"):
            await beta.connect()
        s2 = RealtimeSession(srv.url, api_key="sk-wrong")
        with pytest.raises(AuthenticationError):
            await s2.connect()
        assert s2.close_code == 3000


async def test_beta_protocol_is_normalised() -> None:
    async with (
        LocalServer(audio_speed=FAST, protocol="beta") as srv,
        RealtimeSession(srv.url, beta=True) as s,
    ):
        r = await s.ask("hello")
        assert r.status == "completed" and len(r.audio) > 0 and r.transcript
        rows = [r for r in s.events.rows if r.direction == "server"]
        deltas = [r for r in rows if r.type == "response.output_audio.delta"]
        assert deltas and all(r.payload["_beta_type"] == "response.audio.delta" for r in deltas)
        assert "conversation.item.created" in [r.type for r in rows]
        sent = [p for _, p in srv.received if isinstance(p, dict)]
        update = [p for p in sent if p.get("type") == "session.update"]
        assert update == [] or "audio" not in update[0]["session"]


async def test_dropped_socket_mid_response_keeps_the_log() -> None:
    faults = Faults(drop_after_events=12)
    async with (
        LocalServer(audio_speed=2.0, faults=faults) as srv,
        RealtimeSession(srv.url) as s,
    ):
        with pytest.raises(ConnectionClosed, match=r"dropped|closed") as info:
            await s.ask("tell me a long story " * 5)
        assert not isinstance(info.value, SessionExpired)
        assert s.events.rows[-1].type == "local.closed"
        assert len([r for r in s.events.rows if r.direction == "server"]) == 12
        with pytest.raises(ConnectionClosed):
            await s.send_text("anyone?")
        # the microphone path never raises: it counts what could not be sent
        assert s.append_audio_nowait(b"\x00\x00" * 960) is False
        assert s.dropped_audio_frames == 1
        # one row starts a run of drops; its totals come in one row when the run ends
        assert s.append_audio_nowait(b"\x00\x00" * 960) is False
        assert s.dropped_audio_frames == 2
        assert [r.type for r in s.events.rows[-2:]] == ["local.closed", "local.dropping_audio"]


async def test_malformed_frame_becomes_a_row_and_the_session_goes_on() -> None:
    async with (
        LocalServer(audio_speed=FAST, faults=Faults(malformed_after_events=1)) as srv,
        RealtimeSession(srv.url) as s,
    ):
        await asyncio.sleep(0.1)
        r = await s.ask("still there?")
        assert r.status == "completed"
        bad = [r for r in s.events.rows if r.type == "local.malformed_frame"]
        assert len(bad) == 1 and "JSON" in bad[0].payload["error"]


def test_handle_event_rejects_garbage_without_raising() -> None:
    s = RealtimeSession("ws://127.0.0.1:1/v1/realtime")
    for frame in ("{not json", '["a list"]', '{"no_type": 1}', b"\x00\x01binary"):
        assert s.protocol.receive(frame, 0.0, 0.0) is None
    bad_audio = '{"type": "response.output_audio.delta", "delta": "!!notbase64!!"}'
    received = s.protocol.receive(bad_audio, 0.0, 0.0)
    assert received is not None and received.pcm is None  # still delivered, without audio
    s.protocol.receive('{"type": "brand.new.event", "event_id": "event_x"}', 0.0, 0.0)
    kinds = [r.type for r in s.events.rows]
    assert kinds.count("local.malformed_frame") == 4
    assert kinds[-3:] == ["response.output_audio.delta", "local.odd_event", "brand.new.event"]
    assert "base64" in s.events.rows[-2].payload["problems"][0]


async def test_session_expiry() -> None:
    async with (
        LocalServer(audio_speed=FAST, max_session_s=0.5) as srv,
        RealtimeSession(srv.url) as s,
    ):
        with pytest.raises(SessionExpired) as info:
            await s.wait_for("never.happens", timeout=5)
        assert info.value.code == 1001
        assert "maximum duration" in info.value.reason
        errors = [r for r in s.events.rows if r.type == "error"]
        assert errors[-1].payload["error"]["code"] == "session_expired"


async def test_bad_audio_input_is_a_clear_error() -> None:
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url) as s:
        with pytest.raises(AudioFormatError, match="sample_rate"):
            await s.send_audio(np.zeros(100, np.float32))
        with pytest.raises(AudioFormatError):
            await s.send_audio(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
        with pytest.raises(AudioFormatError):
            await s.send_audio(np.zeros(100, np.float32), sample_rate=0)
        # any rate works: 44.1 kHz float is resampled to 24 kHz
        ms = await s.send_audio(np.zeros(44_100, np.float32), sample_rate=44_100)
        assert ms == pytest.approx(1000, abs=1)


async def test_huge_append_is_accepted_and_logged_without_base64() -> None:
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url, session=PTT) as s:
        ten_s = np.zeros(24_000 * 10, np.int16)
        await s.send_audio(ten_s, audio.SAMPLE_RATE, chunk_ms=10_000)
        item = await s.commit()
        assert item.startswith("item_")
        row = next(r for r in s.events.rows if r.type == "input_audio_buffer.append")
        assert row.audio_bytes == 480_000 and row.size > 640_000
        assert len(json.dumps(row.payload)) < 300


async def test_iteration_and_callbacks() -> None:
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url) as s:
        seen: list[str] = []
        audio_bytes = []
        s.on("response.done", lambda e: seen.append(e["response"]["status"]))
        s.on_output_audio(lambda item, resp, pcm: audio_bytes.append(len(pcm)))

        def broken(event: dict) -> None:
            raise RuntimeError("bug in user code")

        s.on("response.created", broken)
        collected: list[str] = []

        async def consume() -> None:
            async for event in s:
                collected.append(event["type"])
                if event["type"] == "response.done":
                    return

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        r = await s.ask("hi")
        await asyncio.wait_for(task, 5)
        assert seen == ["completed"]
        assert sum(audio_bytes) == len(r.audio) * 2
        assert collected[-1] == "response.done" and "response.created" in collected
        assert any(r.type == "local.callback_error" for r in s.events.rows)


async def test_every_sent_and_received_event_is_schema_valid() -> None:
    """Conformance: the session's client events and the stand-in's server events, strictly."""
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url) as s:
        await s.update_session(instructions="x", audio={"input": {"turn_detection": None}})
        await s.send_audio(speech(0.5), audio.SAMPLE_RATE)
        await s.commit()
        r = await s.ask(None)
        await s.truncate(s.conversation.responses[r.id].output_item_ids[0], 100)
        await s.ask("text please", output_modalities=["text"])
        await s.clear_audio()
        sent = [p for _, p in srv.received if isinstance(p, dict)]
        assert len(sent) > 5
        for event in sent:
            validate_client_event(event)
        received = server_events(s)
        assert len(received) > 20
        for event in received:
            wire = dict(event)
            for field in ("delta", "audio"):
                if isinstance(wire.get(field), dict):  # our audio marker stands for base64
                    wire[field] = "AAAA"
            validate_server_event(wire)


async def test_event_ids_are_unique_and_well_formed() -> None:
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url) as s:
        await s.ask("hi")
        ids = [r.event_id for r in s.events.rows if r.direction == "server"]
        assert len(ids) == len(set(ids))
        assert all(i.startswith("event_") and len(i) == 27 for i in ids)
        client_ids = [r.event_id for r in s.events.rows if r.direction == "client"]
        assert len(client_ids) == len(set(client_ids)) and all(len(i) <= 512 for i in client_ids)


async def test_oversized_append_chunks_are_refused_locally() -> None:
    from realtime_nb.session import MAX_APPEND_MS

    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url, session=PTT) as s:
        with pytest.raises(UsageError, match="15 MiB"):
            await s.send_audio(np.zeros(24_000, np.int16), 24_000, chunk_ms=MAX_APPEND_MS + 1000)
        assert not [r for r in s.events.rows if r.type == "input_audio_buffer.append"]


async def test_reader_survives_a_failure_while_handling_a_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with LocalServer(audio_speed=FAST) as srv, RealtimeSession(srv.url) as s:
        real_apply = s.conversation.apply
        calls = {"n": 0}

        def flaky(event: dict, pcm: bytes | None = None, t: float = 0.0) -> None:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("simulated bug while handling a frame")
            real_apply(event, pcm, t)

        monkeypatch.setattr(s.conversation, "apply", flaky)
        await s.send_text("first")  # its item.added hits the bug: a row, not a dead reader
        r = await s.ask("second")
        assert r.status == "completed"
        odd = [row for row in s.events.rows if row.type == "local.odd_event"]
        assert len(odd) == 1 and "simulated bug" in odd[0].payload["problems"][0]
        assert odd[0].payload["type"] == "conversation.item.added"


async def test_g711_both_ways() -> None:
    """μ-law in and out: appends encoded at 8 kHz, deltas decoded back to 24 kHz PCM16."""
    config = {
        "audio": {
            "input": {"format": {"type": "audio/pcmu"}, "turn_detection": None},
            "output": {"format": {"type": "audio/pcmu"}},
        }
    }
    async with (
        LocalServer(audio_speed=FAST, responder="echo") as srv,
        RealtimeSession(srv.url, session=config) as s,
    ):
        assert s.input_format == s.output_format == "g711_ulaw"
        await s.send_audio(speech(0.8), audio.SAMPLE_RATE)
        await s.commit()
        r = await s.ask(None)
        assert r.status == "completed"
        # the answer comes back as 24 kHz PCM16 of about the user's length (echo responder)
        assert len(r.audio) == pytest.approx(len(speech(0.8)), rel=0.1)
        appends = [
            p
            for _, p in srv.received
            if isinstance(p, dict) and p.get("type") == "input_audio_buffer.append"
        ]
        wire = sum(len(audio.b64decode_audio(p["audio"])) for p in appends)
        assert wire == pytest.approx(len(speech(0.8)) / 3, rel=0.02)  # 1 byte a sample at 8 kHz
        deltas = [r for r in s.events.rows if r.type == "response.output_audio.delta"]
        total_ms = sum(r.payload["delta"]["ms"] for r in deltas)
        assert total_ms == pytest.approx(r.audio_ms, rel=0.02)
