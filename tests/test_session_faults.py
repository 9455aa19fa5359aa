"""The client under faults, each with a real misbehaving peer on loopback (tests/peers.py).

One test per reproduced defect of the client core; the bounds they check are the documented
ones (session.py): dead peer within keepalive_interval + keepalive_timeout, close() within
close_timeout, send_audio whole or raising, every wait a total deadline.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import threading
import time

import numpy as np
import pytest

from realtime_nb import Session, audio, protocol
from realtime_nb.errors import (
    AuthenticationError,
    ConnectionClosed,
    ModelNotFoundError,
    RealtimeTimeout,
    ResponseFailed,
    SendQueueFull,
    ServerError,
    UsageError,
)
from realtime_nb.server import Faults, LocalServer, Reply
from realtime_nb.session import RealtimeSession
from tests import peers
from tests.peers import Peer

FAST = math.inf
#: Slack for a loaded 2-core machine on top of each stated bound.
SLACK = 1.5


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * 24_000)) * 3000).astype(np.int16)


def user_text(text: str) -> dict:
    return {"type": "conversation.item.create", "item": protocol.user_text_item(text)}


def our_tasks() -> list[asyncio.Task]:
    return [
        t for t in asyncio.all_tasks() if t.get_name().startswith("realtime-nb-") and not t.done()
    ]


async def capture_loop_errors() -> list[dict]:
    """Every exception the loop reports from now on ("Future exception was never retrieved")."""
    seen: list[dict] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: seen.append(ctx))
    return seen


# --- 1. send_audio over a slow link: whole, or it raises -----------------------------------------
async def test_send_audio_over_a_slow_link_delivers_every_sample() -> None:
    clip = noise(180.0)  # 8.6 MB of PCM, 11.5 MB of base64: more than the old 8 MiB drop line
    async with Peer(peers.slow_reader(8e6)) as peer:
        async with RealtimeSession(peer.url) as s:
            t0 = time.monotonic()
            ms = await s.send_audio(clip, 24_000, chunk_ms=100)
            elapsed = time.monotonic() - t0
            await asyncio.sleep(0.2)
            got = b"".join(
                audio.b64decode_audio(e["audio"])
                for e in peer.received
                if e["type"] == "input_audio_buffer.append"
            )
            # the peer read at most 8 MB/s: send_audio waited for the socket instead of dropping
            assert ms == pytest.approx(180_000)
            assert s.dropped_audio_frames == 0
            assert not s.events.filter(type="local.dropped_audio")
            sent_rows = s.events.filter(type="input_audio_buffer.append")
            assert sum(r.audio_bytes for r in sent_rows) == clip.nbytes
            assert elapsed > 0.5
        # everything the socket took reached the peer, in order
        assert len(got) >= clip.nbytes - 8 * 1024 * 1024 and clip.tobytes().startswith(got)


async def test_send_audio_to_a_peer_that_stops_reading_raises_and_says_how_much_went() -> None:
    async with Peer(peers.stall) as peer:
        s = RealtimeSession(peer.url, keepalive_interval=60, send_queue_bytes=1_000_000)
        await s.connect()
        with pytest.raises(RealtimeTimeout, match=r"ms was queued"):
            await s.send_audio(noise(120.0), 24_000, timeout=1.0)
        await s.close()


# --- 2. dead peer with a full send buffer; close() is prompt and leaves nothing ---------------
async def test_a_peer_that_stops_reading_is_declared_dead_within_the_bound() -> None:
    interval, timeout = 0.3, 0.5
    async with Peer(peers.stall) as peer:
        s = RealtimeSession(
            peer.url, keepalive_interval=interval, keepalive_timeout=timeout, close_timeout=1.0
        )
        await s.connect()
        t0 = time.monotonic()
        with pytest.raises(ConnectionClosed, match="keepalive timed out"):
            await s.send_audio(noise(300.0), 24_000, timeout=60)
        assert time.monotonic() - t0 < interval + timeout + SLACK
        assert not s.connected
        assert s.events.filter(type="local.keepalive_timeout")
        t1 = time.monotonic()
        await s.close()
        assert time.monotonic() - t1 < 1.0 + 0.2
        assert our_tasks() == []


async def test_close_returns_within_the_bound_while_the_send_buffer_is_full() -> None:
    async with Peer(peers.stall) as peer:
        s = RealtimeSession(peer.url, keepalive_interval=60, close_timeout=1.0)
        await s.connect()
        for _ in range(40):  # fill the queue and the socket buffers
            try:
                s.send_nowait(user_text("x" * 200_000))
            except SendQueueFull:
                break
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        await s.close()
        assert time.monotonic() - t0 < 1.0 + 0.3
        assert our_tasks() == []
        unsent = s.events.filter(type="local.unsent")
        assert unsent, "frames that never left are rows, not silently lost"


def test_sync_close_leaves_no_thread_or_task_behind() -> None:
    from realtime_nb import _loop

    with LocalServer(audio_speed=FAST, responder="echo") as srv:
        users_before = _loop._shared_users  # other tests' sessions may still hold the loop
        before = {t.name for t in threading.enumerate()}
        s = Session(srv.url)
        s.ask("hello")
        loop = s.loop
        s.close()
        assert _loop._shared_users == users_before
        if users_before == 0:
            assert not loop.alive  # the last session using the shared loop stopped its thread
            assert {t.name for t in threading.enumerate()} <= before


# --- the raw send queue is bounded ----------------------------------------------------------------
async def test_send_nowait_raises_when_the_queue_is_full() -> None:
    async with Peer(peers.stall) as peer:
        s = RealtimeSession(peer.url, keepalive_interval=60, send_queue_bytes=300_000)
        await s.connect()
        big = user_text("y" * 100_000)
        # fill the queue until the socket stops taking from it (the peer's buffers are full)
        for _ in range(100):
            with pytest.raises(SendQueueFull, match=r"await session\.send"):
                for _ in range(500):
                    s.send_nowait(dict(big))
            await asyncio.sleep(0.2)
            if s.queued_bytes > 200_000:
                break
        assert 200_000 < s.queued_bytes <= 300_000
        with pytest.raises(RealtimeTimeout, match="send queue stayed full"):
            await s.send(dict(big), timeout=0.3)
        await s.close()


# --- 3. correlation --------------------------------------------------------------------------
async def test_concurrent_asks_get_their_own_answers_even_out_of_order() -> None:
    async with Peer(peers.reversed_responses) as peer, RealtimeSession(peer.url) as s:
        a, b = await asyncio.gather(
            s.ask(None, conversation="none", instructions="answer A", timeout=5),
            s.ask(None, conversation="none", instructions="answer B", timeout=5),
        )
        assert (a.text, b.text) == ("answer A", "answer B")
        assert a.id != b.id


def test_sync_session_from_eight_threads_gives_each_caller_its_answer() -> None:
    def by_instructions(ctx) -> Reply:
        return Reply(text=str(ctx.params.get("instructions")))

    with LocalServer(audio_speed=FAST, responder=by_instructions) as srv, Session(srv.url) as s:
        results: dict[str, str] = {}
        errors: list[BaseException] = []

        def caller(n: int) -> None:
            for k in range(5):
                tag = f"caller {n} question {k}"
                try:
                    r = s.ask(None, conversation="none", instructions=tag,
                              output_modalities=["text"], timeout=20)  # fmt: skip
                    results[tag] = r.text
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert len(results) == 40
        assert all(text == tag for tag, text in results.items())


# --- 4. failed connects leave nothing open --------------------------------------------------------
async def test_no_session_created_times_out_and_leaves_nothing() -> None:
    async with Peer(peers.silent) as peer:
        s = RealtimeSession(peer.url, connect_timeout=0.5, close_timeout=0.5)
        t0 = time.monotonic()
        with pytest.raises(RealtimeTimeout, match=r"session\.created"):
            await s.connect()
        assert time.monotonic() - t0 < 0.5 + 0.5 + SLACK
        assert our_tasks() == []
        await asyncio.wait_for(peer.closed.wait(), 2.0)  # the socket was closed, not leaked
        assert not s.connected


async def test_a_refused_initial_session_update_raises_and_leaves_nothing() -> None:
    async with Peer(peers.refuse_updates) as peer:
        s = RealtimeSession(peer.url, session={"audio": {"output": {"voice": "nova"}}})
        with pytest.raises(ServerError, match="invalid_value") as info:
            await s.connect()
        assert info.value.param == "session.audio.output.voice"
        assert our_tasks() == []
        await asyncio.wait_for(peer.closed.wait(), 2.0)
        await s.close()  # still fine to call


# --- 6. NaN / Infinity never reach the wire ---------------------------------------------------
async def test_nan_in_parameters_is_refused_before_sending() -> None:
    async with Peer(peers.ignore_everything) as peer, RealtimeSession(peer.url) as s:
        with pytest.raises(UsageError, match="NaN or Infinity"):
            await s.update_session(audio={"input": {"turn_detection": {"threshold": math.nan}}})
        with pytest.raises(UsageError, match="NaN or Infinity"):
            await s.ask("hi", temperature=math.inf, timeout=1)
        await asyncio.sleep(0.1)
        assert peer.received == []  # the ask's parameters were checked before its message went


# --- 7. odd shapes from the server: every event delivered, one row each, no traceback spam --------
async def test_odd_server_events_are_delivered_and_do_not_break_later_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    opus = {**peers.SESSION, "audio": {"output": {"format": {"type": "audio/opus"}}}}
    delta = audio.b64encode_audio(b"\x00\x01" * 50)
    user_item = {"id": "item_ok", "type": "message", "role": "user", "status": "completed",
                 "content": [{"type": "input_text", "text": "fine"}]}  # fmt: skip
    odd = [
        peers.event("session.updated", 2, session=opus),
        peers.event("response.created", 3, response="not an object"),
        peers.event("conversation.item.added", 4, item=["a", "list"]),
        peers.event("error", 5, error="a string"),
        *[
            peers.event("response.output_audio.delta", 6 + i, item_id="item_x", delta=delta)
            for i in range(20)
        ],
        peers.event("conversation.item.added", 40, previous_item_id=None, item=user_item),
    ]

    async def handler(peer: Peer, ws) -> None:
        await ws.send(peers.created())
        await peer.read(ws)  # the test is subscribed: go
        for frame in odd:
            await ws.send(frame)
        await asyncio.sleep(3600)

    caplog.set_level(logging.WARNING)
    async with Peer(handler) as peer, RealtimeSession(peer.url) as s:
        seen: list[str] = []
        s.on("*", lambda e: seen.append(e["type"]))
        await s.send({"type": "input_audio_buffer.clear"})
        item_ok = lambda e: isinstance(e.get("item"), dict) and e["item"].get("id") == "item_ok"  # noqa: E731
        await s.wait_for("conversation.item.added", item_ok, timeout=5, after=0)
        assert len(seen) == len(odd)
        assert ("user", "fine") in s.conversation.transcript()  # later events still apply
        assert len(s.events.filter(type="local.unsupported_format")) == 1
        assert len(s.events.filter(type="local.odd_event")) <= 3  # one per odd event, not per delta
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- 8. the smaller ones --------------------------------------------------------------------------
def test_the_sync_facade_keeps_the_timeout_message() -> None:
    peer = Peer(peers.ignore_everything)
    ready = threading.Event()
    holder: dict = {}

    def serve() -> None:
        async def main() -> None:
            async with peer:
                holder["url"] = peer.url
                ready.set()
                await asyncio.sleep(10)

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(5)
    with Session(holder["url"]) as s:
        t0 = time.monotonic()
        with pytest.raises(RealtimeTimeout, match=r"No conversation\.item\.added from the server"):
            s.ask("anyone?", timeout=0.5)
        assert time.monotonic() - t0 < 0.5 + SLACK


async def test_ask_timeout_is_a_total_deadline() -> None:
    async with Peer(peers.slow_answers(0.7)) as peer, RealtimeSession(peer.url) as s:
        t0 = time.monotonic()
        with pytest.raises(RealtimeTimeout):
            await s.ask("hello", timeout=1.0)  # item.added at 0.7 s, then nothing in time
        assert time.monotonic() - t0 < 1.0 + 0.4


async def test_no_future_exception_is_left_unretrieved() -> None:
    seen = await capture_loop_errors()
    async with LocalServer(audio_speed=FAST) as srv:
        s = RealtimeSession(srv.url)
        await s.connect()
        with pytest.raises(ServerError):  # an error that blames a request
            await s.update_session(audio={"output": {"voice": "nova"}})
        with pytest.raises(ServerError):
            await s.ask(None, instructions="x", max_output_tokens=-5, timeout=5)
        await s.close()
    async with Peer(peers.ignore_everything) as peer:
        s = RealtimeSession(peer.url)
        await s.connect()
        with pytest.raises(RealtimeTimeout):
            await s.ask("hi", timeout=0.3)
        await s.close()
    gc.collect()
    await asyncio.sleep(0)
    assert [c.get("message") for c in seen] == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, AuthenticationError), (403, AuthenticationError), (404, ModelNotFoundError)],
)
async def test_http_refusals_map_to_specific_errors(status: int, expected: type) -> None:
    async with Peer(peers.silent, http_status=status) as peer:
        with pytest.raises(expected, match=f"HTTP {status}") as info:
            await RealtimeSession(peer.url).connect()
        assert "is the server running" not in str(info.value)
        assert "azure=True" not in str(info.value)
        assert our_tasks() == []


@pytest.mark.parametrize(
    ("code", "expected"), [(3000, AuthenticationError), (4000, ModelNotFoundError)]
)
async def test_a_bare_close_3000_or_4000_maps_to_specific_errors(code: int, expected: type) -> None:
    async with Peer(peers.close_with(code)) as peer:
        with pytest.raises(expected, match=str(code)):
            await RealtimeSession(peer.url, connect_timeout=2).connect()
        assert our_tasks() == []


async def test_a_handshake_that_never_answers_has_a_clear_message() -> None:
    async def accept_and_say_nothing(reader, writer) -> None:
        await asyncio.sleep(10)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ConnectionClosed, match=r"No WebSocket handshake .* within 0\.5 s"):
            await RealtimeSession(
                f"ws://127.0.0.1:{port}/v1/realtime", connect_timeout=0.5
            ).connect()
    finally:
        server.close()


async def test_response_status_rules_failed_raises_cancelled_and_incomplete_return() -> None:
    def responder(ctx) -> Reply:
        if ctx.params.get("instructions") == "fail":
            raise RuntimeError("the model broke")
        return Reply(text="a long answer " * 20)

    async with (
        LocalServer(audio_speed=20.0, responder=responder) as srv,
        RealtimeSession(srv.url) as s,
    ):
        with pytest.raises(ResponseFailed, match="failed") as info:
            await s.ask("hi", instructions="fail", timeout=10)
        assert info.value.response.status == "failed"
        short = await s.ask("hi", max_output_tokens=1, timeout=10)
        assert short.status == "incomplete" and not short.ok
        assert short.status_details["reason"] == "max_output_tokens"
        task = asyncio.create_task(s.ask("tell me more", timeout=10))
        await s.wait_for("response.output_audio.delta", timeout=5)
        await s.cancel_response()
        cancelled = await task
        assert cancelled.status == "cancelled" and not cancelled.ok
        assert "cancelled" in repr(cancelled)


async def test_ask_with_a_missing_audio_file_raises_instead_of_sending_its_name() -> None:
    async with Peer(peers.ignore_everything) as peer, RealtimeSession(peer.url) as s:
        with pytest.raises(UsageError, match=r"no audio file 'typo\.wav'"):
            await s.ask("typo.wav")
        with pytest.raises(UsageError, match="no audio file"):
            await s.ask("recordings/question.flac")
        await asyncio.sleep(0.05)
        assert peer.received == []


# --- reconnect ------------------------------------------------------------------------------------
async def test_reconnect_after_expiry_replays_config_and_history() -> None:
    calls: list[RealtimeSession] = []
    async with LocalServer(audio_speed=FAST, faults=Faults(expire_after_s=1.0)) as srv:
        s = RealtimeSession(
            srv.url, session={"instructions": "Be brief."}, reconnect=True,
            on_reconnect=calls.append,
        )  # fmt: skip
        await s.connect()
        first = await s.ask("first question", output_modalities=["text"])
        old_session = s.session_config["id"]
        row = await wait_for_row(s, "local.reconnected", 5.0)
        assert row.payload["previous_session"] == old_session
        assert row.payload["replayed_items"] == 2
        assert calls == [s]
        assert s.connected and s.session_config["id"] != old_session
        assert s.session_config["instructions"] == "Be brief."
        second = await s.ask("second question", output_modalities=["text"])
        assert second.ok
        server_items = srv.sessions[-1].conversation
        texts = [json_text(i) for i in server_items]
        assert texts[:2] == ["first question", first.text]
        # the seam is in the log, nothing before it was lost
        kinds = [r.type for r in s.events.rows]
        assert (
            kinds.index("local.closed")
            < kinds.index("local.reconnecting")
            < kinds.index("local.reconnected")
        )
        assert s.transcript[:2] == [("user", "first question"), ("assistant", first.text)]
        await s.close()
        assert our_tasks() == []


async def test_reconnect_after_a_dropped_socket() -> None:
    async with LocalServer(audio_speed=FAST, faults=Faults(drop_after_events=12)) as srv:
        s = RealtimeSession(srv.url, reconnect=True, replay_history=False)
        await s.connect()
        with pytest.raises(ConnectionClosed):
            await s.ask("hello there", timeout=5)
        row = await wait_for_row(s, "local.reconnected", 5.0)
        assert row.payload["replayed_items"] == 0
        assert len(srv.sessions) == 2
        await s.close()
        assert our_tasks() == []


async def test_renewal_before_the_cap_means_the_session_never_expires() -> None:
    async with LocalServer(audio_speed=FAST, max_session_s=3.0) as srv:
        s = RealtimeSession(srv.url, reconnect=True, renew_before_expiry_s=2.0)
        await s.connect()
        await s.ask("before", output_modalities=["text"])
        row = await wait_for_row(s, "local.reconnected", 4.0)
        assert row.payload["replayed_items"] == 2
        assert s.events.filter(type="local.renewing")
        errors = [r.payload for r in s.events.filter(type="error")]
        assert not [e for e in errors if (e.get("error") or {}).get("code") == "session_expired"]
        after = await s.ask("after", output_modalities=["text"])
        assert after.ok
        await s.close()
        assert our_tasks() == []


async def test_no_reconnect_after_our_own_close_or_an_auth_failure() -> None:
    async with LocalServer(audio_speed=FAST) as srv:
        s = RealtimeSession(srv.url, reconnect=True)
        await s.connect()
        await s.close()
        await asyncio.sleep(0.3)
        assert not s.events.filter(type="local.reconnecting")
    async with Peer(peers.close_with(3000)) as peer:
        s = RealtimeSession(peer.url, reconnect=True)
        with pytest.raises(AuthenticationError):
            await s.connect()
        await asyncio.sleep(0.3)
        assert not s.events.filter(type="local.reconnecting")


async def wait_for_row(s: RealtimeSession, type_: str, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        rows = s.events.filter(type=type_)
        if rows:
            return rows[-1]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {type_} row within {timeout} s")


def json_text(item: dict) -> str:
    parts = item.get("content") or []
    for part in parts:
        if part.get("text"):
            return part["text"]
        if part.get("transcript"):
            return part["transcript"]
    return ""
