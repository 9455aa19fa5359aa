"""The model table against the SDK (names, shutdown dates, reasoning efforts) and its helpers."""

from __future__ import annotations

import inspect
import re
from datetime import date
from typing import Any, get_args

import pytest
from openai.types.realtime import audio_transcription, realtime_session_create_request
from openai.types.realtime.realtime_reasoning_effort import RealtimeReasoningEffort

from realtime_nb import models
from realtime_nb.endpoint import DEFAULT_MODEL
from realtime_nb.models import (
    MODELS,
    REALTIME_MODELS,
    REASONING_EFFORTS,
    TRANSCRIPTION_MODELS,
    model_info,
    shutdown_notice,
    supports_reasoning,
)


def _literal_names(annotation: Any) -> set[str]:
    """Every string in the Literal(s) inside ``annotation`` (a Union of str, Literal, None)."""
    names: set[str] = set()
    for arg in get_args(annotation):
        if isinstance(arg, str):
            names.add(arg)
        else:
            names |= _literal_names(arg)
    return names


def _sdk_shutdowns(module: Any) -> dict[str, date]:
    """``{name: date}`` from the SDK field's "Deprecated values: … Announced shutdown date" text."""
    source = inspect.getsource(module)
    block = source.split("Deprecated values:", 1)[1].split('"""', 1)[0]
    found: dict[str, date] = {}
    for names, when in re.findall(r"-\s+(.*?):\s+Announced shutdown date:\s+(\S+?)\.", block, re.S):
        for name in re.findall(r'"([^"]+)"', names):
            found[name] = date.fromisoformat(when)
    return found


SESSION_MODEL = realtime_session_create_request.RealtimeSessionCreateRequest
TRANSCRIPTION_MODEL = audio_transcription.AudioTranscription


def test_realtime_names_are_the_sdk_session_literal() -> None:
    assert _literal_names(SESSION_MODEL.model_fields["model"].annotation) == REALTIME_MODELS


def test_transcription_names_are_the_sdk_transcription_literal() -> None:
    assert _literal_names(TRANSCRIPTION_MODEL.model_fields["model"].annotation) == (
        TRANSCRIPTION_MODELS
    )


@pytest.mark.parametrize("module", [realtime_session_create_request, audio_transcription])
def test_shutdown_dates_are_the_sdk_deprecations(module: Any) -> None:
    sdk = _sdk_shutdowns(module)
    assert sdk, "the SDK docstring no longer lists deprecated values"
    family = REALTIME_MODELS if module is realtime_session_create_request else TRANSCRIPTION_MODELS
    ours = {n: m.shutdown for n in family if (m := MODELS[n]).shutdown is not None}
    assert ours == sdk


def test_reasoning_efforts_are_the_sdk_literal() -> None:
    assert get_args(RealtimeReasoningEffort) == REASONING_EFFORTS


def test_default_model_is_current_and_reasons() -> None:
    info = MODELS[DEFAULT_MODEL]
    assert DEFAULT_MODEL == "gpt-realtime-2"
    assert (info.family, info.shutdown, info.retired, info.reasoning) == (
        "realtime",
        None,
        False,
        True,
    )
    assert shutdown_notice(DEFAULT_MODEL, date(2030, 1, 1)) is None


def test_replacements_are_current_models_of_the_same_family() -> None:
    for name, info in MODELS.items():
        if info.replacement is None:
            continue
        new = MODELS[info.replacement]
        assert (new.shutdown, new.retired) == (None, False), name
        assert new.family in ("realtime", "transcription"), name
        assert (info.family == "transcription") == (new.family == "transcription"), name


# Models with no public price we could read: say so here rather than guess.
UNPRICED = {"gpt-audio-1.5", "gpt-audio-mini", "whisper-1", "gpt-4o-transcribe",
            "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize"}  # fmt: skip


def test_every_priced_model_is_priced_once_and_completely() -> None:
    for name, info in MODELS.items():
        base = info.snapshot_of or name
        assert (info.prices is None) == (base in UNPRICED), name
        if info.prices is None:
            continue
        if info.family == "transcription":
            assert set(info.prices) == {"audio_minute"}, name
        else:
            assert {"text_in", "text_cached", "text_out", "audio_in", "audio_cached",
                    "audio_out"} <= set(info.prices), name  # fmt: skip


@pytest.mark.parametrize(
    ("name", "family", "context", "max_out", "reasoning"),
    [
        ("gpt-realtime-2", "realtime", 128_000, 32_000, True),
        ("gpt-realtime-2.1", "realtime", 128_000, 32_000, True),
        ("gpt-realtime-2.1-mini", "realtime", 128_000, 32_000, True),
        ("gpt-realtime-1.5", "realtime", 32_000, 4_096, False),
        ("gpt-realtime", "realtime", 32_000, 4_096, False),
        ("gpt-realtime-2025-08-28", "realtime", 32_000, 4_096, False),
        ("gpt-4o-mini-realtime-preview", "realtime-preview", 16_000, 4_096, False),
        ("gpt-realtime-whisper", "transcription", 16_000, 2_000, False),
    ],
)
def test_model_facts(name: str, family: str, context: int, max_out: int, reasoning: bool) -> None:
    info = MODELS[name]
    assert (info.family, info.context_window, info.max_output_tokens, info.reasoning) == (
        family,
        context,
        max_out,
        reasoning,
    )


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-realtime-2", True),
        ("gpt-realtime-2.1-mini", True),
        ("gpt-realtime", False),
        ("gpt-realtime-mini-2025-12-15", False),
        ("gpt-realtime-2099-01-01", False),  # an unknown snapshot: its alias decides
        ("my-azure-deployment", None),
        (None, None),
    ],
)
def test_supports_reasoning(model: str | None, expected: bool | None) -> None:
    assert supports_reasoning(model) is expected


TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("model", "today", "notice"),
    [
        ("gpt-realtime", TODAY,
         "Model 'gpt-realtime' shuts down on 2027-01-20 (in 48 days). "
         "Use 'gpt-realtime-2' instead."),
        ("gpt-realtime-mini-2025-12-15", date(2027, 1, 19),
         "Model 'gpt-realtime-mini-2025-12-15' shuts down on 2027-01-20 (in 1 day). "
         "Use 'gpt-realtime-2.1-mini' instead."),
        ("gpt-realtime-2025-08-28", date(2027, 1, 20),
         "Model 'gpt-realtime-2025-08-28' was shut down on 2027-01-20. "
         "Use 'gpt-realtime-2' instead."),
        ("whisper-1", TODAY,
         "Model 'whisper-1' shuts down on 2027-02-26 (in 85 days). Use 'gpt-transcribe' instead."),
        ("gpt-4o-transcribe-diarize", TODAY,
         "Model 'gpt-4o-transcribe-diarize' shuts down on 2027-02-26 (in 85 days)."),
        ("gpt-4o-realtime-preview-2024-12-17", TODAY,
         "Model 'gpt-4o-realtime-preview-2024-12-17' has been shut down. "
         "Use 'gpt-realtime-2' instead."),
        ("gpt-realtime-2", TODAY, None),
        ("gpt-realtime-2.1-mini", date(2030, 1, 1), None),
        ("gpt-realtime-mini-2025-10-06", TODAY, None),  # not in the SDK's deprecation list
        ("gpt-transcribe", TODAY, None),
        ("my-azure-deployment", TODAY, None),
        (None, TODAY, None),
    ],
)  # fmt: skip
def test_shutdown_notice(model: str | None, today: date, notice: str | None) -> None:
    assert shutdown_notice(model, today) == notice


def test_model_info_falls_back_from_unknown_snapshots_only() -> None:
    assert model_info("gpt-realtime-2.1-2027-03-01") is MODELS["gpt-realtime-2.1"]
    assert model_info("gpt-realtime-3") is None  # no prefix guessing
    assert models.strip_snapshot("gpt-realtime-2") == "gpt-realtime-2"


def test_default_transcription_model_is_current_and_is_what_the_stand_in_assumes() -> None:
    from realtime_nb.server.transcription import transcription_usage

    info = model_info(models.DEFAULT_TRANSCRIPTION_MODEL)
    assert info is not None and info.family == "transcription" and info.shutdown is None
    # no model named: the stand-in answers as the default (a per-minute model)
    assert transcription_usage(None, 2.0, "hi") == {"type": "duration", "seconds": 2.0}
