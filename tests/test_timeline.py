"""The turn timeline, from real stand-in conversations (MemoryPair: the client protocol and the
stand-in's state machine, on a virtual clock) and the recorded fixtures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_nb import protocol
from realtime_nb.events import EventLog, extract_audio
from realtime_nb.server import Reply
from realtime_nb.synth import utterance
from realtime_nb.testing import MemoryPair
from realtime_nb.timeline import TurnTracker, assign_turns, build_turns
from tests.test_events import replay

WEATHER = '{"city": "Paris"}'
FORECAST = '{"temperature_c": 20, "sky": "sunny"}'


def responder(ctx) -> Reply:
    """Answers at length; asks for get_weather when the user mentions the weather."""
    if ctx.items and ctx.items[-1].get("type") == "function_call_output":
        return Reply(text="It is sunny in Paris, twenty degrees.")
    if "weather" in (ctx.last_user_text or ""):
        return Reply(text="Let me check.", function_calls=[("get_weather", WEATHER)])
    return Reply(text="Here is a fairly long answer that goes on for a while, long enough to cut.")


def speak(pair: MemoryPair, speech_s: float, tail_s: float, seed: int) -> None:
    """Stream an utterance from the mic in 40 ms frames, in real time."""
    samples = utterance(speech_s=speech_s, lead_silence_s=0.2, tail_silence_s=tail_s, seed=seed)
    for i in range(0, len(samples), 960):
        frame = pair.client.append_event(samples[i : i + 960].tobytes())
        assert frame is not None
        pair.send(frame)
        pair.advance(0.04)


def assistant_items(pair: MemoryPair) -> list:
    return [i for i in pair.client.conversation.items if i.role == "assistant"]


def conversation() -> MemoryPair:
    """Four turns: a VAD turn; a VAD turn cut by a barge-in (the client truncates what was
    played, as the widget does); the barge-in's own turn, with a stray cancel that errors; a
    typed question answered through a tool round (local.tool_call/tool_result rows)."""
    pair = MemoryPair(audio_speed=1.0, responder=responder)
    speak(pair, 0.8, 0.8, seed=1)  # turn 1
    pair.run()
    speak(pair, 0.8, 0.6, seed=2)  # turn 2: the answer starts…
    pair.advance(0.2)
    speak(pair, 0.6, 0.0, seed=3)  # …and turn 3 barges in while it plays
    cut = assistant_items(pair)[-1]
    pair.request(protocol.item_truncate(cut.id, 600, 0))  # 600 ms were played
    speak(pair, 0.0, 0.6, seed=4)  # silence: the VAD ends turn 3
    pair.run()
    pair.request(protocol.response_cancel())  # nothing is active: an error, in turn 3
    pair.request(
        protocol.session_update({"type": "realtime", "audio": {"input": {"turn_detection": None}}})
    )
    pair.request(protocol.item_create(protocol.user_text_item("what is the weather in Paris?")))
    pair.request(protocol.response_create(None))  # turn 4
    pair.run()
    call = next(i for i in pair.client.conversation.items if i.type == "function_call")
    pair.client.local(
        "local.tool_call",
        {"call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        pair.now,
        pair.now,
    )
    pair.advance(0.3)  # the function runs
    pair.client.local(
        "local.tool_result",
        {"call_id": call.call_id, "name": call.name, "status": "ok", "output": FORECAST},
        pair.now,
        pair.now,
    )
    pair.request(protocol.item_create(protocol.function_call_output_item(call.call_id, FORECAST)))
    pair.request(protocol.response_create(None))
    pair.run()
    return pair


@pytest.fixture(scope="module")
def pair() -> MemoryPair:
    return conversation()


# --- the turns of a real conversation -----------------------------------------------------------
SHAPE = {
    "turn", "start", "end", "user_item_id", "user_text", "speech", "level", "marks", "responses",
    "tools", "errors", "latency_ms", "tokens", "cost_usd", "interrupted", "seqs",
}  # fmt: skip
RESPONSE_SHAPE = {
    "response_id", "start", "end", "status", "first_audio", "audio_received_ms",
    "audio_played_ms", "truncated_at_ms", "output_item_ids",
}  # fmt: skip
MARK_KINDS = {
    "speech_started", "speech_stopped", "committed", "response_created", "first_audio",
    "first_text", "response_done", "truncated", "cancelled", "error",
}  # fmt: skip


def kinds(turn) -> list[str]:
    return [m.kind for m in turn.marks]


def test_every_row_after_the_first_speech_has_a_turn_and_setup_rows_have_none(pair) -> None:
    rows = pair.client.events.rows
    turn_of = assign_turns(rows)
    first_speech = next(r.seq for r in rows if r.type == "input_audio_buffer.speech_started")
    assert all(r.seq in turn_of for r in rows if r.seq >= first_speech)
    assert all(r.seq not in turn_of for r in rows if r.seq < first_speech)
    assert sorted(set(turn_of.values())) == [1, 2, 3, 4]


def test_a_vad_turn_has_speech_then_commit_then_the_answer_in_order(pair) -> None:
    turn = build_turns(pair.client.events.rows)[0]
    assert kinds(turn) == [
        "speech_started", "speech_stopped", "committed", "response_created", "first_text",
        "first_audio", "response_done",
    ]  # fmt: skip
    times = [m.t for m in turn.marks]
    assert times == sorted(times)
    (span,) = turn.speech
    assert span[1] is not None and span[0] < span[1] <= turn.input_end
    (response,) = turn.responses
    deltas = pair.client.events.filter(
        type="response.output_audio.delta", response_id=response.response_id
    )
    assert response.audio_received_ms == sum(r.audio_bytes for r in deltas) / 48
    assert response.status == "completed" and not turn.interrupted
    done = pair.client.events.filter(type="response.done", response_id=response.response_id)[0]
    usage = done.payload["response"]["usage"]
    assert turn.tokens == {"input": usage["input_tokens"], "output": usage["output_tokens"],
                           "total": usage["total_tokens"]}  # fmt: skip
    assert turn.cost_usd is not None and turn.cost_usd > 0
    assert turn.latency_ms["total"] == pytest.approx((response.end - turn.input_end) * 1000)


def test_a_barge_in_cuts_the_turn_it_interrupts_not_the_one_it_starts(pair) -> None:
    turns = build_turns(pair.client.events.rows)
    cut, barge = turns[1], turns[2]
    assert cut.interrupted and not barge.interrupted
    (response,) = cut.responses
    assert response.status == "cancelled"
    assert response.truncated_at_ms == 600 and response.audio_played_ms == 600
    assert response.audio_received_ms > 600
    assert "truncated" in kinds(cut) and "cancelled" in kinds(cut)
    # the cancel and the cut land after the next turn's speech started, and still belong here
    started = next(m.t for m in barge.marks if m.kind == "speech_started")
    assert next(m.t for m in cut.marks if m.kind == "truncated") > started
    turn_of = assign_turns(pair.client.events.rows)
    truncate = pair.client.events.filter(type="conversation.item.truncate")[0]
    assert turn_of[truncate.seq] == 2
    # heard vs generated: the heard part is a prefix of what was generated
    assert cut.heard_text and cut.generated_text.startswith(cut.heard_text)
    assert len(cut.heard_text) < len(cut.generated_text)


def test_what_the_speaker_played_overrides_the_unknown(pair) -> None:
    rows = pair.client.events.rows
    first = build_turns(rows)[0].responses[0]
    assert first.audio_played_ms is None  # nobody said what was played
    (item_id,) = first.output_item_ids
    played = build_turns(rows, played_ms={item_id: 800.0})[0].responses[0]
    assert played.audio_played_ms == 800.0


def test_an_error_goes_to_the_turn_of_the_request_it_names(pair) -> None:
    turns = build_turns(pair.client.events.rows)
    (error,) = turns[2].errors
    assert error.code == "response_cancel_not_active"
    row = next(r for r in pair.client.events.rows if r.seq == error.seq)
    assert row.type == "error"
    assert [m.kind for m in turns[2].marks][-2:] == ["cancelled", "error"]
    assert not any(t.errors for t in turns[:2] + turns[3:])


def test_a_tool_round_stays_in_the_turn_that_asked(pair) -> None:
    turn = build_turns(pair.client.events.rows)[3]
    assert turn.user_text == "what is the weather in Paris?"
    assert turn.input_kind == "text" and turn.speech == []
    assert len(turn.responses) == 2
    (tool,) = turn.tools
    assert (tool.name, tool.status, tool.arguments, tool.output) == (
        "get_weather", "ok", WEATHER, FORECAST,
    )  # fmt: skip
    assert tool.end - tool.start == pytest.approx(0.3)
    assert turn.responses[0].end <= tool.start < tool.end <= turn.responses[1].start
    assert turn.tokens["input"] == sum(r.usage["input_tokens"] for r in turn.responses)
    assert "sunny" in turn.generated_text


def test_a_tool_that_failed_is_shown_as_an_error() -> None:
    pair = MemoryPair(audio_speed=math.inf, responder=responder)
    pair.request(protocol.item_create(protocol.user_text_item("weather please")))
    pair.request(protocol.response_create(None))
    call = next(i for i in pair.client.conversation.items if i.type == "function_call")
    failure = json.dumps({"error": "TimeoutError: get_weather took longer than 5 s"})
    pair.request(protocol.item_create(protocol.function_call_output_item(call.call_id, failure)))
    (turn,) = build_turns(pair.client.events.rows)
    assert [(t.name, t.status) for t in turn.tools] == [("get_weather", "error")]
    assert turn.tools[0].end is not None


def test_the_level_lane_follows_the_mic_and_stays_inside_the_turn(pair) -> None:
    conv = pair.client.conversation

    def audio_for(item_id: str):
        item = conv.item(item_id)
        return item.audio() if item is not None else None

    turns = build_turns(pair.client.events.rows, audio_for=audio_for)
    level = turns[0].level
    assert 0 < len(level) <= 200
    assert all(turns[0].start <= t <= turns[0].end for t, _ in level)
    loud = [t for t, v in level if v > 0.01]
    speech_start, speech_end = turns[0].speech[0]
    assert loud and speech_start - 0.1 <= loud[0] and loud[-1] <= speech_end + 0.1
    assert turns[3].level == []  # a typed turn has no mic


def test_to_dict_is_exactly_the_widget_shape_and_json(pair) -> None:
    for turn in build_turns(pair.client.events.rows):
        d = turn.to_dict()
        assert set(d) == SHAPE
        assert all(set(r) == RESPONSE_SHAPE for r in d["responses"])
        assert {m["kind"] for m in d["marks"]} <= MARK_KINDS
        assert all(set(m) == {"t", "kind", "label", "seq"} for m in d["marks"])
        assert all(set(x) == {"call_id", "name", "start", "end", "status"} for x in d["tools"])
        assert all(set(e) == {"t", "code", "message", "seq"} for e in d["errors"])
        assert set(d["latency_ms"]) == {
            "speech_end_to_created", "created_to_first_audio", "speech_end_to_first_audio",
            "total",
        }  # fmt: skip
        assert d["start"] <= d["end"] and d["seqs"][0] <= d["seqs"][1]
        assert json.loads(json.dumps(d)) == d


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_feeding_in_pieces_gives_the_same_turns_as_feeding_at_once(cuts: list[int]) -> None:
    rows = _ROWS
    whole = build_turns(rows)
    tracker = TurnTracker()
    previous = 0
    for cut in [*sorted(cuts), len(rows)]:
        tracker.feed(rows[previous:cut])
        tracker.feed(rows[: max(cut - 5, 0)])  # rows already seen are skipped
        previous = max(previous, cut)
    assert [t.to_dict() for t in tracker.timelines()] == [t.to_dict() for t in whole]
    assert tracker.assignment == assign_turns(rows)


_ROWS = conversation().client.events.rows


# --- recorded fixtures ----------------------------------------------------------------------------
def test_fixture_push_to_talk_is_one_turn_from_the_first_kept_frame_to_the_commit() -> None:
    log = replay("push_to_talk.jsonl")
    (turn,) = build_turns(log.rows)
    assert turn.input_kind == "push_to_talk"
    (span,) = turn.speech
    clear = log.filter(type="input_audio_buffer.clear")[0]
    commit = log.filter(type="input_audio_buffer.commit")[0]
    kept = [r for r in log.filter(type="input_audio_buffer.append") if clear.t < r.t < commit.t]
    assert span == (kept[0].t - 0.05, commit.t)  # the frame's 50 ms were spoken before it left
    turn_of = assign_turns(log.rows)
    assert all(turn_of[r.seq] == 1 for r in kept)
    assert turn.input_end == commit.t
    assert turn.responses and turn.responses[0].status == "completed"


def test_fixture_barge_in_is_two_turns_with_the_first_interrupted() -> None:
    turns = build_turns(replay("barge_in.jsonl").rows)
    assert [t.interrupted for t in turns][:1] == [True]
    assert len(turns) >= 2
    assert turns[0].responses[0].status == "cancelled"


def test_fixture_function_call_keeps_the_follow_up_in_one_turn() -> None:
    turns = build_turns(replay("function_call_text.jsonl").rows)
    assert len(turns) == 1
    assert len(turns[0].tools) == 1 and turns[0].tools[0].status == "ok"
    assert len(turns[0].responses) == 2


def test_fixture_vad_turn_latency_matches_the_per_response_table() -> None:
    log = replay("vad_turn.jsonl")
    (turn,) = build_turns(log.rows)
    (old,) = log.turns()
    assert turn.latency_ms["speech_end_to_created"] == pytest.approx(old.created_ms)
    assert turn.latency_ms["created_to_first_audio"] == pytest.approx(old.first_audio_ms)


def test_an_empty_log_has_no_turns() -> None:
    assert build_turns([]) == [] and assign_turns(EventLog().rows) == {}


def test_rows_replayed_through_extract_audio_count_audio_the_same() -> None:
    log = EventLog()
    event, pcm = extract_audio(
        {"type": "response.output_audio.delta", "response_id": "r", "item_id": "i",
         "delta": "AAAA" * 100}
    )  # fmt: skip
    log.record("server", {"type": "response.created", "response": {"id": "r"}}, size=1, t=0.0,
               wall=0.0)  # fmt: skip
    log.record("server", event, size=1, t=0.1, wall=0.1, audio_bytes=len(pcm or b""))
    (turn,) = build_turns(log.rows)
    assert turn.responses[0].audio_received_ms == len(pcm or b"") / 48
    assert turn.responses[0].first_audio == 0.1
    assert isinstance(np.zeros(1), np.ndarray)


def test_the_tool_runner_rows_mark_a_timeout_as_an_error() -> None:
    """The rows realtime_nb.tools writes for a call that timed out (status = what went wrong)."""
    pair = MemoryPair(audio_speed=math.inf, responder=responder)
    pair.request(protocol.item_create(protocol.user_text_item("weather please")))
    pair.request(protocol.response_create(None))
    call = next(i for i in pair.client.conversation.items if i.type == "function_call")
    ids = {"name": call.name, "call_id": call.call_id, "item_id": call.id}
    pair.client.local("local.tool_call", {**ids, "arguments": call.arguments}, 1.0, 1.0)
    pair.client.local("local.tool_error", {**ids, "kind": "timeout", "error": "took 5 s"}, 6.0,
                      6.0)  # fmt: skip
    pair.client.local("local.tool_result", {**ids, "status": "timeout", "duration_ms": 5000.0},
                      6.0, 6.0)  # fmt: skip
    (turn,) = build_turns(pair.client.events.rows)
    (tool,) = turn.tools
    assert (tool.status, tool.start, tool.end) == ("error", 1.0, 6.0)
    assert [(e.code, e.message) for e in turn.errors] == [("timeout", "get_weather: took 5 s")]


# --- EventLog: the turn column, the per-turn DataFrame, the figures -----------------------------
def test_the_event_table_has_the_turn_of_each_row(pair) -> None:
    log = pair.client.events
    df = log.to_dataframe()
    turn_of = assign_turns(log.rows)
    assert [None if v is pd_na() else int(v) for v in df["turn"]] == [
        turn_of.get(seq) for seq in df["seq"]
    ]
    truncate = log.filter(type="conversation.item.truncate")[0]
    assert log.turn_of(truncate.seq) == 2 and log.turn_of(1) is None
    view = log.to_dataframe(coalesce=True)
    assert set(view["turn"].dropna()) == {1, 2, 3, 4}


def pd_na():
    import pandas as pd

    return pd.NA


def test_turns_dataframe_is_one_tidy_row_per_turn_with_totals(pair) -> None:
    from realtime_nb.timeline.frame import TURN_COLUMNS

    df = pair.client.events.turns_dataframe()
    assert tuple(df.columns) == TURN_COLUMNS and len(set(df.columns)) == len(df.columns)
    assert list(df["turn"]) == [1, 2, 3, 4]
    assert list(df["input"]) == ["speech", "speech", "speech", "text"]
    assert list(df["interrupted"]) == [False, True, False, False]
    cut = df.iloc[1]
    assert cut["truncated_at_ms"] == 600 and cut["audio_played_ms"] == 600
    assert cut["generated"].startswith(cut["heard"]) and cut["heard"] != cut["generated"]
    assert df.iloc[3]["tools"] == "get_weather(ok)" and df.iloc[3]["responses"] == 2
    assert df.iloc[2]["errors"] == 1
    totals = df.attrs["totals"]
    usage = pair.client.events.usage_dataframe()
    assert totals["total_tokens"] == usage["total_tokens"].sum() == df["total_tokens"].sum()
    assert totals["cost_usd"] == pytest.approx(usage["cost_usd"].sum())
    assert (totals["turns"], totals["interrupted"], totals["errors"]) == (4, 1, 1)
    assert df["start_s"].is_monotonic_increasing and df["start_s"].iloc[0] >= 0


def test_plot_turns_draws_the_lanes_of_each_turn(pair) -> None:
    conv = pair.client.conversation
    fig = pair.client.events.plot_turns(audio_for=lambda i: conv.item(i).audio())
    axes = fig.axes
    assert len(axes) == 4
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["you", "model", "audio", "tools"]
    titles = [ax.get_title(loc="left") for ax in axes]
    assert titles[0].startswith("turn 1") and "cut at 600 ms" in titles[1]
    assert "'what is the weather in Paris?'" in titles[3]
    texts = [t.get_text() for ax in axes for t in ax.texts]
    assert "✂ cut at 600 ms" in texts and "get_weather (ok)" in texts
    assert "response_cancel_not_active" in texts
    assert len(pair.client.events.plot_turns(last=2).axes) == 2


def test_plot_timeline_numbers_every_turn_on_one_axis(pair, tmp_path) -> None:
    fig = pair.client.events.plot_timeline()
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3", "4"]
    fig.savefig(tmp_path / "timeline.png")
    assert (tmp_path / "timeline.png").stat().st_size > 10_000


def test_an_empty_log_still_plots() -> None:
    fig = EventLog().plot_turns()
    assert fig.axes[0].texts[0].get_text() == "no turns yet"


# --- live totals --------------------------------------------------------------------------------
def test_totals_add_up_every_response_and_fill_the_context_window(pair) -> None:
    from realtime_nb.models import model_info

    log = pair.client.events
    totals = log.totals()
    usage = log.usage_dataframe()
    assert totals["responses"] == len(usage) == 5
    for key in ("input_tokens", "output_tokens", "total_tokens", "cached_tokens",
                "input_audio_tokens", "output_audio_tokens"):  # fmt: skip
        assert totals[key] == usage[key].sum(), key
    assert totals["cost_usd"] == pytest.approx(usage["cost_usd"].sum()) and totals["cost_complete"]
    assert totals["model"] == "gpt-realtime-2"
    window = model_info("gpt-realtime-2").context_window
    last = log.filter(type="response.done")[-1].payload["response"]["usage"]["input_tokens"]
    assert (totals["context_window"], totals["context_tokens"]) == (window, last)
    assert totals["context_fill"] == pytest.approx(last / window)
    # another model's window, and a model with no price or window
    small = log.totals(model="gpt-realtime-1.5")
    assert small["context_fill"] == pytest.approx(last / 32_000)
    unknown = log.totals(model="my-own-model", prices={})
    assert unknown["context_fill"] is None and unknown["cost_usd"] is None
    assert not unknown["cost_complete"]


def test_totals_of_an_empty_log() -> None:
    totals = EventLog().totals()
    assert totals["responses"] == 0 and totals["total_tokens"] == 0
    assert totals["cost_usd"] is None and totals["context_tokens"] is None
