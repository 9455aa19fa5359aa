"""The offline brain: its rule table, tool matching, and a spoken round trip via the stand-in."""

from __future__ import annotations

import json
import math

import pytest

from realtime_nb.server.brain import Brain, Rule, answer_text, tool_call_for

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def test_rule_table_answers() -> None:
    assert answer_text("what is 3 plus 4") == "3 plus 4 is 7."
    assert answer_text("What is three times five?") == "three times five is 15."
    assert answer_text("what is 7 divided by 0") == "I cannot divide by zero."
    assert answer_text("what the three plus four") == "three plus four is 7."  # as often heard
    assert answer_text("morning") == "Hello! I am the offline realtime-nb stand-in."
    assert answer_text("repeat after me the cat sat on the mat") == "the cat sat on the mat"
    assert answer_text("good morning") == "Hello! I am the offline realtime-nb stand-in."
    assert answer_text("what time is it").startswith("It is ")
    assert answer_text("tell me a story") is None


def test_user_rules_come_first() -> None:
    brain = Brain([Rule(r"\bhello\b", lambda m, ctx: "custom hello")], voice=False)
    assert answer_text("hello there", brain.rules) == "custom hello"
    assert answer_text("what is 1 plus 1", brain.rules) == "1 plus 1 is 2."


def test_tool_call_from_heard_words() -> None:
    assert tool_call_for("what is the weather in paris", [WEATHER]) == (
        "get_weather",
        {"city": "Paris"},
    )
    assert tool_call_for("what is 3 plus 4", [WEATHER]) is None
    count = {
        "type": "function",
        "name": "count_sheep",
        "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
    }
    assert tool_call_for("count sheep to five", [count]) == ("count_sheep", {"n": 5})


async def test_spoken_round_trip_through_the_stand_in() -> None:
    speech = pytest.importorskip("realtime_nb.server.speech")
    if not speech.speech_available():
        pytest.skip("pocketsphinx and espeak-ng are not installed")
    from realtime_nb.server import LocalServer
    from realtime_nb.session import RealtimeSession

    brain = Brain()
    session = {
        "tools": [WEATHER],
        "audio": {
            "input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}
        },
    }
    # the CLI's audio is repeatable; the in-process library's varies and is heard ~75% right
    cli = speech.shutil.which("espeak-ng") is not None
    question = speech.speak("what is the weather in Paris", cli=cli)
    async with (
        LocalServer(audio_speed=math.inf, responder=brain, transcriber=brain.transcriber) as srv,
        RealtimeSession(srv.url, session=session) as s,
    ):
        start = s.events.last_seq
        await s.send_audio(question, 24_000)
        await s.commit()
        done = await s.wait_for(
            "conversation.item.input_audio_transcription.completed", after=start
        )
        r1 = await s.ask(None)
        assert "weather" in done["transcript"] and "paris" in done["transcript"].lower()
        assert r1.function_calls and r1.function_calls[0]["name"] == "get_weather"
        assert json.loads(r1.function_calls[0]["arguments"]) == {"city": "Paris"}
        await s.send_function_output(r1.function_calls[0]["call_id"], {"forecast": "sunny, 21 °C"})
        r2 = await s.ask(None)
        assert "sunny" in r2.transcript
        assert len(r2.audio) > 24_000 * 0.5
        brain.transcriber.set_hints(["sunny", "forecast", "weather", "says", "get"])
        assert "sunny" in brain.transcriber(r2.audio)
