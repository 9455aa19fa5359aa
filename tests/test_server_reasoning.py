"""Reasoning models in the stand-in: a preamble message, then the answer, in one response.

gpt-realtime-2/-2.1/-2.1-mini (``supports_reasoning``) with ``reasoning.effort`` above
``"minimal"`` say a short preamble item first (protocol notes §10); their hidden reasoning tokens
are billed inside output text tokens (the SDK's usage has no reasoning field). Every event the
:class:`Harness` sees is checked against the SDK's types.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from realtime_nb import audio
from realtime_nb.server import LocalServer, Reply, scripted
from realtime_nb.server.responses import PREAMBLES
from realtime_nb.server.usage import REASONING_TOKENS, text_tokens
from realtime_nb.session import RealtimeSession
from tests.test_server_state import Harness, types

ANSWER = "Paris is the capital of France."


def _turn(h: Harness, **response: Any) -> list[dict[str, Any]]:
    h.send(
        type="conversation.item.create",
        item={
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Capital of France?"}],
        },
    )
    return h.send(type="response.create", response=response)


def _done(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e for e in events if e["type"] == "response.done")["response"]


@pytest.mark.parametrize("model", ["gpt-realtime-2", "gpt-realtime-2.1", "gpt-realtime-2.1-mini"])
def test_reasoning_model_says_a_preamble_then_the_answer_in_audio(model: str) -> None:
    h = Harness(
        f"/v1/realtime?model={model}",
        responder=scripted([ANSWER]),
        session={"reasoning": {"effort": "low"}},
    )
    out = _turn(h)
    body = _done(out)
    assert body["status"] == "completed"
    assert [o["type"] for o in body["output"]] == ["message", "message"]
    preamble, answer = (o["content"][0]["transcript"] for o in body["output"])
    assert preamble in PREAMBLES and answer == ANSWER
    # the real order: the first item is closed before the second is added
    order = [
        (e["type"], e.get("output_index"))
        for e in out
        if e["type"] in ("response.output_item.added", "response.output_item.done")
    ]
    assert order == [
        ("response.output_item.added", 0),
        ("response.output_item.done", 0),
        ("response.output_item.added", 1),
        ("response.output_item.done", 1),
    ]
    for index in (0, 1):
        deltas = [
            e
            for e in out
            if e["type"] == "response.output_audio.delta" and e["output_index"] == index
        ]
        assert deltas, f"item {index} carries audio"
    # both items join the conversation, preamble first
    assistant = [i for i in h.st.conversation if i.get("role") == "assistant"]
    assert [i["id"] for i in assistant] == [o["id"] for o in body["output"]]


def test_text_mode_preamble_and_reasoning_tokens_in_text_usage() -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2", responder=scripted([ANSWER]))
    out = _turn(h, output_modalities=["text"], reasoning={"effort": "high"})
    body = _done(out)
    texts = [o["content"][0]["text"] for o in body["output"]]
    assert len(texts) == 2 and texts[1] == ANSWER
    details = body["usage"]["output_token_details"]
    visible = sum(text_tokens(t) for t in texts)
    assert details == {"text_tokens": visible + REASONING_TOKENS["high"], "audio_tokens": 0}
    assert body["usage"]["output_tokens"] == details["text_tokens"]
    assert "response.output_text.delta" in types(out)


def test_more_effort_bills_more_reasoning_tokens() -> None:
    billed = {}
    for effort in ("low", "medium", "high", "xhigh"):
        h = Harness("/v1/realtime?model=gpt-realtime-2.1", responder=scripted([ANSWER]))
        body = _done(_turn(h, output_modalities=["text"], reasoning={"effort": effort}))
        billed[effort] = body["usage"]["output_token_details"]["text_tokens"]
    assert billed["low"] < billed["medium"] < billed["high"] < billed["xhigh"]


@pytest.mark.parametrize(
    ("path", "session"),
    [
        ("/v1/realtime?model=gpt-realtime-2", {"reasoning": {"effort": "minimal"}}),
        ("/v1/realtime?model=gpt-realtime-2", None),  # effort unset: the stand-in's "minimal"
        ("/v1/realtime?model=gpt-realtime-1.5", None),  # no reasoning at all
    ],
)
def test_one_message_without_effort_or_reasoning(path: str, session: Any) -> None:
    h = Harness(path, responder=scripted([ANSWER]), session=session)
    body = _done(_turn(h, output_modalities=["text"]))
    assert [o["content"][0]["text"] for o in body["output"]] == [ANSWER]
    assert body["usage"]["output_token_details"]["text_tokens"] == text_tokens(ANSWER)


def test_preamble_comes_before_a_function_call() -> None:
    reply = Reply(function_calls=[("get_weather", '{"city":"Paris"}')])
    h = Harness("/v1/realtime?model=gpt-realtime-2", responder=scripted([reply]))
    body = _done(_turn(h, output_modalities=["text"], reasoning={"effort": "medium"}))
    assert [o["type"] for o in body["output"]] == ["message", "function_call"]


def test_cancel_during_the_preamble_closes_it_and_skips_the_answer() -> None:
    h = Harness(
        "/v1/realtime?model=gpt-realtime-2",
        speed=1.0,
        responder=scripted([ANSWER]),
        session={"reasoning": {"effort": "low"}},
    )
    _turn(h)
    h.now = 0.05
    out = h.send(type="response.cancel")
    body = _done(out)
    assert body["status"] == "cancelled"
    assert len(body["output"]) == 1 and body["output"][0]["status"] == "incomplete"


async def test_ask_returns_preamble_and_answer_with_both_audios() -> None:
    config = {"type": "realtime", "reasoning": {"effort": "low"}}
    async with (
        LocalServer(audio_speed=math.inf, responder=scripted([ANSWER])) as srv,
        RealtimeSession(srv.url, session=config) as s,
    ):
        r = await s.ask("Capital of France?")
        assert r.status == "completed"
        assert any(r.transcript.startswith(p) for p in PREAMBLES)
        assert r.transcript.endswith(ANSWER)
        messages = [
            i for i in s.conversation.items if i.type == "message" and i.role == "assistant"
        ]
        assert len(messages) == 2
        pieces = [m.audio() for m in messages]
        assert all(p.size for p in pieces)
        assert np.array_equal(r.audio, np.concatenate(pieces))
        assert r.audio.dtype == np.int16 and len(r.audio) > audio.SAMPLE_RATE // 10
