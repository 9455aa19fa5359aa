"""Input transcription shapes per model: usage kind, deltas, logprobs, languages.

The state machine is driven directly (no sockets, fake clock); every event is checked against
the official schema by the harness, so a field the SDK does not know fails here too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from realtime_nb.server.speech import Heard, stt_available, tts_available
from realtime_nb.server.state import ConnectRequest, RealtimeServerProtocol, ServerConfig
from realtime_nb.synth import utterance
from tests.test_server_state import Harness, first, types

WORDS = (("weather", 0.5), ("in", 0.9), ("paris", 0.25))


def heard_weather(pcm: np.ndarray) -> Heard:
    return Heard("weather in paris", WORDS)


class TranscribingHarness(Harness):
    def __init__(self, transcriber: Any, model: str, include: list[str] | None = None) -> None:
        super().__init__()
        self.st = RealtimeServerProtocol(
            ConnectRequest("/v1/realtime?model=gpt-realtime-2", {"authorization": "Bearer x"}, ()),
            ServerConfig(audio_speed=math.inf, seed=7),
            transcriber=transcriber,
        )
        self.beta = self.st.beta
        self._check(self.st.open(0.0, 0.0))
        session: dict[str, Any] = {
            "type": "realtime",
            "audio": {"input": {"transcription": {"model": model}, "turn_detection": None}},
        }
        if include is not None:
            session["include"] = include
        assert types(self.send(type="session.update", session=session)) == ["session.updated"]

    def transcribe(self, seconds: float = 1.2) -> list[dict[str, Any]]:
        self.audio(utterance(0.1, seconds, 0.1))
        return self.send(type="input_audio_buffer.commit")


def deltas(out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in out if e["type"] == "conversation.item.input_audio_transcription.delta"]


def completed(out: list[dict[str, Any]]) -> dict[str, Any]:
    return first(out, "conversation.item.input_audio_transcription.completed")


@pytest.mark.parametrize(
    "model", ["whisper-1", "gpt-transcribe", "gpt-live-transcribe", "gpt-realtime-whisper"]
)
def test_per_minute_models_report_duration(model: str) -> None:
    out = TranscribingHarness(heard_weather, model).transcribe(1.2)
    usage = completed(out)["usage"]
    assert usage == {"type": "duration", "seconds": pytest.approx(1.4, abs=0.05)}


@pytest.mark.parametrize("model", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
def test_token_billed_models_report_tokens_that_add_up(model: str) -> None:
    usage = completed(TranscribingHarness(heard_weather, model).transcribe(1.2))["usage"]
    assert usage["type"] == "tokens"
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_token_details"]["audio_tokens"] == usage["input_tokens"] == 14
    assert usage["output_tokens"] == 4  # "weather in paris" at 4 characters a token


def test_whisper_sends_one_delta_streaming_models_one_per_word() -> None:
    whole = deltas(TranscribingHarness(heard_weather, "whisper-1").transcribe())
    assert [d["delta"] for d in whole] == ["weather in paris"]
    words = deltas(TranscribingHarness(heard_weather, "gpt-4o-transcribe").transcribe())
    assert [d["delta"] for d in words] == ["weather", " in", " paris"]


def test_logprobs_only_when_included_and_measured() -> None:
    plain = TranscribingHarness(heard_weather, "gpt-4o-transcribe").transcribe()
    assert "logprobs" not in completed(plain) and all("logprobs" not in d for d in deltas(plain))

    asked = TranscribingHarness(
        heard_weather, "gpt-4o-transcribe", ["item.input_audio_transcription.logprobs"]
    ).transcribe()
    logprobs = completed(asked)["logprobs"]
    assert [p["token"] for p in logprobs] == ["weather", " in", " paris"]
    assert [p["logprob"] for p in logprobs] == pytest.approx(
        [math.log(p) for _, p in WORDS], abs=1e-6
    )
    assert logprobs[1]["bytes"] == list(b" in")
    assert [d["logprobs"] for d in deltas(asked)] == [[p] for p in logprobs]

    # a transcriber that measures nothing gets null logprobs, not invented confidence
    unmeasured = TranscribingHarness(
        lambda pcm: "weather in paris",
        "gpt-4o-transcribe",
        ["item.input_audio_transcription.logprobs"],
    ).transcribe()
    assert "logprobs" not in completed(unmeasured)


def test_gpt_transcribe_reports_languages() -> None:
    assert completed(TranscribingHarness(heard_weather, "gpt-transcribe").transcribe())[
        "languages"
    ] == [{"code": "en"}]
    silent = TranscribingHarness(lambda pcm: Heard(""), "gpt-transcribe").transcribe()
    assert completed(silent)["languages"] == []
    assert "languages" not in completed(
        TranscribingHarness(heard_weather, "whisper-1").transcribe()
    )


@pytest.mark.skipif(not (stt_available() and tts_available()), reason="speech extra missing")
def test_pocketsphinx_words_carry_their_posteriors() -> None:
    from realtime_nb.server.speech import Transcriber, speak

    pcm = speak("hello there", cli=True)
    assert pcm is not None
    heard = Transcriber()(pcm)
    assert isinstance(heard, Heard) and heard.words
    assert [w for w, _ in heard.words] == str(heard).lower().split()
    assert all(0.0 <= p <= 1.0001 for _, p in heard.words)
