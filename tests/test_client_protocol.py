"""ClientProtocol against the stand-in's state machine in memory: no socket, no loop, no sleep.

Each test reads like the protocol rule it checks (realtime-protocol.md section in the name).
"""

from __future__ import annotations

import json
import math

import pytest

from realtime_nb import audio, protocol
from realtime_nb.client_protocol import ClientProtocol, transcript_entries
from realtime_nb.correlation import CORRELATION_KEY
from realtime_nb.errors import (
    AuthenticationError,
    ConnectionClosed,
    ModelNotFoundError,
    ServerError,
    SessionExpired,
    UsageError,
)
from realtime_nb.server import Reply
from realtime_nb.synth import utterance
from realtime_nb.testing import MemoryPair
from tests.schema import validate_client_event

PTT = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}


def by_instructions(ctx) -> Reply:
    """A responder that answers with the response's own instructions (tells responses apart)."""
    return Reply(text=str(ctx.params.get("instructions") or "default"))


def settled_reply(received: list, event_id: str) -> dict | None:
    for r in received:
        for item in r.settled:
            if getattr(item, "event_id", None) == event_id:
                return item.reply
    return None


# --- sending ----------------------------------------------------------------------------------
def test_nan_and_infinity_are_refused_locally_with_the_event_named() -> None:
    c = ClientProtocol()
    for bad in (math.nan, math.inf, -math.inf):
        event = protocol.session_update(
            {"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": bad}}}}
        )
        with pytest.raises(UsageError, match=r"session\.update.*NaN or Infinity"):
            c.request(event)
    with pytest.raises(UsageError, match="cannot carry"):
        c.prepare({"type": "response.create", "response": {"metadata": {"x": object()}}})
    assert len(c.requests) == 0  # nothing half-registered


def test_event_ids_are_unique_and_prefixed() -> None:
    c = ClientProtocol(event_id_prefix="evt_t_")
    ids = {c.prepare(protocol.input_audio_clear()).event_id for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("evt_t_") for i in ids)


def test_response_create_carries_the_correlation_key_and_keeps_user_metadata() -> None:
    c = ClientProtocol()
    out = c.request(protocol.response_create({"metadata": {"topic": "weather"}}))
    sent = json.loads(out.text)
    assert sent["response"]["metadata"] == {"topic": "weather", CORRELATION_KEY: out.event_id}
    validate_client_event(sent)
    full = {f"k{i}": "v" for i in range(16)}  # the API allows 16 pairs: no room for ours
    out = c.request(protocol.response_create({"metadata": full}))
    assert json.loads(out.text)["response"]["metadata"] == full
    assert out.request is not None and not out.request.correlated


# --- correlation (§2: replies do not carry the request's event_id) ----------------------------
def test_concurrent_out_of_band_responses_each_get_their_own_answer() -> None:
    pair = MemoryPair(responder=by_instructions, audio_speed=10.0)
    a = pair.client.request(
        protocol.response_create(
            {"conversation": "none", "instructions": "A", "output_modalities": ["text"]}
        )
    )
    b = pair.client.request(
        protocol.response_create(
            {"conversation": "none", "instructions": "B", "output_modalities": ["text"]}
        )
    )
    received = pair.send(a) + pair.send(b) + pair.run()
    created_a, created_b = settled_reply(received, a.event_id), settled_reply(received, b.event_id)
    assert created_a is not None and created_b is not None
    id_a, id_b = created_a["response"]["id"], created_b["response"]["id"]
    assert id_a != id_b
    text = {rid: pair.client.conversation.response_output(rid)[0] for rid in (id_a, id_b)}
    assert text == {id_a: "A", id_b: "B"}


def test_a_vad_response_is_never_taken_for_a_requested_one() -> None:
    pair = MemoryPair(audio_speed=math.inf)
    speech = utterance(speech_s=0.8, lead_silence_s=0.2, tail_silence_s=0.8, seed=1)
    out = pair.client.request(protocol.response_create({"instructions": "mine"}))
    # the VAD turn's response is created first; ours is answered after it
    received = []
    for i in range(0, len(speech), 960):
        chunk = pair.client.append_event(speech[i : i + 960].tobytes())
        assert chunk is not None
        received += pair.send(chunk) + pair.advance(0.04)
    received += pair.run()
    vad_created = [
        r.event for r in received if r.event["type"] == "response.created" and not r.settled
    ]
    assert vad_created, "the VAD made a response of its own"
    received += pair.send(out) + pair.run()
    mine = settled_reply(received, out.event_id)
    assert mine is not None
    assert mine["response"]["metadata"][CORRELATION_KEY] == out.event_id
    assert mine["response"]["id"] != vad_created[0]["response"]["id"]


def _created_without_metadata(n: int) -> str:
    response = {"id": f"resp_{n}", "status": "in_progress", "output": [], "metadata": None}
    return json.dumps({"type": "response.created", "event_id": f"e{n}", "response": response})


def test_without_a_metadata_echo_responses_are_matched_in_order_when_only_ours_exist() -> None:
    c = ClientProtocol()  # no turn detection known: the server creates no responses itself
    first = c.request(protocol.response_create(None))
    second = c.request(protocol.response_create(None))
    c.receive(_created_without_metadata(0), 0.0, 0.0)  # before anything was sent: not ours
    assert not first.request.settled
    c.sent(first, 0.0, 0.0)
    c.sent(second, 0.0, 0.0)
    for n in (1, 2):  # a compatible server that drops metadata
        c.receive(_created_without_metadata(n), 0.0, 0.0)
    assert c.requests.metadata_echoed is False
    assert first.request.reply["response"]["id"] == "resp_1"
    assert second.request.reply["response"]["id"] == "resp_2"


def test_with_vad_responses_a_response_without_our_key_is_not_ours() -> None:
    c = ClientProtocol()
    session = {"audio": {"input": {"turn_detection": {"type": "server_vad"}}}}
    c.receive(json.dumps({"type": "session.updated", "session": session}), 0.0, 0.0)
    mine = c.request(protocol.response_create(None))
    c.sent(mine, 0.0, 0.0)
    c.receive(_created_without_metadata(1), 0.0, 0.0)  # the VAD's response
    assert not mine.request.settled


def test_an_error_fails_exactly_the_request_it_names() -> None:
    pair = MemoryPair()
    good = pair.client.request(protocol.session_update({"type": "realtime", "instructions": "x"}))
    bad = pair.client.request(protocol.item_delete("item_does_not_exist"))
    received = pair.send(bad) + pair.send(good)
    assert bad.request.error is not None and bad.request.reply is None
    assert good.request.reply is not None and good.request.reply["type"] == "session.updated"
    assert isinstance(pair.client.failure(bad.request), ServerError)
    assert pair.client.failure(good.request) is None
    assert len(pair.client.requests) == 0
    assert [r.event["type"] for r in received] == ["error", "session.updated"]


def test_item_replies_are_matched_by_the_item_they_name() -> None:
    pair = MemoryPair()
    first = pair.client.request(protocol.item_create(protocol.user_text_item("one", "item_a1")))
    second = pair.client.request(protocol.item_create(protocol.user_text_item("two", "item_b2")))
    pair.send(second)
    assert second.request.settled and not first.request.settled
    pair.send(first)
    assert first.request.reply["item"]["id"] == "item_a1"


# --- receiving odd shapes (every event still delivered, one row each) --------------------------
ODD_EVENTS = [
    {"type": "response.created", "response": "not an object"},
    {"type": "conversation.item.added", "item": ["a", "list"]},
    {"type": "conversation.item.done", "item": {"id": "i", "content": "not a list"}},
    {"type": "error", "error": "a string"},
    {"type": "response.output_audio.delta", "delta": 12345},
    {"type": "response.output_audio.delta", "delta": "!!!not base64"},
    {"type": "session.updated", "session": "nope"},
    {"type": "response.done", "response": None},
    {"type": "conversation.item.retrieved", "item": {"content": [{"audio": 5}]}},
]


@pytest.mark.parametrize("event", ODD_EVENTS, ids=[e["type"] for e in ODD_EVENTS])
def test_odd_shapes_are_delivered_and_later_events_still_apply(event: dict) -> None:
    pair = MemoryPair()
    received = pair.client.receive(json.dumps(event), 1.0, 1.0)
    assert received is not None and received.event["type"] == event["type"]
    # the conversation keeps working afterwards
    out, _ = pair.request(protocol.item_create(protocol.user_text_item("still here")))
    assert out.request.reply is not None
    assert pair.client.conversation.transcript()[-1] == ("user", "still here")


def test_an_unknown_output_format_is_one_row_and_deltas_still_flow() -> None:
    c = ClientProtocol()
    session = {"id": "sess_x", "audio": {"output": {"format": {"type": "audio/opus"}}}}
    c.receive(json.dumps({"type": "session.updated", "session": session}), 0.0, 0.0)
    delta = {"type": "response.output_audio.delta", "item_id": "item_1", "response_id": "r",
             "delta": audio.b64encode_audio(b"\x01\x02" * 10)}  # fmt: skip
    for _ in range(50):
        assert c.receive(json.dumps(delta), 0.0, 0.0) is not None
    kinds = [r.type for r in c.events.rows]
    assert kinds.count("local.unsupported_format") == 1
    assert kinds.count("response.output_audio.delta") == 50
    assert "local.odd_event" not in kinds


def test_an_odd_length_pcm16_delta_does_not_shift_the_rest_of_the_item() -> None:
    pair = MemoryPair()
    added = {"type": "conversation.item.added", "item": {"id": "item_odd", "type": "message",
             "role": "assistant", "status": "in_progress", "content": []}}  # fmt: skip
    pair.client.receive(json.dumps(added), 0.0, 0.0)
    for chunk in (b"\x01\x00\x02", b"\x03\x00\x04\x00"):
        delta = {"type": "response.output_audio.delta", "item_id": "item_odd",
                 "response_id": "resp_x", "delta": audio.b64encode_audio(chunk)}  # fmt: skip
        pair.client.receive(json.dumps(delta), 0.0, 0.0)
    samples = pair.client.conversation.item("item_odd").audio()
    assert samples.tolist() == [1, 3, 4]  # the stray byte is dropped, nothing after it moves
    odd = [r for r in pair.client.events.rows if r.type == "local.odd_event"]
    assert len(odd) == 1 and "odd-length" in odd[0].payload["problems"][0]


# --- closing -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "error_event", "expected"),
    [
        (3000, None, AuthenticationError),
        (4000, None, ModelNotFoundError),
        (1001, None, SessionExpired),
        (1000, {"type": "error", "error": {"code": "session_expired"}}, SessionExpired),
        (3000, {"type": "error", "error": {"code": "invalid_api_key", "message": "bad"}},
         AuthenticationError),
        (1006, None, ConnectionClosed),
    ],
)  # fmt: skip
def test_close_codes_map_to_the_error_that_explains_them(
    code: int, error_event: dict | None, expected: type
) -> None:
    c = ClientProtocol()
    pending = c.request(protocol.input_audio_clear())
    if error_event is not None:
        c.receive(json.dumps(error_event), 0.0, 0.0)
    error, failed = c.connection_lost(code, "", 0.0, 0.0)
    assert type(error) is expected
    assert failed == [pending.request]
    assert "azure=True" not in str(error)


def test_a_keepalive_diagnosis_is_in_the_message() -> None:
    c = ClientProtocol()
    error, _ = c.connection_lost(None, "", 0.0, 0.0, cause="keepalive timed out: no pong")
    assert "keepalive timed out" in str(error)
    assert c.events.rows[-1].payload["cause"].startswith("keepalive")


# --- live microphone drops: one row per run ------------------------------------------------------
def test_mic_drops_make_one_row_per_run_not_per_frame() -> None:
    c = ClientProtocol()
    for i in range(100):
        c.drop_mic(1920, "send backlog full", i * 0.04, 0.0)
    c.end_drop_run(4.0, 0.0)
    c.end_drop_run(4.1, 0.0)  # no open run: nothing
    rows = [r for r in c.events.rows]
    assert [r.type for r in rows] == ["local.dropping_audio", "local.dropped_audio"]
    assert rows[1].payload["frames"] == 100 and rows[1].payload["ms"] == 4000.0
    assert c.dropped_audio_frames == 100


# --- barge-in and turn rules ----------------------------------------------------------------
def test_truncate_plan_is_exact_and_clamped_to_audio_received() -> None:
    pair = MemoryPair(audio_speed=1.0)
    pair.request(
        protocol.session_update({"type": "realtime", "audio": {"input": {"turn_detection": None}}})
    )
    pair.request(protocol.item_create(protocol.user_text_item("talk to me")))
    pair.request(protocol.response_create(None))
    pair.advance(0.35)  # part of the answer has arrived
    item = next(i for i in pair.client.conversation.items if i.role == "assistant")
    received_ms = item.audio_bytes_received / 48
    assert received_ms > 0
    cancel, end_ms = pair.client.truncate_plan(item.id, played_samples=24 * 100 + 23)
    assert end_ms == 100  # floor(played / 24)
    assert cancel == item.response_id  # push-to-talk: the server will not cancel by itself
    _, clamped = pair.client.truncate_plan(item.id, played_samples=10**9)
    assert clamped == int(received_ms)


def test_transcript_entries_show_heard_versus_generated() -> None:
    pair = MemoryPair(audio_speed=1.0)
    pair.request(protocol.item_create(protocol.user_text_item("hi")))
    pair.request(protocol.response_create(None))
    pair.run()
    item = next(i for i in pair.client.conversation.items if i.role == "assistant")
    pair.request(protocol.item_truncate(item.id, 300, 0))
    entries = transcript_entries(pair.client.conversation)
    assert entries[-1]["interrupted"] and entries[-1]["heard"] is not None
    assert len(entries[-1]["heard"]) < len(entries[-1]["text"])


# --- reconnect replay -----------------------------------------------------------------------
def test_replay_recreates_config_and_history_in_a_fresh_server() -> None:
    pair = MemoryPair(audio_speed=math.inf)
    pair.request(
        pair.client.session_update_event({"type": "realtime", "instructions": "Be brief."})
    )
    pair.request(protocol.item_create(protocol.user_text_item("first question")))
    pair.request(protocol.response_create(None))
    pair.run()
    before = [(i.id, i.role, i.type) for i in pair.client.conversation.items]
    assert len(before) == 2
    fresh = MemoryPair(pair.client, audio_speed=math.inf)
    replay = pair.client.replay_events()
    assert [e["type"] for e in replay] == ["session.update", *["conversation.item.create"] * 2]
    for event in replay:
        out, received = fresh.request(event)
        assert out.request.error is None, received[-1].event
    assert fresh.server.session["instructions"] == "Be brief."
    assert fresh.server.order == [item_id for item_id, _, _ in before]
    # the replayed items are not duplicated in the client's conversation
    assert [(i.id, i.role, i.type) for i in pair.client.conversation.items] == before


def test_client_and_stand_in_cut_a_truncated_transcript_the_same_way() -> None:
    pair = MemoryPair(audio_speed=math.inf)
    pair.request(protocol.item_create(protocol.user_text_item("tell me something long")))
    pair.request(protocol.response_create(None))
    pair.run()
    item = next(i for i in pair.client.conversation.items if i.role == "assistant")
    for end_ms in (0, 137, 555, 901, int(item.audio_ms) - 1):
        fresh = MemoryPair(audio_speed=math.inf)
        fresh.request(protocol.item_create(protocol.user_text_item("tell me something long")))
        fresh.request(protocol.response_create(None))
        fresh.run()
        target = next(i for i in fresh.client.conversation.items if i.role == "assistant")
        fresh.request(protocol.item_truncate(target.id, end_ms, 0))
        server_part = fresh.server.items[target.id].item["content"][0]
        assert (
            fresh.client.conversation.item(target.id).heard_transcript == server_part["transcript"]
        ), end_ms


def test_a_truncate_while_streaming_sticks_in_done_retrieved_and_transcript() -> None:
    pair = MemoryPair(audio_speed=1.0)
    pair.request(
        protocol.session_update({"type": "realtime", "audio": {"input": {"turn_detection": None}}})
    )
    pair.request(protocol.item_create(protocol.user_text_item("tell me a long story please")))
    pair.request(protocol.response_create(None))
    pair.advance(0.45)  # part of the answer has been sent; more is planned
    item = next(i for i in pair.client.conversation.items if i.role == "assistant")
    assert item.status == "in_progress" and item.audio_ms > 300
    pair.request(protocol.item_truncate(item.id, 300, 0))
    after = pair.run()
    later_audio = [r for r in after if r.event["type"] == "response.output_audio.delta"
                   and r.event.get("item_id") == item.id]  # fmt: skip
    assert later_audio == []  # nothing more of the cut item is sent
    done = next(r.event for r in after if r.event["type"] == "response.done")
    content = done["response"]["output"][0]["content"][0]
    heard = pair.client.conversation.item(item.id).heard_transcript
    assert heard and content["transcript"] == heard
    _, received = pair.request(protocol.item_retrieve(item.id))
    retrieved = next(r for r in received if r.event["type"] == "conversation.item.retrieved")
    assert retrieved.event["item"]["content"][0]["transcript"] == heard
    assert len(retrieved.pcm or b"") == 300 * 48  # exactly the 300 ms that were heard
    assert pair.client.conversation.transcript()[-1] == ("assistant", heard)
