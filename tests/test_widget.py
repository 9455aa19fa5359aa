"""The widget's kernel side against a real stand-in, driven as the comm drives it.

No browser: each test calls the widget's comm entry point (``_handle_msg``) with the messages a
view would send (dicts, and real byte buffers as ``memoryview``), and replaces the instance's
``send`` with a recorder — the transport boundary. Everything behind it is real: the session
loop thread, the socket, the stand-in and its VAD.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import realtime_nb.widget as widget_module
from realtime_nb import audio, bridge
from realtime_nb._loop import shared_loop
from realtime_nb.errors import UsageError
from realtime_nb.server import LocalServer
from realtime_nb.synth import speech_like, utterance
from realtime_nb.widget import RealtimeWidget

FRAME = 960  # 40 ms at 24 kHz
TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def wait_until(predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


class View:
    """Plays the browser: sends comm messages into the widget and records what it sends."""

    def __init__(self, widget: RealtimeWidget) -> None:
        self.w = widget
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        self._lock = threading.Lock()
        self._seq = 0
        widget.send = self._record  # the transport boundary

    def _record(self, content: dict[str, Any], buffers: list[Any] | None = None) -> None:
        with self._lock:
            self.sent.append((content, [bytes(b) for b in buffers or ()]))

    def msg(self, content: dict[str, Any], buffers: list[Any] | None = None) -> None:
        """Deliver one custom message exactly as ipywidgets' comm handler does."""
        data = {"method": "custom", "content": content}
        self.w._handle_msg({"content": {"data": data}, "buffers": buffers or []})

    def ready(self) -> None:
        self.msg(
            {
                "type": bridge.READY,
                "version": bridge.PROTOCOL_VERSION,
                "view_id": "view-1",
                "sample_rate": 48000,
                "secure_context": True,
                "has_media_devices": True,
                "user_agent": "pytest",
                "buffer_kind": "DataView",
            }
        )

    def mic(self, samples: np.ndarray, *, t_capture: float | None = None) -> int:
        """Send ``samples`` as 40 ms mic frames (memoryview buffers); returns the frame count."""
        n = 0
        for start in range(0, len(samples), FRAME):
            chunk = np.ascontiguousarray(samples[start : start + FRAME], dtype="<i2")
            t = time.time() * 1000 if t_capture is None else t_capture
            self.msg(
                {"type": bridge.MIC_FRAME, "seq": self._seq, "t_capture": t, "level": 0.1},
                [memoryview(chunk.tobytes())],
            )
            self._seq += 1
            n += 1
        return n

    def of(self, type_: str) -> list[tuple[dict[str, Any], list[bytes]]]:
        with self._lock:
            return [(c, b) for c, b in self.sent if c.get("type") == type_]

    def types(self) -> list[str]:
        with self._lock:
            return [c["type"] for c, _ in self.sent]


@pytest.fixture
def make() -> Iterator[Callable[..., tuple[RealtimeWidget, View]]]:
    made: list[RealtimeWidget] = []

    def factory(**kwargs: Any) -> tuple[RealtimeWidget, View]:
        kwargs.setdefault("server_options", {"audio_speed": 8.0})
        w = RealtimeWidget(**kwargs)
        made.append(w)
        return w, View(w)

    yield factory
    for w in made:
        w.close()


def appends(server: LocalServer) -> list[dict[str, Any]]:
    return [e for _, e in server.received if e.get("type") == "input_audio_buffer.append"]


def received_types(server: LocalServer) -> list[str]:
    return [e.get("type") for _, e in server.received if isinstance(e, dict)]


# --- construction ---------------------------------------------------------------------------------
def test_unknown_keywords_are_refused_with_the_valid_ones_listed() -> None:
    with pytest.raises(TypeError) as info:
        RealtimeWidget(tun_detection=None)
    message = str(info.value)
    assert "tun_detection" in message
    assert "turn_detection" in message and "server_options" in message
    with pytest.raises(UsageError, match="semantic_vad"):
        RealtimeWidget(turn_detection="vad")


def test_offline_by_default_with_the_session_configured(make: Callable) -> None:
    w, _ = make(
        instructions="Be brief.",
        voice="verse",
        session={"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 0.8}}}},
    )
    assert w.offline and w.server is not None and w.status == "connected"
    assert w.endpoint.startswith(w.server.url)
    config = w.session.session_config
    assert config["instructions"] == "Be brief."
    assert config["audio"]["output"]["voice"] == "verse"
    assert config["audio"]["input"]["turn_detection"]["threshold"] == 0.8
    assert (w.mode, w.turn_detection, w.vad_threshold) == ("hands_free", "server_vad", 0.8)
    assert "connected" in repr(w) and "offline stand-in" in repr(w)


def test_no_turn_detection_means_push_to_talk(make: Callable) -> None:
    w, _ = make(turn_detection=None)
    assert w.session.session_config["audio"]["input"]["turn_detection"] is None
    assert (w.mode, w.turn_detection) == ("push_to_talk", None)


# --- the ready handshake and rows -----------------------------------------------------------------
def test_nothing_is_sent_before_ready_then_the_whole_table(make: Callable) -> None:
    w, view = make(turn_detection=None)
    before = w.ask("before any view")  # rows and audio happen, but no view can receive them
    time.sleep(0.3)
    assert view.sent == []
    view.ready()
    first = wait_until(lambda: view.of(bridge.ROWS), what="the first rows")[0][0]
    assert first["replace"] is True
    assert first["total"] == len(w.events)
    assert first["counts"] == w.events.rows_by_direction
    assert first["rows"][0]["seq"] == 1 and first["rows"][-1]["last"] == first["total"]
    assert set(first["rows"][0]) == set(bridge.Row.__annotations__)
    # the first response's audio was held for this first view (test_an_answer_before_...)
    wait_until(lambda: {c["response_id"] for c, _ in view.of(bridge.AUDIO)} == {before.id})

    started = time.monotonic()
    response = w.ask("after the view")
    wait_until(lambda: view.of(bridge.ROWS)[-1][0]["rows"][-1]["last"] == w.events.last_seq)
    elapsed = time.monotonic() - started
    batches = [c for c, _ in view.of(bridge.ROWS)]
    assert all(not b["replace"] for b in batches[1:])
    seqs = [(r["seq"], r["last"]) for b in batches for r in b["rows"]]
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(seqs)), "no gaps"
    assert len(batches) - 1 <= elapsed * 10 + 2  # at most 10 batches a second
    chunks = [(c, b) for c, b in view.of(bridge.AUDIO) if c["response_id"] == response.id]
    assert b"".join(b[0] for _, b in chunks) == response.audio.tobytes()
    assert {c["item_id"] for c, _ in chunks} == {
        i for i in w.conversation.responses[response.id].output_item_ids
    }
    wait_until(lambda: w.stats.get("audio_chunks_sent") == len(view.of(bridge.AUDIO)), what="stats")
    wait_until(lambda: [t["role"] for t in w._transcript] == ["user", "assistant"] * 2)


# --- microphone ---------------------------------------------------------------------------------
def test_mic_frames_reach_the_stand_in_unchanged(make: Callable) -> None:
    w, view = make(turn_detection=None)
    speech = speech_like(0.6, seed=1)
    n = view.mic(speech)
    wait_until(lambda: len(appends(w.server)) == n, what="all appends")
    pcm = b"".join(audio.b64decode_audio(e["audio"]) for e in appends(w.server))
    assert pcm == speech.tobytes()
    wait_until(lambda: w.stats.get("mic_frames") == n, what="stats")
    assert w.stats["mic_ms"] == pytest.approx(600.0)


def test_stale_frames_are_dropped_counted_and_logged(make: Callable) -> None:
    w, view = make(turn_detection=None)
    fresh = view.mic(speech_like(0.12, seed=2))
    late = view.mic(speech_like(0.16, seed=3), t_capture=time.time() * 1000 - 10_000)
    wait_until(lambda: w.stats.get("mic_dropped") == late, what="the drop count")
    wait_until(lambda: len(appends(w.server)) == fresh, what="the timely frames")
    time.sleep(0.1)
    assert len(appends(w.server)) == fresh
    again = view.mic(speech_like(0.04, seed=4))  # a timely frame ends the run of drops
    wait_until(lambda: len(appends(w.server)) == fresh + again, what="the next timely frame")
    # one row when the run starts, one with its totals when it ends: not one per frame
    starts = w.events.filter(type="local.dropping_audio")
    rows = wait_until(lambda: w.events.filter(type="local.dropped_audio"))
    assert len(starts) == len(rows) == 1
    assert rows[0].payload["frames"] == late == w.session.async_session.dropped_audio_frames
    assert rows[0].payload["reason"] == starts[0].payload["reason"]
    assert rows[0].payload["reason"].startswith("kernel busy: frames arrived over 5 s late")
    assert rows[0].payload["bytes"] == FRAME * 2 * late


def test_a_full_vad_turn_plays_back_the_whole_response(make: Callable) -> None:
    w, view = make()
    view.ready()
    mark = w.events.last_seq
    view.mic(utterance(speech_s=1.0, seed=4))
    done = w.session.wait_for("response.done", timeout=TIMEOUT, after=mark)
    assert done["response"]["status"] == "completed"
    response = w.session.async_session.response(done["response"]["id"])
    assert len(response.audio) > 0
    chunks = [b[0] for c, b in view.of(bridge.AUDIO) if c["response_id"] == response.id]
    assert b"".join(chunks) == response.audio.tobytes()
    assert not view.of(bridge.FLUSH)  # speech started while nothing was playing


def test_latency_from_capture_to_stand_in_and_from_stand_in_to_speaker(make: Callable) -> None:
    w, view = make()
    view.ready()
    mark = w.events.last_seq
    frames = view.mic(utterance(speech_s=0.8, seed=5))
    done = w.session.wait_for("response.done", timeout=TIMEOUT, after=mark)
    item = w.conversation.responses[done["response"]["id"]].output_item_ids[0]
    view.msg(
        {
            "type": bridge.PLAYED,
            "item_id": item,
            "samples": 2400,
            "received": 2400,
            "reason": "progress",
            "t_first": time.time() * 1000,
        }
    )
    wait_until(lambda: w.played_ms(item) == 100.0, what="the played report")
    lat = w.latency()
    assert lat["capture_to_server_ms"]["n"] == frames
    assert 0 <= lat["capture_to_server_ms"]["p50"] < 5000
    assert lat["server_to_played_ms"]["n"] == 1
    assert 0 <= lat["server_to_played_ms"]["p50"] < 10_000
    assert lat["capture_to_kernel_ms"]["n"] == frames


# --- barge-in -----------------------------------------------------------------------------------
def _first_turn(w: RealtimeWidget, view: View) -> str:
    """Talk once and return the assistant item whose audio the view is "playing"."""
    mark = w.events.last_seq
    view.mic(utterance(speech_s=1.2, seed=6))
    done = w.session.wait_for("response.done", timeout=TIMEOUT, after=mark)
    return w.conversation.responses[done["response"]["id"]].output_item_ids[0]


def test_barge_in_flushes_and_truncates_at_what_was_played(make: Callable) -> None:
    w, view = make()
    view.ready()
    item = _first_turn(w, view)
    assert view.of(bridge.AUDIO) and not view.of(bridge.FLUSH)
    mark = w.events.last_seq
    view.mic(utterance(speech_s=0.8, seed=7, tail_silence_s=0.1))  # the user talks over it
    flush = wait_until(lambda: view.of(bridge.FLUSH), what="a flush")[0][0]
    assert flush == {"type": bridge.FLUSH, "reason": "speech_started"}
    samples = 12_345
    view.msg(
        {
            "type": bridge.PLAYED,
            "item_id": item,
            "samples": samples,
            "received": 24_000,
            "reason": "interrupted",
            "t_first": None,
        }
    )
    w.session.wait_for("conversation.item.truncated", timeout=TIMEOUT, after=mark)
    truncates = [e for _, e in w.server.received if e.get("type") == "conversation.item.truncate"]
    assert len(truncates) == 1
    assert truncates[0]["item_id"] == item
    assert truncates[0]["audio_end_ms"] == samples * 1000 // 24_000 == 514
    assert w.conversation.item(item).truncated_at_ms == 514
    assert w.played_ms(item) == pytest.approx(samples / 24)
    wait_until(lambda: w.stats.get("interrupts") == 1, what="the interrupt count")
    wait_until(lambda: any(t["interrupted"] for t in w._transcript), what="the transcript")


def test_stop_audio_truncates_clamped_to_the_audio_received(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.ready()
    response = w.ask("hello there")
    item = w.conversation.responses[response.id].output_item_ids[0]
    view.msg({"type": bridge.COMMAND, "name": "stop_audio", "args": {}})
    wait_until(lambda: view.of(bridge.FLUSH), what="a flush")
    assert view.of(bridge.FLUSH)[0][0]["reason"] == "user"
    mark = w.events.last_seq
    view.msg(
        {
            "type": bridge.PLAYED,
            "item_id": item,
            "samples": 10**7,  # more than was ever received: never claim more than that
            "received": 10**7,
            "reason": "interrupted",
            "t_first": None,
        }
    )
    done = w.session.wait_for("conversation.item.truncated", timeout=TIMEOUT, after=mark)
    assert done["audio_end_ms"] == len(response.audio) * 1000 // 24_000
    assert w.error == ""


# --- push to talk -------------------------------------------------------------------------------
def test_push_to_talk_clears_commits_and_asks_for_a_response(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.ready()
    mark = w.events.last_seq
    busy = shared_loop()
    # A busy session loop must not reorder: frames after a press are not cleared, frames
    # before a release are in the turn, frames after it are not.
    busy.call_soon(time.sleep, 0.05)
    view.msg({"type": bridge.PTT, "action": "press"})
    speech = speech_like(0.5, seed=8)
    n = view.mic(speech)
    busy.call_soon(time.sleep, 0.05)
    view.msg({"type": bridge.PTT, "action": "release"})
    view.mic(speech_like(0.04, seed=13))
    done = w.session.wait_for("response.done", timeout=TIMEOUT, after=mark)
    assert done["response"]["status"] == "completed"
    types = [t for t in received_types(w.server) if t != "session.update"]
    assert types[: n + 2] == [
        "input_audio_buffer.clear",
        *["input_audio_buffer.append"] * n,
        "input_audio_buffer.commit",
    ]
    assert sorted(types[n + 2 :]) == ["input_audio_buffer.append", "response.create"]
    committed = w.events.filter(type="input_audio_buffer.committed")[-1]
    assert w.conversation.item(committed.item_id).audio().tobytes() == speech.tobytes()
    assert w.error == ""


def mic_on(view: View) -> None:
    view.msg(
        {"type": bridge.MIC_STATE, "state": "on", "error": None, "message": None,
         "settings": {}, "context_rate": 48000}
    )  # fmt: skip


def test_push_to_talk_too_short_shows_an_error_and_nothing_breaks(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.ready()
    mic_on(view)
    view.msg({"type": bridge.PTT, "action": "press"})
    view.mic(speech_like(0.05, seed=9))  # 50 ms
    view.msg({"type": bridge.PTT, "action": "release"})
    wait_until(lambda: "100 ms" in w.error, what="the error banner")
    assert "50 ms" in w.error
    assert "response.create" not in received_types(w.server)
    assert w.events.filter(type="local.widget_error")
    # the widget still works
    assert w.ask("still there?").status == "completed"


# --- requests, commands, state ----------------------------------------------------------------
def test_get_event_and_ping_are_answered(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.ready()
    w.ask("hi")
    delta = w.events.filter(type="response.output_audio.delta")[0]
    view.msg({"type": bridge.GET_EVENT, "request_id": 7, "seq": delta.seq})
    view.msg({"type": bridge.GET_EVENT, "request_id": 8, "seq": 10**9})
    view.msg({"type": bridge.PING, "request_id": 9, "t": 123.5})
    wait_until(lambda: len(view.of(bridge.EVENT_JSON)) == 2 and view.of(bridge.PONG))
    found, missing = (c for c, _ in view.of(bridge.EVENT_JSON))
    assert found["request_id"] == 7 and found["seq"] == delta.seq and found["error"] is None
    assert found["payload"] == json.loads(json.dumps(delta.payload))
    assert found["payload"]["delta"]["audio_bytes"] > 0  # a marker, never base64
    assert missing["request_id"] == 8 and missing["payload"] is None and missing["error"]
    pong = view.of(bridge.PONG)[0][0]
    assert pong["request_id"] == 9 and pong["t"] == 123.5
    assert abs(pong["t_kernel"] - time.time() * 1000) < 5000


def test_get_event_as_sent_puts_the_base64_audio_back(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.ready()
    w.ask("hi")
    deltas = w.events.filter(type="response.output_audio.delta")
    item = deltas[0].item_id
    view.msg({"type": bridge.GET_EVENT, "request_id": 1, "seq": deltas[1].seq, "original": True})
    append = w.events.filter(type="conversation.item.create")[0]
    view.msg({"type": bridge.GET_EVENT, "request_id": 2, "seq": append.seq, "original": True})
    wait_until(lambda: len(view.of(bridge.EVENT_JSON)) == 2)
    sent, refused = (c for c, _ in view.of(bridge.EVENT_JSON))
    assert sent["error"] is None and isinstance(sent["payload"]["delta"], str)
    pcm = base64.b64decode(sent["payload"]["delta"])
    offset = deltas[0].audio_bytes
    assert pcm == w.item_audio(item).tobytes()[offset : offset + deltas[1].audio_bytes]
    assert isinstance(deltas[1].payload["delta"], dict)  # the log keeps its marker
    assert refused["payload"] is None and "no audio" in refused["error"]


def test_an_answer_before_the_first_view_is_played_when_it_comes(make: Callable) -> None:
    """w.ask in the cell that displays w (or marimo, which renders after the cell): the
    answer's audio is held for the first view, within a stated bound."""
    w, view = make(turn_detection=None)
    r = w.ask("hi")  # no view yet
    assert view.of(bridge.AUDIO) == []
    view.ready()
    wait_until(lambda: view.of(bridge.AUDIO), what="the held audio")
    wait_until(lambda: sum(len(b[0]) for _, b in view.of(bridge.AUDIO)) >= r.audio.nbytes)
    sent = b"".join(b[0] for _, b in view.of(bridge.AUDIO))
    assert sent == r.audio.tobytes()


def test_held_audio_is_bounded_and_goes_stale(
    make: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widget_module, "PENDING_AUDIO_MAX_BYTES", 9600)  # 200 ms
    w, view = make(turn_detection=None)
    r = w.ask("hi")
    view.ready()
    wait_until(lambda: view.of(bridge.AUDIO), what="the held audio")
    sent = b"".join(b[0] for c, b in view.of(bridge.AUDIO))
    assert 0 < len(sent) <= 9600
    assert sent == r.audio.tobytes()[-len(sent) :]  # the newest audio is kept

    monkeypatch.setattr(widget_module, "PENDING_AUDIO_MAX_AGE_S", 0.0)
    w2, view2 = make(turn_detection=None)
    w2.ask("hi")
    view2.ready()
    wait_until(lambda: view2.of(bridge.ROWS), what="the view served")
    time.sleep(0.3)
    assert view2.of(bridge.AUDIO) == []  # too old to play: the view stays silent


def test_rows_sent_before_their_turn_was_known_get_it_later(make: Callable) -> None:
    """Push-to-talk frames join a turn only at the commit: the views learn it then."""
    w, view = make(turn_detection=None)
    view.ready()
    view.msg({"type": bridge.PTT, "action": "press"})
    view.mic(speech_like(1.0, seed=3))
    time.sleep(0.3)  # the frames' rows reach the view before the release
    view.msg({"type": bridge.PTT, "action": "release"})
    wait_until(lambda: w.events.filter(type="response.done"), what="the answer")

    def late() -> dict[str, int]:
        found: dict[str, int] = {}
        for c, _ in view.of(bridge.ROWS):
            found.update(c.get("turns", {}))
        return found

    sent_without = [
        r["seq"]
        for c, _ in view.of(bridge.ROWS)
        for r in c["rows"]
        if r["turn"] is None and r["type"] == "input_audio_buffer.append"
    ]
    assert sent_without, "the frames' rows went out before the commit"
    wait_until(lambda: all(str(seq) in late() for seq in sent_without), what="their turns")
    assert {late()[str(seq)] for seq in sent_without} == {1}
    assert all(w.events.turn_of(seq) == 1 for seq in sent_without)


def test_transcript_entries_carry_their_turn(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.ready()
    w.ask("hi")
    w.ask("again")
    entries = wait_until(
        lambda: [e for e in w._transcript if e.get("turn") is not None] and w._transcript,
        what="transcript with turns",
    )
    by_role = [(e["role"], e["turn"]) for e in entries]
    assert by_role == [("user", 1), ("assistant", 1), ("user", 2), ("assistant", 2)]


def test_commands(make: Callable) -> None:
    w, view = make()
    view.ready()

    def command(name: str, **args: Any) -> None:
        view.msg({"type": bridge.COMMAND, "name": name, "args": args})

    def td() -> Any:
        return w.session.session_config["audio"]["input"]["turn_detection"]

    command("set_mode", mode="push_to_talk")
    wait_until(lambda: td() is None, what="push to talk")
    assert (w.mode, w.turn_detection) == ("push_to_talk", None)
    command("set_mode", mode="hands_free")
    wait_until(lambda: td() is not None, what="hands free")
    assert w.turn_detection == "server_vad"
    command("set_threshold", value=0.7)
    wait_until(lambda: td()["threshold"] == 0.7, what="the threshold")
    assert w.vad_threshold == 0.7
    w.turn_detection = "semantic_vad"  # from a cell
    wait_until(lambda: td()["type"] == "semantic_vad", what="semantic VAD")

    mark = w.events.last_seq
    command("send_text", text="typed in the box")
    done = w.session.wait_for("response.done", timeout=TIMEOUT, after=mark)
    assert "typed in the box" in w.session.async_session.response(done["response"]["id"]).text + (
        w.session.async_session.response(done["response"]["id"]).transcript
    )

    command("clear_log")
    cleared = wait_until(lambda: [c for c, _ in view.of(bridge.ROWS) if c["replace"]][1:])
    assert cleared[0]["rows"] == [] and cleared[0]["total"] == len(w.events)
    view.ready()  # a view rendered later sees only rows after the clear
    again = wait_until(lambda: [c for c, _ in view.of(bridge.ROWS) if c["replace"]][2:])
    assert all(r["seq"] > cleared[0]["total"] for r in again[0]["rows"])

    command("cancel")  # nothing active: harmless
    command("make_coffee")
    wait_until(lambda: "make_coffee" in w.error, what="the unknown command")
    command("set_threshold", value=3)
    wait_until(lambda: "threshold" in w.error, what="the bad threshold")
    assert td()["type"] == "semantic_vad"
    errors = w.events.filter(type="local.widget_error")
    assert len(errors) == 2


def test_mic_state_sets_the_traits(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.msg(
        {
            "type": bridge.MIC_STATE,
            "state": "error",
            "error": "permission_denied",
            "message": "Allow the microphone in the address bar, then press Start mic again.",
            "settings": {},
            "context_rate": 48000,
        }
    )
    wait_until(lambda: w.mic_state == "error", what="the error state")
    assert w.mic_error == "permission_denied" and "Allow the microphone" in w.error
    view.msg(
        {
            "type": bridge.MIC_STATE,
            "state": "on",
            "error": None,
            "message": None,
            "settings": {"sampleRate": 48000, "echoCancellation": True},
            "context_rate": 44100,
        }
    )
    wait_until(lambda: w.mic_state == "on", what="the on state")
    assert w.mic_error == "" and w.mic_settings["context_rate"] == 44100


def test_comm_handlers_on_foreign_threads(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.ready()
    speech = speech_like(0.4, seed=10)
    frames: list[int] = []

    def subshell(i: int) -> None:
        if i == 0:
            frames.append(view.mic(speech))
        else:
            view.msg({"type": bridge.PING, "request_id": i, "t": 0})

    threads = [threading.Thread(target=subshell, args=(i,), name=f"subshell-{i}") for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_until(lambda: len(appends(w.server)) == frames[0], what="the frames")
    pcm = b"".join(audio.b64decode_audio(e["audio"]) for e in appends(w.server))
    assert pcm == speech.tobytes()
    wait_until(lambda: len(view.of(bridge.PONG)) == 2, what="the pongs")
    wait_until(lambda: {"subshell-0", "subshell-1", "subshell-2"} <= set(w.stats["comm_threads"]))


def test_bad_messages_become_error_rows_never_exceptions(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.msg({"type": "teleport"})
    view.msg({"type": bridge.MIC_FRAME, "seq": 0, "t_capture": 0, "level": 0})  # no buffer
    view.msg({"type": bridge.PLAYED, "item_id": 5, "samples": -1})
    view.msg({"type": bridge.PTT, "action": "wiggle"})
    wait_until(lambda: len(w.events.filter(type="local.widget_error")) == 4, what="4 rows")
    assert w.session.connected


# --- secrets and cleanup ------------------------------------------------------------------------
def test_the_api_key_never_leaves_the_kernel_session(make: Callable) -> None:
    key = "sk-test-SECRET-0123456789abcdef"
    with LocalServer(api_key=key, audio_speed=float("inf")) as srv:
        w, view = make(url=srv.url, api_key=key, server_options=None)
        assert not w.offline and w.server is None
        view.ready()
        view.mic(speech_like(0.2, seed=11))
        w.ask("hello")
        for row in list(w.events)[:5]:
            view.msg({"type": bridge.GET_EVENT, "request_id": row.seq, "seq": row.seq})
        view.msg({"type": bridge.PING, "request_id": 1, "t": 0})
        wait_until(lambda: view.of(bridge.PONG) and len(view.of(bridge.EVENT_JSON)) == 5)
        time.sleep(0.25)  # a rows batch and a traits refresh
        secret = key.encode()
        for content, buffers in view.sent:
            assert secret not in json.dumps(content).encode()
            assert all(secret not in b for b in buffers)
        assert key not in json.dumps(w.get_state(), default=str)
        assert key not in repr(w) and key not in repr(w.session)
        for row in w.events:
            assert key not in json.dumps(row.to_dict(), default=str)
        assert key not in json.dumps([w.stats, w._transcript, w.views_info], default=str)
        assert key not in json.dumps(w.latency())
        w.close()


def test_close_leaves_no_task_or_thread_behind(make: Callable) -> None:
    w, view = make()
    view.ready()
    srv = w.server
    assert srv is not None
    w.ask("hi")
    view.msg({"type": bridge.PTT, "action": "press"})
    w.close()
    w.close()  # idempotent
    assert w.status == "closed" and not w.session.connected
    assert srv._thread is None and w.server is None

    async def ours() -> list[str]:
        mine = (w, w.session.async_session)
        return [
            t.get_name()
            for t in asyncio.all_tasks()
            if t is not asyncio.current_task()
            and getattr(t.get_coro(), "cr_frame", None) is not None
            and t.get_coro().cr_frame.f_locals.get("self") in mine
        ]

    assert shared_loop().run(ours(), timeout=5) == []
    leftovers = [
        t.name
        for t in threading.enumerate()
        if t.name.startswith("realtime-nb") and t is not shared_loop().thread
    ]
    assert leftovers == []
    # messages after close are ignored, never raised
    view.msg({"type": bridge.PING, "request_id": 1, "t": 0})
    view.mic(speech_like(0.04, seed=12))


def test_close_from_a_callback_on_the_session_loop_does_not_deadlock(make: Callable) -> None:
    w, _ = make(turn_detection=None)
    w.session.call_soon(w.close)
    wait_until(lambda: not w.session.connected and w.server is None, what="the close")
    assert w.status == "closed"


def test_the_front_end_closing_the_comm_closes_the_session(make: Callable) -> None:
    w, _ = make(turn_detection=None)
    assert w.session.connected
    w.comm.handle_close({"content": {"data": {}}})
    assert not w.session.connected and w.server is None and w.status == "closed"


# --- push-to-talk errors name the cause ---------------------------------------------------------
def test_push_to_talk_while_muted_says_muted_and_a_good_turn_clears_it(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.ready()
    mic_on(view)
    w.muted = True
    view.msg({"type": bridge.PTT, "action": "press"})
    view.msg({"type": bridge.PTT, "action": "release"})
    wait_until(lambda: "muted" in w.error, what="the muted error")
    w.muted = False
    mark = w.events.last_seq
    view.msg({"type": bridge.PTT, "action": "press"})
    view.mic(speech_like(0.4, seed=3))
    view.msg({"type": bridge.PTT, "action": "release"})
    w.session.wait_for("response.done", timeout=TIMEOUT, after=mark)
    wait_until(lambda: w.error == "", what="the error to clear after a good turn")


def test_push_to_talk_with_the_mic_off_says_so(make: Callable) -> None:
    w, view = make(turn_detection=None)
    view.ready()
    view.msg({"type": bridge.PTT, "action": "press"})
    view.msg({"type": bridge.PTT, "action": "release"})
    wait_until(lambda: "microphone was not on" in w.error, what="the mic-off error")


# --- defaults, settings panel ---------------------------------------------------------------------
def test_defaults_do_not_split_sentences_and_transcribe_the_user(make: Callable) -> None:
    w, view = make()
    td = w.session.session_config["audio"]["input"]["turn_detection"]
    assert td["silence_duration_ms"] == 600
    assert w.session.session_config["audio"]["input"]["transcription"]["model"] == "gpt-transcribe"
    view.ready()
    mark = w.events.last_seq
    view.mic(utterance(0.8, seed=4))
    w.session.wait_for(
        "conversation.item.input_audio_transcription.completed", timeout=TIMEOUT, after=mark
    )
    # the panel's view of the session says the same
    assert w.session_config["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 600
    assert set(w.settings_options) >= {"voices", "transcription_models", "eagerness"}


def test_no_transcription_when_asked(make: Callable) -> None:
    w, _ = make(input_transcription=None)
    assert w.session.session_config["audio"]["input"]["transcription"] is None


def update(view: View, session: dict[str, Any]) -> None:
    view.msg({"type": bridge.UPDATE_SESSION, "session": session})


def client_updates(w: RealtimeWidget, after: int) -> list[dict[str, Any]]:
    return [
        r.payload["session"]
        for r in w.events.since(after)
        if r.direction == "client" and r.type == "session.update"
    ]


def test_a_settings_change_sends_the_session_update_and_the_panel_follows(make: Callable) -> None:
    w, view = make()
    view.ready()
    mark = w.events.last_seq
    td = {
        "type": "server_vad",
        "threshold": 0.7,
        "prefix_padding_ms": 200,
        "silence_duration_ms": 900,
    }
    update(view, {"audio": {"input": {"turn_detection": td, "transcription": None}}})
    wait_until(
        lambda: w.session_config["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 900,
        what="session.updated in the panel's trait",
    )
    sent = client_updates(w, mark)
    assert len(sent) == 1
    assert sent[0]["audio"]["input"]["turn_detection"] == td
    assert sent[0]["audio"]["input"]["transcription"] is None
    assert w.session_config["audio"]["input"]["transcription"] is None
    assert w.settings_errors == {}
    assert (w.mode, w.vad_threshold) == ("hands_free", 0.7)  # the old controls follow too
    mark = w.events.last_seq
    update(
        view, {"audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}}}
    )
    wait_until(lambda: w.turn_detection == "semantic_vad", what="semantic VAD")
    assert client_updates(w, mark)[0]["audio"]["input"]["turn_detection"]["eagerness"] == "low"
    assert w.session_config["audio"]["input"]["turn_detection"]["eagerness"] == "low"


def test_out_of_range_values_are_shown_by_their_field_and_nothing_is_sent(make: Callable) -> None:
    w, view = make()
    view.ready()
    mark = w.events.last_seq
    bad = {
        "type": "server_vad",
        "threshold": 1.5,
        "silence_duration_ms": -5,
        "prefix_padding_ms": "x",
    }
    update(view, {"audio": {"input": {"turn_detection": bad}, "output": {"voice": "robot"}}})
    wait_until(lambda: w.settings_errors, what="settings errors")
    assert set(w.settings_errors) == {
        "threshold",
        "silence_duration_ms",
        "prefix_padding_ms",
        "voice",
    }
    assert "0 to 1" in w.settings_errors["threshold"]
    time.sleep(0.2)
    assert client_updates(w, mark) == []
    # a good change afterwards clears them
    update(view, {"instructions": "Be brief."})
    wait_until(lambda: w.session_config.get("instructions") == "Be brief.", what="instructions")
    assert w.settings_errors == {}


def test_the_server_refusing_an_update_is_shown_in_the_panel(make: Callable) -> None:
    w, view = make()
    view.ready()
    update(view, {"audio": {"output": {"speed": 5.0}}})  # not a panel field: the server checks
    wait_until(lambda: "_" in w.settings_errors, what="the server's refusal")
    assert "speed" in w.settings_errors["_"]
    assert w.session_config["audio"]["output"].get("speed") != 5.0


def test_the_panel_shows_changes_made_from_python(make: Callable) -> None:
    w, _ = make()
    w.update_session(instructions="Answer in French.", output_modalities=["text"])
    wait_until(lambda: w.session_config.get("output_modalities") == ["text"], what="the trait")
    assert w.session_config["instructions"] == "Answer in French."


# --- totals, turns on rows ------------------------------------------------------------------------
def test_totals_count_tokens_and_the_context_window(make: Callable) -> None:
    w, view = make()
    view.ready()
    w.ask("hello there")
    wait_until(lambda: w.totals.get("total_tokens"), what="totals")
    assert w.totals["total_tokens"] == sum(u.total_tokens for u in w.events.usage())
    assert w.totals["context_window"] > 0


def test_rows_carry_their_turn_field(make: Callable) -> None:
    w, view = make()
    view.ready()
    w.ask("hello")
    rows = wait_until(lambda: view.of(bridge.ROWS), what="rows")
    assert all("turn" in r for content, _ in rows for r in content["rows"])


# --- recovery ------------------------------------------------------------------------------------
def test_a_closed_session_is_shown_and_reconnect_opens_a_new_one(make: Callable) -> None:
    w, view = make()
    view.ready()
    first = w.session
    first.loop.run(first.async_session.close(), timeout=TIMEOUT)
    wait_until(lambda: w.status == "closed", what="status closed")
    view.msg({"type": bridge.COMMAND, "name": "reconnect", "args": {}})
    wait_until(lambda: w.status == "connected" and w.session is not first, what="a new session")
    assert w.previous_sessions == [first]
    assert (
        w.session.session_config["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 600
    )
    assert w.ask("are you back?").status == "completed"
    replaced = [c for c, _ in view.of(bridge.ROWS) if c["replace"]]
    assert len(replaced) >= 2  # the table was replaced with the new session's rows


def test_close_leaves_a_readable_record(make: Callable) -> None:
    w, view = make()
    view.ready()
    w.ask("remember this sentence")
    w.close()
    page = w.snapshot_html()
    assert "remember this sentence" in page
    assert "session.update" in page  # the event table
    assert "closed" in page
