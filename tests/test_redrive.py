"""Re-driving a recording: its user turns sent again with turn detection off, answers compared.

A conversation is recorded against the stand-in (typed turns, a spoken turn, a tool call),
saved and loaded, then sent again to new stand-ins configured differently; the comparison must
say exactly which turns changed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import realtime_nb
from realtime_nb.errors import UsageError
from realtime_nb.evaluation.redriving import recorded_turns, similarity
from realtime_nb.recording import Recording
from realtime_nb.server.speech import speak

FAST = {"audio_speed": math.inf}


def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
        city: The city's name.
    """
    return f"It is sunny and 21 degrees in {city}"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three turns: typed hello, spoken arithmetic, typed weather question (a tool call)."""
    path = tmp_path_factory.mktemp("redrive") / "call.rtnb"
    spoken = speak("what is two plus two", cli=True)
    assert spoken is not None
    session = {"audio": {"input": {"turn_detection": None,
                                   "transcription": {"model": "gpt-transcribe"}}}}  # fmt: skip
    with realtime_nb.connect(session=session, tools=[get_weather], server_options=FAST) as s:
        s.ask("hello")
        s.send_audio(spoken, 24_000)
        s.commit()
        s.ask()
        s.ask("what is the weather in Paris")
        s.save(path)
    return path


def test_the_recorded_turns_are_read_in_order_with_their_answers(recorded: Path) -> None:
    turns = recorded_turns(realtime_nb.load(recorded))
    assert [t.text for t in turns] == ["hello", None, "what is the weather in Paris"]
    assert turns[1].audio is not None and len(turns[1].audio) > 24_000 // 2
    assert turns[1].heard == "what is two plus two"
    assert "hello" in turns[0].answer.lower() and "4" in turns[1].answer
    assert [str(c) for c in turns[2].tool_calls] == ["get_weather(city='Paris')"]
    assert "sunny" in turns[2].answer


def test_redrive_against_the_same_setup_changes_nothing(recorded: Path) -> None:
    again = realtime_nb.redrive(recorded, tools=[get_weather], server_options=FAST)
    assert again.changed == []
    df = again.dataframe
    assert list(df["turn"]) == [1, 2, 3] and df["same"].all()
    assert df.loc[1, "user"].startswith("(audio ") and "what is two plus two" in df.loc[1, "user"]
    assert df.loc[2, "old_tools"] == df.loc[2, "new_tools"] == "get_weather(city='Paris')"
    assert df["new_first_audio_ms"].notna().all() and df["old_first_audio_ms"].notna().all()
    # the new session had turn detection off and sent the recorded audio, committed by us
    rows = again.recording.events.rows
    update = next(r.payload for r in rows if r.type == "session.update")
    assert update["session"]["audio"]["input"]["turn_detection"] is None
    assert any(r.type == "input_audio_buffer.commit" for r in rows)
    assert not any(r.type == "input_audio_buffer.speech_started" for r in rows)
    assert isinstance(again.recording, Recording)


def test_redrive_shows_which_turns_changed(recorded: Path) -> None:
    # without the Python tool the model can no longer call it: only turn 3 changes
    no_tool = realtime_nb.redrive(recorded, session={"tools": []}, server_options=FAST)
    assert no_tool.changed == [3]
    assert no_tool.dataframe.loc[2, "new_tools"] == ""
    # a different model behind the same protocol (a scripted responder): every answer changes
    other = realtime_nb.redrive(
        recorded,
        tools=[get_weather],
        server_options={**FAST, "responder": ["Bonjour.", "Guten Tag.", "Buongiorno."]},
    )
    assert other.changed == [1, 2, 3]
    assert list(other.dataframe["new_answer"]) == ["Bonjour.", "Guten Tag.", "Buongiorno."]
    assert (other.dataframe["similarity"] < 0.5).all()
    assert "changed: 1, 2, 3" in repr(other)


def test_similarity_and_an_empty_recording(tmp_path: Path) -> None:
    assert similarity("Two plus two is 4.", "two plus two is 4") == 1.0
    assert similarity("", "") == 1.0
    assert similarity("sunny in Paris", "rain in London") < 0.5
    with realtime_nb.connect(server_options=FAST) as s:
        rec = Recording.from_session(s)
    with pytest.raises(UsageError, match="no user turn"):
        realtime_nb.redrive(rec, server_options=FAST)
    assert json.dumps(rec.session_config)  # a plain dict


def test_a_spoken_turn_without_kept_audio_is_skipped_with_its_answer() -> None:
    # ask(audio) sends the clip inside conversation.item.create, whose audio the client does
    # not keep: that turn cannot be sent again, and its answer must not join the turn before
    spoken = speak("good morning", cli=True)
    with realtime_nb.connect(server_options=FAST) as s:
        s.ask("what is two plus two")
        s.ask(spoken, 24_000)
        s.ask("what is six times seven")
        rec = Recording.from_session(s)
    turns = recorded_turns(rec)
    assert [t.text for t in turns] == ["what is two plus two", "what is six times seven"]
    assert turns[0].answer == "two plus two is 4." and turns[1].answer == "six times seven is 42."
