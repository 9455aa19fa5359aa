"""The stand-in's recorded streams (tests/fixtures/record_standin.py): they still match what the
stand-in sends, they validate against the official schema, and the client's conversation state
reads them right (a reasoning preamble is not the whole answer; MCP items keep their outputs and
errors; a transcription keeps its words)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from realtime_nb.conversation import Conversation
from realtime_nb.events import extract_audio
from tests.fixtures import record_standin
from tests.test_server_conformance import conform

FIXTURES = Path(__file__).parent / "fixtures"


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines()]


def replay(name: str) -> Conversation:
    conv = Conversation()
    for line in lines(name):
        event, pcm = extract_audio(line["event"])
        if line["dir"] == "server":
            conv.apply(event, pcm, line["t"])
        else:
            conv.apply_client(event, pcm, line["t"])
    return conv


@pytest.mark.parametrize("name", sorted(record_standin.STREAMS))
def test_the_stand_in_still_sends_the_recorded_stream(name: str, tmp_path: Path) -> None:
    fresh = record_standin.STREAMS[name]().write(name, tmp_path).read_text()
    assert fresh == (FIXTURES / name).read_text(), (
        f"The stand-in no longer sends {name}. If the change is intended, rerun "
        "`python tests/fixtures/record_standin.py` and review the diff."
    )


@pytest.mark.parametrize("name", sorted(record_standin.STREAMS))
def test_every_recorded_server_event_validates(name: str) -> None:
    server = [line["event"] for line in lines(name) if line["dir"] == "server"]
    assert conform(server) and server[0]["type"] == "session.created"


def test_a_reasoning_response_has_a_preamble_then_the_answer() -> None:
    done = next(
        line["event"]["response"]
        for line in lines("reasoning_preamble.jsonl")
        if line["event"]["type"] == "response.done"
    )
    messages = [o for o in done["output"] if o["type"] == "message"]
    assert len(messages) == 2
    answer = messages[1]["content"][0]["text"]
    assert answer == "Seven. Three plus four is seven."
    assert done["usage"]["output_token_details"]["text_tokens"] > len(answer) // 4  # reasoning
    conv = replay("reasoning_preamble.jsonl")
    said = [text for role, text in conv.transcript() if role == "assistant"]
    assert said == [messages[0]["content"][0]["text"], answer]


def test_mcp_items_keep_their_listing_outputs_and_errors() -> None:
    events = [line["event"] for line in lines("mcp_calls.jsonl") if line["dir"] == "server"]
    listings = [e["item"] for e in events if e["type"] == "conversation.item.done"][:2]
    assert [(i["server_label"], len(i["tools"])) for i in listings] == [("calc", 3), ("down", 0)]
    done = next(e["response"] for e in events if e["type"] == "response.done")
    calls = {o["name"]: o for o in done["output"] if o["type"] == "mcp_call"}
    assert calls["add"]["output"] == "5.0" and calls["add"]["error"] is None
    assert calls["fail"]["output"] is None
    assert calls["fail"]["error"]["type"] == "tool_execution_error"
    conv = replay("mcp_calls.jsonl")
    assert conv.item(calls["add"]["id"]) is not None


def test_a_transcription_with_logprobs_streams_word_by_word() -> None:
    events = [line["event"] for line in lines("transcription_logprobs.jsonl")]
    deltas = [e for e in events if e["type"].endswith("input_audio_transcription.delta")]
    assert [d["delta"] for d in deltas] == ["weather", " in", " paris"]
    completed = next(e for e in events if e["type"].endswith("input_audio_transcription.completed"))
    assert [p["token"] for p in completed["logprobs"]] == ["weather", " in", " paris"]
    assert completed["usage"]["type"] == "tokens"
    conv = replay("transcription_logprobs.jsonl")
    user = conv.item(completed["item_id"])
    assert user is not None and user.transcript == "weather in paris"
