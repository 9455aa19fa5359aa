"""conversation.py: the conversation state, fed the recorded streams of realtime-protocol.md §5."""

from __future__ import annotations

import base64
import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_nb import beta
from realtime_nb.conversation import Conversation
from realtime_nb.events import audio_marker, extract_audio
from realtime_nb.heard import heard_prefix

FIXTURES = Path(__file__).parent / "fixtures"
STREAMS = ("vad_turn.jsonl", "push_to_talk.jsonl", "barge_in.jsonl", "function_call_text.jsonl")


@cache
def _text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def frames(name: str) -> list[tuple[str, float, dict[str, Any], bytes | None]]:
    """``(direction, t, event with audio markers, decoded PCM)`` for each recorded frame."""
    out = []
    for line in _text(name).splitlines():
        raw = json.loads(line)
        event, pcm = extract_audio(raw["event"])
        out.append((raw["dir"], raw["t"], event, pcm))
    return out


def replay(name: str, **options: Any) -> Conversation:
    conv = Conversation(**options)
    for direction, t, event, pcm in frames(name):
        if direction == "server":
            conv.apply(event, pcm, t)
        else:
            conv.apply_client(event, pcm, t)
    return conv


def appended_stream(name: str) -> bytes:
    """All PCM the client appended, in order: the session's input stream."""
    return b"".join(
        pcm
        for d, _, e, pcm in frames(name)
        if d == "client" and e["type"] == "input_audio_buffer.append" and pcm
    )


def pcm(samples: np.ndarray) -> bytes:
    return samples.astype("<i2").tobytes()


def ident(prefix: str, name: str) -> str:
    return f"{prefix}_{name}{'0' * (21 - len(name))}"


VAD_U1, VAD_A1, VAD_R1 = (
    ident("item", "VadUser1"),
    ident("item", "VadAsst1"),
    ident("resp", "VadResp1"),
)
PTT_U1, PTT_A1 = ident("item", "PttUser1"), ident("item", "PttAsst1")
B_U1, B_A1, B_U2, B_A2 = (ident("item", f"Barge{x}") for x in ("User1", "Asst1", "User2", "Asst2"))
B_R1 = ident("resp", "BargeResp1")
F_U1, F_F1, F_O1, F_A2 = (ident("item", x) for x in ("FnUser1", "FnCall1", "FnOutput1", "FnAsst2"))
F_R1, F_R2 = ident("resp", "FnResp1"), ident("resp", "FnResp2")


# --- §5(b)–(f): what each recorded stream leaves behind ------------------------------------------
@pytest.mark.parametrize(
    ("name", "order", "transcript"),
    [
        ("vad_turn.jsonl", [VAD_U1, VAD_A1],
         [("user", "Hello there."), ("assistant", "Hi there! How can I help?")]),
        ("push_to_talk.jsonl", [PTT_U1, PTT_A1],
         [("user", ""), ("assistant", "Sure, here you go.")]),
        ("barge_in.jsonl", [B_U1, B_A1, B_U2, B_A2],
         [("user", ""), ("assistant", "One two three four five six seven"), ("user", ""),
          ("assistant", "Okay, stopping.")]),
        ("function_call_text.jsonl", [F_U1, F_F1, F_O1, F_A2],
         [("user", "What's the weather in Paris?"), ("assistant", "It is 21 °C in Paris.")]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("retain_audio", [True, False])
def test_items_and_transcript(
    name: str, order: list[str], transcript: list[tuple[str, str]], retain_audio: bool
) -> None:
    conv = replay(name, retain_audio=retain_audio)
    assert [i.id for i in conv.items] == order
    assert conv.transcript() == transcript
    assert conv.active_response_id is None
    assert all(r.status in ("completed", "cancelled") for r in conv.responses.values())
    assert conv.unknown_event_count == 0 and conv.malformed_event_count == 0


# item id -> (audio samples kept, exact bytes received, audio_ms) per stream; §3 of DESIGN.md
AUDIO = {
    "vad_turn.jsonl": {VAD_U1: (14_400, 28_800, 600.0), VAD_A1: (12_000, 24_000, 500.0)},
    "push_to_talk.jsonl": {PTT_U1: (9_600, 19_200, 400.0), PTT_A1: (7_200, 14_400, 300.0)},
    "barge_in.jsonl": {
        B_U1: (16_800, 33_600, 700.0),  # VAD span [100, 800) ms
        B_A1: (14_400, 38_400, 600.0),  # 800 ms received, truncated at 600 ms
        B_U2: (24_000, 48_000, 1000.0),  # VAD span [1500, 2500) ms
        B_A2: (2_880, 5_760, 120.0),
    },
    "function_call_text.jsonl": {F_U1: (0, 0, 0.0), F_A2: (0, 0, 0.0)},
}


@pytest.mark.parametrize("name", STREAMS)
@pytest.mark.parametrize("retain_audio", [True, False])
def test_audio_per_item(name: str, retain_audio: bool) -> None:
    conv = replay(name, retain_audio=retain_audio)
    for item_id, (samples, received, ms) in AUDIO[name].items():
        item = conv.item(item_id)
        assert item is not None
        assert item.audio().dtype == np.dtype("<i2")
        assert len(item.audio()) == (samples if retain_audio else 0)
        assert (item.audio_bytes_received, item.audio_ms) == (received, ms)
    if not retain_audio:
        assert conv.retained_audio_bytes == 0


@pytest.mark.parametrize(
    ("name", "item_id", "span_ms"),
    [
        ("vad_turn.jsonl", VAD_U1, (200, 800)),  # speech_started/stopped audio_*_ms
        ("barge_in.jsonl", B_U1, (100, 800)),
        ("barge_in.jsonl", B_U2, (1500, 2500)),
        ("push_to_talk.jsonl", PTT_U1, (250, 650)),  # after the cleared 250 ms, before the commit
    ],
)
def test_user_audio_is_the_committed_span_of_the_input_stream(
    name: str, item_id: str, span_ms: tuple[int, int]
) -> None:
    item = replay(name).item(item_id)
    assert item is not None
    start, end = (ms * 48 for ms in span_ms)
    assert pcm(item.audio()) == appended_stream(name)[start:end]


def test_input_buffer_left_pending() -> None:
    # VAD: appended 1000 ms, committed up to 800 ms. PTT: one 50 ms frame after the commit.
    assert replay("vad_turn.jsonl").pending_input_bytes == 200 * 48
    assert replay("push_to_talk.jsonl").pending_input_bytes == 50 * 48
    assert replay("barge_in.jsonl").input_bytes_total == 3000 * 48


def test_vad_times_on_the_user_item() -> None:
    item = replay("vad_turn.jsonl").item(VAD_U1)
    assert item is not None
    assert (item.vad_start_ms, item.vad_end_ms) == (200, 800)
    assert (item.transcript, item.transcript_final) == ("Hello there.", True)
    assert item.transcription_usage == {
        "type": "tokens", "input_tokens": 20, "output_tokens": 4, "total_tokens": 24,
        "input_token_details": {"text_tokens": 0, "audio_tokens": 20},
    }  # fmt: skip


def test_assistant_audio_is_the_deltas_in_order() -> None:
    conv = replay("vad_turn.jsonl")
    deltas = b"".join(
        p for _, _, e, p in frames("vad_turn.jsonl") if e["type"] == "response.output_audio.delta"
    )
    text, transcript, audio = conv.response_output(VAD_R1)
    assert (text, transcript) == ("", "Hi there! How can I help?")
    assert pcm(audio) == deltas and len(audio) == 12_000


def test_response_state() -> None:
    conv = replay("vad_turn.jsonl")
    r = conv.responses[VAD_R1]
    assert (r.status, r.output_item_ids, r.conversation_id) == (
        "completed", [VAD_A1], "conv_Fixture00000000000000",
    )  # fmt: skip
    assert (r.created_t, r.first_text_t, r.first_audio_t, r.done_t) == (1.25, 1.35, 1.375, 2.0)
    assert r.usage is not None and r.usage["input_tokens"] == 132
    assert conv.session["audio"]["input"]["transcription"] == {"model": "gpt-4o-mini-transcribe"}
    assert conv.rate_limits[0]["remaining"] == 38490


# --- §5(d) barge-in ------------------------------------------------------------------------------
@pytest.mark.parametrize("retain_audio", [True, False])
def test_barge_in_truncation(retain_audio: bool) -> None:
    conv = replay("barge_in.jsonl", retain_audio=retain_audio)
    a1 = conv.item(B_A1)
    assert a1 is not None
    assert (a1.status, a1.truncated_at_ms) == ("incomplete", 600)
    assert a1.transcript == "One two three four five six seven eight nine ten."
    # 600 of 800 ms heard: 75 % of the text, cut back to a word boundary
    assert a1.heard_transcript == "One two three four five six seven"
    assert len(a1.audio()) == (600 * 24 if retain_audio else 0)
    assert conv.audio_played_limit_ms(B_A1) == 600
    r1 = conv.responses[B_R1]
    assert (r1.status, r1.status_details) == (
        "cancelled", {"type": "cancelled", "reason": "turn_detected"},
    )  # fmt: skip
    _, transcript, audio = conv.response_output(B_R1)
    assert transcript == a1.transcript and len(audio) == len(a1.audio())


def test_truncated_audio_is_the_head_of_what_was_received() -> None:
    conv = replay("barge_in.jsonl")
    received = b"".join(
        p
        for _, _, e, p in frames("barge_in.jsonl")
        if e["type"] == "response.output_audio.delta" and e["item_id"] == B_A1
    )
    a1 = conv.item(B_A1)
    assert a1 is not None and pcm(a1.audio()) == received[: 600 * 48]


def test_played_limit_clamps_to_audio_received() -> None:
    conv = replay("vad_turn.jsonl")
    assert conv.audio_played_limit_ms(VAD_A1) == 500
    assert conv.audio_played_limit_ms("item_unknown") == 0
    conv.apply(
        {"type": "response.output_audio.delta", "item_id": VAD_A1, "delta": audio_marker(47)},
        b"\0" * 47,
    )
    assert conv.audio_played_limit_ms(VAD_A1) == 500  # floor: 47 bytes is under a millisecond


@pytest.mark.parametrize(
    ("transcript", "fraction", "heard"),
    [
        ("Hello there, how are you doing today?", 0.5, "Hello there, how"),
        ("Hello there, how are you doing today?", 1.0, "Hello there, how are you doing today?"),
        ("Hello there, how are you doing today?", 2.0, "Hello there, how are you doing today?"),
        ("Hello there, how are you doing today?", 0.0, ""),
        ("Hello there", 6 / 11, "Hello"),  # the cut falls on the space: keep the word before
        ("Supercalifragilistic", 0.9, ""),  # no word boundary before the cut
        ("", 0.5, ""),
    ],
)
def test_heard_prefix(transcript: str, fraction: float, heard: str) -> None:
    assert heard_prefix(transcript, fraction) == heard


# --- §5(e)/(f) function call and text ------------------------------------------------------------
def test_function_call_round_trip() -> None:
    conv = replay("function_call_text.jsonl")
    call, output = conv.item(F_F1), conv.item(F_O1)
    assert call is not None and output is not None
    assert (call.type, call.name, call.call_id, call.arguments, call.status) == (
        "function_call", "get_weather", "call_Weather000000001", '{"city": "Paris"}', "completed",
    )  # fmt: skip
    assert (output.type, output.call_id, output.output) == (
        "function_call_output", "call_Weather000000001", '{"temp_c": 21}',
    )  # fmt: skip
    assert conv.responses[F_R1].output_item_ids == [F_F1]
    assert conv.errors[0]["code"] == "conversation_already_has_active_response"
    text, transcript, audio = conv.response_output(F_R2)
    assert (text, transcript, audio.size) == ("It is 21 °C in Paris.", "", 0)
    assert conv.session["output_modalities"] == ["text"]


# --- ordering: previous_item_id ------------------------------------------------------------------
def _added(item_id: str, **extra: Any) -> dict[str, Any]:
    item = {"id": item_id, "type": "message", "role": "user", "content": []}
    return {"type": "conversation.item.added", "item": item, **extra}


@pytest.mark.parametrize(
    ("events", "order"),
    [
        ([_added("a"), _added("b"), _added("c")], ["a", "b", "c"]),
        ([_added("a"), _added("b", previous_item_id=None)], ["a", "b"]),
        ([_added("a"), _added("b"), _added("c", previous_item_id="root")], ["c", "a", "b"]),
        ([_added("a"), _added("b"), _added("c", previous_item_id="a")], ["a", "c", "b"]),
        ([_added("a"), _added("b", previous_item_id="nope")], ["a", "b"]),
        ([_added("a"), _added("b"), _added("a", previous_item_id="b")], ["b", "a"]),  # moved
        ([_added("a"), _added("b"), _added("b", previous_item_id="a")], ["a", "b"]),
        ([_added("a"), _added("a", previous_item_id="a")], ["a"]),
        ([_added("a"), _added("b"), {"type": "conversation.item.deleted", "item_id": "a"}], ["b"]),
    ],
)  # fmt: skip
def test_previous_item_id_places_items(events: list[dict[str, Any]], order: list[str]) -> None:
    conv = Conversation()
    for event in events:
        conv.apply(event)
    assert [i.id for i in conv.items] == order


def test_deleted_items_are_not_resurrected_by_late_deltas() -> None:
    conv = replay("vad_turn.jsonl")
    before = conv.retained_audio_bytes
    conv.apply({"type": "conversation.item.deleted", "item_id": VAD_A1})
    assert conv.item(VAD_A1) is None and [i.id for i in conv.items] == [VAD_U1]
    assert conv.retained_audio_bytes == before - 24_000
    conv.apply({"type": "response.output_audio.delta", "item_id": VAD_A1, "delta": "x"}, b"\0\0")
    assert conv.item(VAD_A1) is None


def test_retrieved_audio_replaces_the_items_audio() -> None:
    conv = replay("barge_in.jsonl")
    tone = (np.arange(600 * 24) % 100).astype("<i2")
    event = {"type": "conversation.item.retrieved", "event_id": "e", "item": {
        "id": B_A1, "type": "message", "role": "assistant", "status": "incomplete",
        "content": [{"type": "output_audio", "audio": base64.b64encode(pcm(tone)).decode(),
                     "transcript": ""}]}}  # fmt: skip
    event, data = extract_audio(event)
    conv.apply(event, data)
    a1 = conv.item(B_A1)
    assert a1 is not None
    assert np.array_equal(a1.audio(), tone) and a1.audio_bytes_received == 600 * 48
    assert a1.heard_transcript == "One two three four five six seven"  # not wiped by ""


# --- retention -----------------------------------------------------------------------------------
def test_retention_releases_the_oldest_items_first() -> None:
    # 2 s of PCM across items and the pending input: U1 and A1 go while U2 is being spoken.
    conv = Conversation(max_audio_seconds=2.0)
    limit = 2 * 48_000
    for direction, t, event, data in frames("barge_in.jsonl"):
        (conv.apply if direction == "server" else conv.apply_client)(event, data, t)
        assert conv.retained_audio_bytes <= limit
    released = {i.id: i.audio_released for i in conv.items}
    assert released == {B_U1: True, B_A1: True, B_U2: False, B_A2: False}
    exact = {i.id: i.audio_bytes_received for i in conv.items}
    assert exact == {B_U1: 33_600, B_A1: 38_400, B_U2: 48_000, B_A2: 5_760}
    assert conv.item(B_U1).audio().size == 0  # type: ignore[union-attr]


def test_vad_idle_input_is_not_kept() -> None:
    conv = Conversation()
    conv.apply({"type": "session.created", "session": {"type": "realtime", "audio": {
        "input": {"turn_detection": {"type": "server_vad"}}}}})  # fmt: skip
    frame = b"\0" * 4800
    for _ in range(200):  # 20 s of silence
        conv.apply_client({"type": "input_audio_buffer.append"}, frame)
    assert conv.input_bytes_total == conv.pending_input_bytes == 200 * 4800
    assert conv.retained_audio_bytes <= 5000 * 48 + 4800
    # push-to-talk keeps everything until the commit
    ptt = Conversation()
    for _ in range(200):
        ptt.apply_client({"type": "input_audio_buffer.append"}, frame)
    assert ptt.retained_audio_bytes == 200 * 4800


@pytest.mark.parametrize(
    ("event", "audio", "total"),
    [
        ({"type": "input_audio_buffer.append", "audio": audio_marker(960)}, None, 960),
        ({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"ab" * 10).decode()},
         None, 20),
        ({"type": "input_audio_buffer.append", "audio": "%%%"}, None, 0),
        ({"type": "input_audio_buffer.append"}, b"\1\0" * 24, 48),
        ({"type": "session.update", "session": {}}, None, 0),
    ],
)  # fmt: skip
def test_apply_client_counts_appended_audio(
    event: dict[str, Any], audio: bytes | None, total: int
) -> None:
    conv = Conversation()
    conv.apply_client(event, audio)
    assert conv.input_bytes_total == total


def test_server_cleared_without_our_clear_drops_pending() -> None:
    conv = Conversation()
    conv.apply_client({"type": "input_audio_buffer.append"}, b"\0" * 960)
    conv.apply({"type": "input_audio_buffer.cleared", "event_id": "e"})
    assert conv.pending_input_bytes == 0 and conv.retained_audio_bytes == 0


# --- leniency -------------------------------------------------------------------------------------
def test_unknown_and_known_but_stateless_events() -> None:
    conv = Conversation()
    conv.apply({"type": "brand.new_event"})
    conv.apply({"no": "type"})
    conv.apply({"type": ["not", "a", "string"]})
    conv.apply({"type": "response.output_audio.done", "item_id": "x"})  # known, no state
    conv.apply({"type": "output_audio_buffer.started", "response_id": "r"})
    assert conv.unknown_event_count == 3 and conv.items == []


def test_beta_events_work_once_normalised() -> None:
    conv = Conversation()
    for event in [
        {"type": "response.created", "response": {"id": "r", "status": "in_progress"}},
        {"type": "response.audio_transcript.delta", "response_id": "r", "item_id": "a",
         "delta": "Hi"},
        {"type": "response.audio.delta", "response_id": "r", "item_id": "a",
         "delta": base64.b64encode(b"\0" * 480).decode()},
        {"type": "conversation.item.created", "item": {"id": "a", "type": "message",
         "role": "assistant", "content": [{"type": "audio", "transcript": "Hi"}]}},
    ]:  # fmt: skip
        event, data = extract_audio(beta.normalize_server_event(event))
        conv.apply(event, data)
    a = conv.item("a")
    assert a is not None and (a.transcript, a.audio_bytes_received) == ("Hi", 480)
    assert a.content[0]["type"] == "output_audio"


def test_out_of_band_response_items_stay_out_of_the_conversation() -> None:
    conv = Conversation()
    response = {"id": "r", "status": "in_progress", "conversation_id": None}
    conv.apply({"type": "response.created", "response": response})
    item = {"id": "oob", "type": "message", "role": "assistant", "content": []}
    conv.apply({"type": "response.output_item.added", "response_id": "r", "item": item})
    conv.apply({"type": "response.output_text.delta", "response_id": "r", "item_id": "oob",
                "delta": "positive"})  # fmt: skip
    assert conv.items == [] and conv.transcript() == []
    assert conv.response_output("r")[0] == "positive"


@pytest.mark.parametrize("name", STREAMS)
def test_apply_never_mutates_events(name: str) -> None:
    conv = Conversation()
    for direction, t, event, data in frames(name):
        before = copy.deepcopy(event)
        (conv.apply if direction == "server" else conv.apply_client)(event, data, t)
        assert event == before


# --- properties: any order, any subset, junk mixed in ---------------------------------------------
def _server_pool() -> list[tuple[dict[str, Any], bytes | None]]:
    return [(e, p) for name in STREAMS for d, _, e, p in frames(name) if d == "server"]


POOL = _server_pool()
JUNK: list[Any] = [
    None, 0, -5, 10**12, True, "x", "", [], {}, [1, 2], {"id": None}, {"id": 3}, {"id": "root"},
    [{"type": [1]}], [{"type": "output_audio", "transcript": 5}], [{"audio": 5}, None],
    {"type": {"x": 1}, "text": ["a"]}, [{"type": "input_text", "text": "hi"}],
]  # fmt: skip
TOP_KEYS = ["item_id", "response_id", "item", "response", "delta", "part", "content_index",
            "audio_end_ms", "audio_start_ms", "previous_item_id", "session", "error",
            "transcript", "text", "arguments", "name", "call_id", "type"]  # fmt: skip
NESTED = [
    *[("item", k) for k in ("id", "content", "type", "role", "status", "arguments")],
    *[("response", k) for k in ("id", "status", "output", "usage", "conversation_id")],
    *[("part", k) for k in ("type", "text", "transcript", "audio")],
]


@st.composite
def junk_events(draw: st.DrawFn) -> tuple[dict[str, Any], bytes | None]:
    """A fixture event with one field removed or replaced by junk, or an unknown event."""
    kind = draw(st.sampled_from(["drop", "set", "nested", "unknown"]))
    if kind == "unknown":
        return {"type": draw(st.text(max_size=12)), "item_id": draw(st.sampled_from(JUNK))}, None
    event, data = POOL[draw(st.integers(0, len(POOL) - 1))]
    event = copy.deepcopy(event)
    if kind == "drop":
        event.pop(draw(st.sampled_from(TOP_KEYS)), None)
    elif kind == "set":
        key = draw(st.sampled_from(TOP_KEYS))
        if key != "type":
            event[key] = draw(st.sampled_from(JUNK))
    else:
        outer, key = draw(st.sampled_from(NESTED))
        if isinstance(event.get(outer), dict):
            event[outer][key] = draw(st.sampled_from(JUNK))
    return event, data


def check_invariants(conv: Conversation, fed: list[tuple[dict[str, Any], bytes | None]]) -> None:
    ids = [i.id for i in conv.items]
    assert len(ids) == len(set(ids))
    assert all(conv.item(i.id) is i for i in conv.items)
    deleted = {e.get("item_id") for e, _ in fed if e.get("type") == "conversation.item.deleted"}
    expected: dict[str, int] = {}
    for event, data in fed:
        item_id = event.get("item_id")
        if event.get("type") == "response.output_audio.delta" and isinstance(item_id, str):
            expected[item_id] = expected.get(item_id, 0) + len(data or b"")
    for item_id, nbytes in expected.items():
        item = conv.item(item_id)
        if item_id not in deleted and nbytes:
            assert item is not None and item.audio_bytes_received == nbytes
    retained = 0
    for item in conv.items:
        assert item.audio_bytes_received >= 0 and item.audio_ms >= 0
        assert item.truncated_at_ms is None or item.truncated_at_ms >= 0
        assert item.audio().nbytes <= item.audio_bytes_received
        assert conv.audio_played_limit_ms(item.id) >= 0
        retained += item.audio().nbytes
    assert conv.retained_audio_bytes >= retained >= 0
    assert conv.active_response_id is None or conv.active_response_id in conv.responses
    for state in conv.responses.values():
        assert len(state.output_item_ids) == len(set(state.output_item_ids))
    for role, text in conv.transcript():
        assert isinstance(role, str) and isinstance(text, str)


OPTIONS = st.sampled_from(
    [{}, {"retain_audio": False}, {"max_audio_seconds": 0.1}, {"max_audio_seconds": None}]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(STREAMS), data=st.data(), options=OPTIONS)
def test_any_order_of_a_stream(name: str, data: st.DataObject, options: dict[str, Any]) -> None:
    stream = [(e, p) for d, _, e, p in frames(name) if d == "server"]
    order = data.draw(st.permutations(range(len(stream))))
    conv = Conversation(**options)
    fed = [stream[i] for i in order]
    for event, pcm_ in fed:
        conv.apply(event, pcm_)
    check_invariants(conv, fed)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(
        st.one_of(st.integers(0, len(POOL) - 1).map(lambda i: POOL[i]), junk_events()),
        max_size=120,
    ),
    options=OPTIONS,
)
def test_random_subsets_with_junk_never_raise(
    picks: list[tuple[dict[str, Any], bytes | None]], options: dict[str, Any]
) -> None:
    conv = Conversation(**options)
    for event, data in picks:
        conv.apply(event, data, 1.0)
    check_invariants(conv, picks)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(STREAMS[:3]), data=st.data(), options=OPTIONS)
def test_input_accounting_in_any_order(
    name: str, data: st.DataObject, options: dict[str, Any]
) -> None:
    """Client appends/commits/clears and server VAD events shuffled: bytes are never invented."""
    stream = frames(name)
    order = data.draw(st.permutations(range(len(stream))))
    conv = Conversation(**options)
    for i in order:
        direction, t, event, pcm_ = stream[i]
        (conv.apply if direction == "server" else conv.apply_client)(event, pcm_, t)
    users = [i for i in conv.items if i.role == "user"]
    committed = sum(i.audio_bytes_received for i in users)
    assert conv.input_bytes_total == len(appended_stream(name))
    assert conv.pending_input_bytes >= 0
    assert committed + conv.pending_input_bytes <= len(appended_stream(name))
    kept = sum(i.audio().nbytes for i in conv.items)
    assert 0 <= conv.retained_audio_bytes - kept <= conv.pending_input_bytes


# --- readable reprs -----------------------------------------------------------------------------
def test_the_conversation_repr_is_a_transcript_with_tools_and_cuts() -> None:
    from tests.test_timeline import FORECAST, WEATHER, conversation

    conv = conversation().client.conversation
    text = repr(conv)
    lines = text.splitlines()
    assert lines[0] == "Conversation(11 items, 5 responses, 1 error)"
    assert lines[1] == "  user: (audio 1.0 s, no transcript)"
    cut = next(i for i in conv.items if i.truncated_at_ms is not None)
    assert (
        f"  assistant: {cut.heard_transcript!r} ✂ cut at 600 ms (generated: {cut.transcript!r})"
        in lines
    )
    assert "  user: what is the weather in Paris?" in lines
    assert f"  tool: get_weather({WEATHER}) → {FORECAST}" in lines
    # the output is shown with its call, not as a line of its own
    assert sum(1 for line in lines if line.startswith("  tool:")) == 1
    html = conv._repr_html_()
    assert "get_weather" in html and "✂ cut at 600 ms" in html and "generated:" in html
    assert "&quot;city&quot;" in html  # arguments are escaped


def test_a_call_waiting_for_its_result_says_so_and_long_transcripts_are_cut() -> None:
    from realtime_nb.conversation.view import REPR_ITEMS

    conv = Conversation()
    conv.apply({"type": "conversation.item.added", "item": {"id": "c1", "type": "function_call",
                "name": "lookup", "call_id": "call_1", "arguments": "{}"}})  # fmt: skip
    assert repr(conv).splitlines()[-1] == "  tool: lookup({}) → …"
    assert "waiting for the result" in conv._repr_html_()
    for i in range(REPR_ITEMS + 5):
        content = [{"type": "input_text", "text": f"q{i}"}]
        item = {"id": f"u{i}", "type": "message", "role": "user", "content": content}
        conv.apply({"type": "conversation.item.added", "item": item})
    lines = repr(conv).splitlines()
    assert lines[1] == "  … 6 earlier items" and len(lines) == REPR_ITEMS + 2
    assert lines[-1] == f"  user: q{REPR_ITEMS + 4}"


def test_the_response_repr_names_what_was_said_tools_timing_and_tokens() -> None:
    import math

    from realtime_nb import protocol
    from realtime_nb.response import build_response
    from realtime_nb.testing import MemoryPair
    from tests.test_timeline import responder

    pair = MemoryPair(audio_speed=math.inf, responder=responder)
    pair.request(protocol.item_create(protocol.user_text_item("weather in Paris?")))
    pair.request(protocol.response_create(None))
    rid = next(iter(pair.client.conversation.responses))
    response = build_response(pair.client.conversation, rid, t_start=0.0)
    lines = repr(response).splitlines()
    assert lines[0].startswith(f"Response {rid} · completed · ") and lines[0].endswith("s audio")
    assert lines[1] == "  said: 'Let me check.'"
    assert lines[2] == '  tool call: get_weather({"city": "Paris"})'
    assert lines[3].startswith("  timing: created 0 ms")
    usage = response.usage
    assert lines[4] == f"  tokens: {usage['input_tokens']} in, {usage['output_tokens']} out"
    html = response._repr_html_()
    assert "get_weather" in html and "Let me check." in html
