"""The session object: its defaults, ``session.update`` semantics, and how events show it.

A session is the GA dict that ``session.created`` shows. :func:`merge_session` applies a
schema-checked ``session.update`` patch the way the service does (nested ``audio`` fields merge,
the model stays, some changes are refused); :func:`session_view` is what events carry (the beta
shape for a beta connection). Pure: no I/O, no clock.
"""

from __future__ import annotations

import copy
from typing import Any

from .. import audio, beta
from . import validation as v
from .connect import SessionKind

DEFAULT_INSTRUCTIONS = (
    "You are the realtime-nb stand-in server, a local imitation of the Realtime API for offline "
    "use and tests. You do not understand speech or text: you echo what you hear and say so."
)


def default_session(
    kind: SessionKind, model: str | None, session_id: str, expires_at: int
) -> dict[str, Any]:
    """The session ``session.created`` shows for a new ``kind`` connection (§4.1)."""
    pcm = {"type": "audio/pcm", "rate": audio.SAMPLE_RATE}
    vad = {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
    }
    if kind == "transcription":
        return {
            "type": "transcription",
            "object": "realtime.transcription_session",
            "id": session_id,
            "expires_at": expires_at,
            "audio": {
                "input": {
                    "format": dict(pcm),
                    "transcription": None,
                    "noise_reduction": None,
                    "turn_detection": vad,
                }
            },
            "include": None,
        }
    vad.update(idle_timeout_ms=None, create_response=True, interrupt_response=True)
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": dict(pcm),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": vad,
            },
            "output": {"format": dict(pcm), "voice": "alloy", "speed": 1.0},
        },
        "include": None,
    }


def session_view(session: dict[str, Any], kind: SessionKind, beta_shape: bool) -> dict[str, Any]:
    """The session as events show it: a copy, flat for a beta connection."""
    session = copy.deepcopy(session)
    if not beta_shape:
        return session
    flat = beta.session_to_beta(session)
    td = flat.get("turn_detection")
    if isinstance(td, dict) and td.get("idle_timeout_ms", 0) is None:
        del td["idle_timeout_ms"]  # not in the beta shape
    if kind == "realtime":
        flat.setdefault("temperature", 0.8)
    return flat


def merge_session(
    session: dict[str, Any], patch: dict[str, Any], kind: SessionKind, audio_produced: bool
) -> dict[str, Any]:
    """The session after ``patch`` (already schema-checked); raises :class:`v.Invalid`.

    ``audio_produced``: assistant audio exists, so the voice can no longer change.
    """
    new = copy.deepcopy(session)
    if patch["type"] != kind:
        raise v.Invalid(  # UNCONFIRMED code/message
            "invalid_value",
            f"Cannot change the session type from '{kind}' to '{patch['type']}'.",
            "session.type",
        )
    v.check_reasoning(session.get("model"), patch.get("reasoning"), "session.reasoning")
    for key, value in patch.items():
        if key in ("type", "model"):
            continue  # the model is fixed at connect time (§4.1): kept, not an error
        if key == "audio":
            for side, fields in value.items():
                target = new["audio"][side]
                for name, val in fields.items():
                    target[name] = normalize_audio_field(name, val, kind)
        elif key == "output_modalities" and len(set(value)) > 1:
            raise v.Invalid(  # UNCONFIRMED code/message
                "invalid_value",
                "Invalid 'session.output_modalities': request either ['audio'] or ['text'], "
                "not both.",
                "session.output_modalities",
            )
        elif key == "tracing" and session.get("tracing") not in (None, value):
            raise v.Invalid(  # UNCONFIRMED code/message
                "invalid_value",
                "Tracing cannot be modified once it is enabled for a session.",
                "session.tracing",
            )
        else:
            new[key] = value
    if kind == "realtime":
        old_voice = session["audio"]["output"]["voice"]
        if audio_produced and new["audio"]["output"]["voice"] != old_voice:
            raise v.Invalid(  # code handled by name in public clients; message as users report it
                "cannot_update_voice",
                "Cannot update a conversation's voice if assistant audio is present.",
                "session.audio.output.voice",
            )
    return new


def normalize_audio_field(name: str, value: Any, kind: SessionKind) -> Any:
    """One ``audio.input``/``audio.output`` field as the session stores it (defaults filled)."""
    if value is None:
        return None
    if name == "format":
        fmt = {"type": value["type"]}
        if value["type"] == "audio/pcm":
            fmt["rate"] = value.get("rate", audio.SAMPLE_RATE)
        return fmt
    if name == "turn_detection":
        if value["type"] == "semantic_vad":
            return {
                "type": "semantic_vad",
                "eagerness": value.get("eagerness", "auto"),
                "create_response": value.get("create_response", True),
                "interrupt_response": value.get("interrupt_response", True),
            }
        td = {
            "type": "server_vad",
            "threshold": value.get("threshold", 0.5),
            "prefix_padding_ms": value.get("prefix_padding_ms", 300),
            "silence_duration_ms": value.get("silence_duration_ms", 200),
        }
        if kind == "realtime":
            td["idle_timeout_ms"] = value.get("idle_timeout_ms")
            td["create_response"] = value.get("create_response", True)
            td["interrupt_response"] = value.get("interrupt_response", True)
        else:
            td.update({k: value[k] for k in value if k not in td and k != "type"})
        return td
    if name == "transcription":
        out = {
            "model": value.get("model"),
            "language": value.get("language"),
            "prompt": value.get("prompt"),
        }
        out.update({k: val for k, val in value.items() if k not in out})
        return out
    return value


__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "default_session",
    "merge_session",
    "normalize_audio_field",
    "session_view",
]
