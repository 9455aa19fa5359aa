"""The stand-in over real loopback sockets (port 0) with a plain ``websockets`` client.

Handshake, auth and model refusals with their close codes, the §5 sequences end to end, paced
audio with barge-in, expiry, fault injection, big frames, the threaded API, the CLI, and
openai-python's own client. Every event received is checked by :func:`conform`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect as sync_connect

from realtime_nb import protocol
from realtime_nb.server import Faults, LocalServer, Reply, scripted
from realtime_nb.server.app import MALFORMED_FRAME, MAX_FRAME_BYTES
from realtime_nb.server.responders import ResponderContext
from realtime_nb.synth import utterance
from tests.test_server_conformance import append, conform, validate

INF = math.inf
TIMEOUT = 10.0 * float(os.environ.get("REALTIME_NB_TIMEOUT_SCALE", "1"))
MODEL = "?model=gpt-realtime"


@asynccontextmanager
async def client(
    srv: LocalServer, query: str = MODEL, path: str = "/v1/realtime", **kwargs: Any
) -> AsyncIterator[ClientConnection]:
    url = f"ws://127.0.0.1:{srv.port}{path}{query}"
    async with websockets.connect(url, max_size=None, **kwargs) as ws:
        yield ws


async def recv(ws: ClientConnection, beta: bool = False) -> dict[str, Any]:
    event = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    validate(event, beta)
    return event


async def until(ws: ClientConnection, type_: str, beta: bool = False) -> list[dict[str, Any]]:
    """Receive events up to and including the first of ``type_``."""
    events = []
    while True:
        events.append(await recv(ws, beta))
        if events[-1]["type"] == type_:
            return events


async def send(ws: ClientConnection, **event: Any) -> None:
    await ws.send(json.dumps(event))


async def send_audio(ws: ClientConnection, pcm: np.ndarray, chunk_ms: int = 40) -> None:
    step = chunk_ms * 24
    for i in range(0, len(pcm), step):
        await ws.send(json.dumps(append(pcm[i : i + step])))


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def first(events: list[dict[str, Any]], type_: str) -> dict[str, Any]:
    return next(e for e in events if e["type"] == type_)


async def refused(ws: ClientConnection) -> tuple[dict[str, Any], int | None, str | None]:
    """The error event of a refused connection and the close code and reason that follow."""
    error = await recv(ws)
    with pytest.raises((ConnectionClosedError, ConnectionClosedOK)):
        await asyncio.wait_for(ws.recv(), TIMEOUT)
    return error, ws.close_code, ws.close_reason


# --- §1 handshake -------------------------------------------------------------------------------
async def test_urls_and_accepted_routes() -> None:
    async with LocalServer(audio_speed=INF) as srv:
        assert srv.url == f"ws://127.0.0.1:{srv.port}/v1/realtime"
        assert srv.base_url == f"ws://127.0.0.1:{srv.port}/v1"
        for path, query in [
            ("/v1/realtime", MODEL),
            ("/openai/v1/realtime", "?model=my-deployment"),
            ("/openai/realtime", "?api-version=2025-04-01-preview&deployment=dep"),
        ]:
            async with client(srv, query, path) as ws:
                assert (await recv(ws))["type"] == "session.created"
        with pytest.raises(InvalidStatus) as info:
            async with client(srv, MODEL, "/v2/nowhere"):
                pass
        assert info.value.response.status_code == 404
        with pytest.raises(InvalidStatus) as info:
            async with client(
                srv, "?model=dep&api-version=2025-04-01-preview", "/openai/v1/realtime"
            ):
                pass
        assert info.value.response.status_code == 401


@pytest.mark.parametrize(
    ("headers", "code", "reason"),
    [
        ({}, None, "invalid_request_error"),
        ({"Authorization": "Bearer sk-wrong"}, "invalid_api_key",
         "invalid_request_error.invalid_api_key"),
    ],
)  # fmt: skip
async def test_auth_failures_complete_the_upgrade_then_close_3000(
    headers: dict[str, str], code: str | None, reason: str
) -> None:
    async with (
        LocalServer(api_key="sk-right") as srv,
        client(srv, additional_headers=headers) as ws,
    ):
        error, close_code, close_reason = await refused(ws)
        assert error["error"]["code"] == code
        assert (close_code, close_reason) == (3000, reason)


async def test_accepted_credentials() -> None:
    async with LocalServer(api_key="sk-right", audio_speed=INF) as srv:
        for kwargs in (
            {"additional_headers": {"Authorization": "Bearer sk-right"}},
            {"additional_headers": {"api-key": "sk-right"}},
            {"subprotocols": ["realtime", "openai-insecure-api-key.sk-right"]},
        ):
            async with client(srv, **kwargs) as ws:
                assert (await recv(ws))["type"] == "session.created"
                if "subprotocols" in kwargs:
                    assert ws.subprotocol == "realtime"


@pytest.mark.parametrize(
    ("query", "headers", "code"),
    [
        ("?model=gpt-nope", {}, "invalid_model"),
        ("", {}, "missing_model"),
        (MODEL, {"OpenAI-Beta": "realtime=v1"}, "beta_api_shape_disabled"),
    ],
)
async def test_model_and_beta_refusals_close_4000(
    query: str, headers: dict[str, str], code: str
) -> None:
    async with LocalServer() as srv, client(srv, query, additional_headers=headers) as ws:
        error, close_code, close_reason = await refused(ws)
        assert error["error"]["code"] == code
        assert (close_code, close_reason) == (4000, f"invalid_request_error.{code}")


async def test_server_pings() -> None:
    async with LocalServer(ping_interval=0.1) as srv, client(srv, ping_interval=None) as ws:
        await recv(ws)
        await asyncio.sleep(0.35)
        assert srv._server is not None
        (conn,) = srv._server.connections
        assert conn.latency > 0  # the server pinged and our client answered
        assert ws.state.name == "OPEN"


# --- §5 sequences end to end -------------------------------------------------------------------
async def test_voice_turn_over_the_socket() -> None:
    async with LocalServer(audio_speed=INF, seed=1, responder="echo") as srv, client(srv) as ws:
        await recv(ws)
        await send_audio(ws, utterance(1.2, lead_silence_s=0.6, tail_silence_s=0.8))
        events = await until(ws, "rate_limits.updated")
        started = first(events, "input_audio_buffer.speech_started")
        stopped = first(events, "input_audio_buffer.speech_stopped")
        committed = first(events, "input_audio_buffer.committed")
        assert started["audio_start_ms"] == pytest.approx(300, abs=40)
        assert stopped["audio_end_ms"] == pytest.approx(1800, abs=40)
        assert started["item_id"] == committed["item_id"]
        done = first(events, "response.done")["response"]
        assert done["status"] == "completed"
        assert (
            done["output"][0]["content"][0]["transcript"] == "You said something for 1.5 seconds."
        )
        received = [p for i, p in srv.received if i == 0]
        assert all(p["type"] == "input_audio_buffer.append" for p in received)
        (state,) = srv.sessions
        assert [i["role"] for i in state.conversation] == ["user", "assistant"]


async def test_paced_barge_in_then_truncate() -> None:
    long = Reply(text="This answer is long enough to interrupt. " * 6)  # ≈ 14.8 s of audio
    async with (
        LocalServer(audio_speed=4.0, responder=scripted([long, "ok"])) as srv,
        client(srv) as ws,
    ):
        await recv(ws)
        await send(ws, type="response.create")
        events = await until(ws, "response.output_audio.delta")
        rid = first(events, "response.created")["response"]["id"]
        assistant = first(events, "response.output_item.added")["item"]["id"]
        await send_audio(ws, utterance(0.6, lead_silence_s=0.2, tail_silence_s=0))
        events += await until(ws, "response.done")
        done = events[-1]["response"]
        assert done["id"] == rid and done["status"] == "cancelled"
        assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
        audio_ms = (
            sum(
                len(base64.b64decode(e["delta"]))
                for e in events
                if e["type"].endswith("audio.delta")
            )
            / 48
        )
        assert 0 < audio_ms < 14_000  # cut off mid-response
        seq = types(events)
        assert seq.index("input_audio_buffer.speech_started") < seq.index("response.done")
        await send(
            ws,
            type="conversation.item.truncate",
            item_id=assistant,
            content_index=0,
            audio_end_ms=200,
        )
        truncated = await until(ws, "conversation.item.truncated")
        assert truncated[-1]["audio_end_ms"] == 200
        await send(
            ws,
            type="conversation.item.truncate",
            item_id=assistant,
            content_index=0,
            audio_end_ms=900_000,
            event_id="too-long",
        )
        error = (await until(ws, "error"))[-1]["error"]
        assert error["message"] == "Audio content of 200ms is already shorter than 900000ms"
        assert error["event_id"] == "too-long"


async def test_audio_is_paced_faster_than_real_time() -> None:
    reply = Reply(audio=np.zeros(24_000 * 2, np.int16), text="two seconds")
    async with LocalServer(audio_speed=10.0, responder=scripted([reply])) as srv, client(srv) as ws:
        await recv(ws)
        await send(ws, type="response.create")
        stamps = []
        async for frame in ws:
            event = json.loads(frame)
            if event["type"] == "response.output_audio.delta":
                stamps.append(time.monotonic())
            if event["type"] == "response.done":
                break
        assert len(stamps) == 20
        assert 0.12 < stamps[-1] - stamps[0] < 1.0  # 1.9 s of audio at 10×


async def test_client_cancel_mid_response() -> None:
    slow = scripted([Reply(text="slow " * 40)])
    async with LocalServer(audio_speed=2.0, responder=slow) as srv, client(srv) as ws:
        await recv(ws)
        await send(ws, type="response.create")
        await until(ws, "response.output_audio.delta")
        await send(ws, type="response.cancel")
        done = (await until(ws, "response.done"))[-1]["response"]
        assert done["status_details"]["reason"] == "client_cancelled"
        await send(ws, type="response.cancel", event_id="again")
        error = (await until(ws, "error"))[-1]["error"]
        assert (error["code"], error["event_id"]) == ("response_cancel_not_active", "again")


async def test_function_call_round_trip_over_the_socket() -> None:
    call = Reply(function_calls=[("get_weather", '{"city":"Paris"}')])
    replies = scripted([call, "21 degrees"])
    async with LocalServer(audio_speed=INF, responder=replies) as srv, client(srv) as ws:
        await recv(ws)
        await send(ws, **protocol.item_create(protocol.user_text_item("weather?")))
        await send(ws, type="response.create")
        events = await until(ws, "response.done")
        args = first(events, "response.function_call_arguments.done")
        assert json.loads(args["arguments"]) == {"city": "Paris"}
        output = protocol.function_call_output_item(args["call_id"], '{"temp_c":21}')
        await send(ws, **protocol.item_create(output))
        await send(ws, type="response.create")
        events = await until(ws, "response.done")
        assert events[-1]["response"]["output"][0]["content"][0]["transcript"] == "21 degrees"


async def test_errors_over_the_socket_are_non_fatal() -> None:
    async with LocalServer(audio_speed=INF) as srv, client(srv) as ws:
        await recv(ws)
        await ws.send(b"\x00\x01")
        assert (await recv(ws))["error"]["code"] == "invalid_event"
        await ws.send("not json")
        assert (await recv(ws))["error"]["code"] == "invalid_json"
        await send(
            ws, type="session.update", event_id="u1", session={"type": "realtime", "bogus_field": 1}
        )
        error = (await recv(ws))["error"]
        assert (error["code"], error["param"], error["event_id"]) == (
            "unknown_parameter",
            "session.bogus_field",
            "u1",
        )
        await send(ws, type="input_audio_buffer.commit")
        assert (await recv(ws))["error"]["code"] == "input_audio_buffer_commit_empty"
        await send(ws, type="session.update", session={"type": "realtime"})
        assert (await recv(ws))["type"] == "session.updated"
        assert [p if isinstance(p, bytes | str) else p["type"] for _, p in srv.received] == [
            b"\x00\x01",
            "not json",
            "session.update",
            "input_audio_buffer.commit",
            "session.update",
        ]


async def test_beta_protocol_over_the_socket() -> None:
    async with (
        LocalServer(audio_speed=INF, protocol="beta") as srv,
        client(srv, additional_headers={"OpenAI-Beta": "realtime=v1"}) as ws,
    ):
        session = (await recv(ws, beta=True))["session"]
        assert "modalities" in session and "audio" not in session
        await send(ws, **protocol.item_create(protocol.user_text_item("hello")))
        await send(ws, type="response.create", response={"modalities": ["text"]})
        events = await until(ws, "response.done", beta=True)
        seq = types(events)
        assert seq.count("conversation.item.created") == 2
        assert "response.text.delta" in seq and "conversation.item.done" not in seq


async def test_async_responder_and_transcriber() -> None:
    async def responder(ctx: ResponderContext) -> str:
        await asyncio.sleep(0.05)
        return f"async reply to {len(ctx.items)} items"

    async def transcriber(pcm: np.ndarray) -> str:
        await asyncio.sleep(0.01)
        return "hello world"

    config = {
        "type": "realtime",
        "output_modalities": ["text"],
        "audio": {"input": {"transcription": {"model": "whisper-1"}}},
    }
    async with (
        LocalServer(audio_speed=INF, responder=responder, transcriber=transcriber) as srv,
        client(srv) as ws,
    ):
        await recv(ws)
        await send(ws, type="session.update", session=config)
        await recv(ws)
        await send_audio(ws, utterance(0.8, 0.3, 0.6))
        events = await until(ws, "response.done")
        events += await until(ws, "rate_limits.updated")
        if "conversation.item.input_audio_transcription.completed" not in types(events):
            events += await until(ws, "conversation.item.input_audio_transcription.completed")
        done = first(events, "conversation.item.input_audio_transcription.completed")
        assert done["transcript"] == "hello world"
        text = first(events, "response.output_text.done")["text"]
        assert text == "async reply to 1 items"


# --- timers and faults --------------------------------------------------------------------------
async def test_session_expiry_closes_1001_with_the_message() -> None:
    async with LocalServer(max_session_s=0.3) as srv, client(srv) as ws:
        await recv(ws)
        error, code, reason = await refused(ws)
        assert error["error"]["code"] == "session_expired"
        assert code == 1001 and reason == error["error"]["message"]
        assert reason.startswith("Your session hit the maximum duration of ")


async def test_fault_drop_mid_response_is_an_abrupt_1006() -> None:
    faults = Faults(drop_after_events=8)
    async with LocalServer(audio_speed=2.0, faults=faults) as srv, client(srv) as ws:
        await recv(ws)
        await send(ws, **protocol.item_create(protocol.user_text_item("tell me a long story")))
        await send(ws, type="response.create")
        got = 1
        with pytest.raises(ConnectionClosedError) as info:
            while True:
                await recv(ws)
                got += 1
        assert got == 8
        assert info.value.rcvd is None and ws.close_code == 1006


async def test_fault_malformed_frame_then_the_session_goes_on() -> None:
    faults = Faults(malformed_after_events=1)
    async with LocalServer(audio_speed=INF, faults=faults) as srv, client(srv) as ws:
        assert json.loads(await ws.recv())["type"] == "session.created"
        assert await ws.recv() == MALFORMED_FRAME
        await send(ws, type="session.update", session={"type": "realtime"})
        assert (await recv(ws))["type"] == "session.updated"


async def test_fault_delay_close_and_expire() -> None:
    async with LocalServer(faults=Faults(delay_s=0.15)) as srv, client(srv) as ws:
        start = time.monotonic()
        await recv(ws)
        assert time.monotonic() - start >= 0.14
    closing = Faults(close_after_s=0.1, close_code=1011, close_reason="x")
    async with LocalServer(faults=closing) as srv, client(srv) as ws:
        await recv(ws)
        with pytest.raises(ConnectionClosedError):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert (ws.close_code, ws.close_reason) == (1011, "x")
    async with LocalServer(faults=Faults(expire_after_s=0.1)) as srv, client(srv) as ws:
        await recv(ws)
        error, code, _ = await refused(ws)
        assert error["error"]["code"] == "session_expired" and code == 1001


# --- frames --------------------------------------------------------------------------------------
async def test_append_size_limits() -> None:
    limit = 15 * 1024 * 1024
    config = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
    async with LocalServer(audio_speed=INF) as srv, client(srv) as ws:
        await recv(ws)
        await send(ws, type="session.update", session=config)
        await recv(ws)
        await send(ws, type="input_audio_buffer.append", audio="A" * limit)  # 15 MiB: accepted
        await send(ws, type="input_audio_buffer.append", event_id="big", audio="A" * (limit + 4))
        error = (await recv(ws))["error"]
        assert (error["code"], error["param"], error["event_id"]) == (
            "string_above_max_length",
            "audio",
            "big",
        )
        await send(ws, type="input_audio_buffer.commit")
        committed = await recv(ws)
        assert committed["type"] == "input_audio_buffer.committed"
        assert srv.sessions[0].items[committed["item_id"]].audio_ms() == pytest.approx(
            limit * 3 / 4 / 48
        )
        await ws.send("x" * (MAX_FRAME_BYTES + 1))
        with pytest.raises(ConnectionClosedError):
            while True:
                await recv(ws)
        assert ws.close_code == 1009  # websockets' "message too big"


# --- the threaded API, the CLI, openai-python ---------------------------------------------------
def test_threaded_server_with_a_sync_client() -> None:
    with LocalServer(audio_speed=INF, seed=5, responder="echo") as srv:
        assert repr(srv).startswith("LocalServer(127.0.0.1:")
        with sync_connect(srv.url + MODEL) as ws:
            assert json.loads(ws.recv(TIMEOUT))["type"] == "session.created"
            ws.send(json.dumps(protocol.item_create(protocol.user_text_item("sync hi"))))
            ws.send(json.dumps(protocol.response_create({"output_modalities": ["text"]})))
            events = []
            while not events or events[-1]["type"] != "rate_limits.updated":
                events.append(json.loads(ws.recv(TIMEOUT)))
            conform(events)
            assert first(events, "response.output_text.done")["text"] == "You said: sync hi"
        assert len(srv.received) == 2
        port = srv.port
    assert srv.port == port and repr(srv) == "LocalServer(not running, protocol='ga')"
    with pytest.raises(RuntimeError, match="not been started"):
        _ = LocalServer().url
    with LocalServer(port=port or 0):  # the port is free again
        pass


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="protocol"):
        LocalServer(protocol="v2")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="audio_speed"):
        LocalServer(audio_speed=0)
    with pytest.raises(TypeError, match="responder"):
        LocalServer(responder=42)  # type: ignore[arg-type]


def test_cli_prints_the_url_and_serves() -> None:
    from realtime_nb.server.speech import speech_available

    command = [sys.executable, "-m", "realtime_nb.server", "--port", "0", "--audio-speed", "inf"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            assert url.startswith("ws://127.0.0.1:")
            assert url.endswith("/v1/realtime?model=gpt-realtime-2")
            responder = "brain" if speech_available() else "echo"  # the default offline responder
            assert proc.stdout.readline().strip() == f"responder: {responder}"
            with sync_connect(url) as ws:
                assert json.loads(ws.recv(TIMEOUT))["type"] == "session.created"
        finally:
            proc.terminate()
            proc.wait(TIMEOUT)


async def test_openai_python_client_against_the_stand_in() -> None:
    from openai import AsyncOpenAI

    async with LocalServer(audio_speed=INF, responder="echo") as srv:
        openai_client = AsyncOpenAI(api_key="sk-test", websocket_base_url=srv.base_url)
        async with openai_client.realtime.connect(model="gpt-realtime") as conn:
            await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
            await conn.conversation.item.create(item=protocol.user_text_item("Say hi"))
            await conn.response.create()
            seen = []
            async for event in conn:
                seen.append(event)
                if event.type == "response.done":
                    break
        names = [type(e).__name__ for e in seen]
        assert names[:2] == ["SessionCreatedEvent", "SessionUpdatedEvent"]
        assert seen[1].session.output_modalities == ["text"]
        text = next(e for e in seen if e.type == "response.output_text.done")
        assert text.text == "You said: Say hi"
        assert seen[-1].response.status == "completed"
        assert seen[-1].response.usage.total_tokens > 0
        received = [p["type"] for _, p in srv.received]
        assert received == ["session.update", "conversation.item.create", "response.create"]
