"""The beta ⇄ GA protocol mapping, as data: one table per shape, read in both directions.

Theory of operation. The beta Realtime protocol (``OpenAI-Beta: realtime=v1``) and GA differ in
four ways, each a table below:

- event names (``response.audio.delta`` → ``response.output_audio.delta`` …): :data:`EVENT_NAMES`;
- assistant content-part types (``audio``/``text`` → ``output_audio``/``output_text``):
  :data:`CONTENT_TYPES`;
- the session object: flat in beta (``voice``, ``input_audio_format`` …), nested under
  ``audio.input``/``audio.output`` in GA: :data:`SESSION_KEYS`;
- ``response.create`` parameters, the same way: :data:`RESPONSE_KEYS`.

Each key table is a list of ``(beta key, GA path, converter pair)``; :func:`flat_to_ga` and
:func:`ga_to_flat` walk it one way or the other. The client reads a beta server as GA
(:func:`normalize_server_event`) and writes to it in beta (:func:`client_event_to_beta`); the
stand-in's beta mode does the reverse (:func:`to_beta_server_event`,
:func:`client_event_to_ga`). So the two directions cannot drift apart.

Odd shapes pass through: anything that is not the dict or list a rule expects is left as it is,
and no function here raises on server input. Pure.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .protocol import SAMPLE_RATE

Convert = Callable[[Any], Any]

# --- event names and content types ----------------------------------------------------------
#: Beta event name → GA name (renamed in GA; every other name is the same in both).
EVENT_NAMES: dict[str, str] = {
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
    "transcription_session.created": "session.created",
    "transcription_session.updated": "session.updated",
}
#: GA → beta, for a stand-in speaking beta (transcription sessions stay GA-named there).
EVENT_NAMES_TO_BETA: dict[str, str] = {
    ga: beta for beta, ga in EVENT_NAMES.items() if not beta.startswith("transcription")
}
#: Assistant content-part types, beta → GA.
CONTENT_TYPES: dict[str, str] = {"audio": "output_audio", "text": "output_text"}
CONTENT_TYPES_TO_BETA: dict[str, str] = {ga: beta for beta, ga in CONTENT_TYPES.items()}

# --- values that change form -----------------------------------------------------------------
_FORMATS_TO_GA: dict[str, dict[str, Any]] = {
    "pcm16": {"type": "audio/pcm", "rate": SAMPLE_RATE},
    "g711_ulaw": {"type": "audio/pcmu"},
    "g711_alaw": {"type": "audio/pcma"},
}
_FORMATS_TO_BETA: dict[str, str] = {
    "audio/pcm": "pcm16",
    "audio/pcmu": "g711_ulaw",
    "audio/pcma": "g711_alaw",
}


def format_to_ga(fmt: Any) -> Any:
    """``"pcm16"`` → ``{"type": "audio/pcm", "rate": 24000}``; GA objects and None unchanged."""
    if not isinstance(fmt, str):
        return fmt
    return dict(_FORMATS_TO_GA.get(fmt, {"type": fmt}))


def format_to_beta(fmt: Any) -> Any:
    """``{"type": "audio/pcmu"}`` → ``"g711_ulaw"``; strings and None unchanged."""
    if not isinstance(fmt, dict):
        return fmt
    return _FORMATS_TO_BETA.get(str(fmt.get("type")), str(fmt.get("type")))


def modalities_to_ga(value: Any) -> Any:
    """Beta ``["text", "audio"]`` → GA ``["audio"]`` (GA audio responses carry a transcript)."""
    if not isinstance(value, list):
        return value
    return ["audio"] if "audio" in value else (list(value) or ["text"])


def modalities_to_beta(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return ["text", "audio"] if "audio" in value else list(value)


def _same(value: Any) -> Any:
    return value


_SAME: tuple[Convert, Convert] = (_same, _same)
_FORMAT: tuple[Convert, Convert] = (format_to_ga, format_to_beta)
_MODALITIES: tuple[Convert, Convert] = (modalities_to_ga, modalities_to_beta)

Rule = tuple[str, tuple[str, ...], tuple[Convert, Convert]]

# --- key tables ----------------------------------------------------------------------------------
#: The session object: (beta key, GA path, (to GA, to beta)).
SESSION_KEYS: list[Rule] = [
    ("modalities", ("output_modalities",), _MODALITIES),
    ("voice", ("audio", "output", "voice"), _SAME),
    ("speed", ("audio", "output", "speed"), _SAME),
    ("output_audio_format", ("audio", "output", "format"), _FORMAT),
    ("input_audio_format", ("audio", "input", "format"), _FORMAT),
    ("input_audio_transcription", ("audio", "input", "transcription"), _SAME),
    ("input_audio_noise_reduction", ("audio", "input", "noise_reduction"), _SAME),
    ("turn_detection", ("audio", "input", "turn_detection"), _SAME),
    ("max_response_output_tokens", ("max_output_tokens",), _SAME),
]
#: Beta-only session keys GA has no place for, and GA-only keys beta has none for.
SESSION_DROPPED_TO_GA = frozenset({"temperature"})
SESSION_DROPPED_TO_BETA = frozenset({"type", "truncation", "prompt", "include"})

#: The response object (``response.created``/``done``): beta kept ``max_output_tokens``.
RESPONSE_KEYS: list[Rule] = [
    ("modalities", ("output_modalities",), _MODALITIES),
    ("voice", ("audio", "output", "voice"), _SAME),
    ("output_audio_format", ("audio", "output", "format"), _FORMAT),
]
#: ``response.create``'s ``response`` parameters: the token limit was renamed too.
RESPONSE_PARAMS: list[Rule] = [
    *RESPONSE_KEYS,
    ("max_response_output_tokens", ("max_output_tokens",), _SAME),
]
RESPONSE_DROPPED_TO_GA = frozenset({"temperature"})
#: Usage details beta reported (GA adds image tokens and the cached-token breakdown).
_BETA_INPUT_DETAILS = ("text_tokens", "audio_tokens", "cached_tokens")


def flat_to_ga(flat: dict[str, Any], table: list[Rule], dropped: frozenset[str]) -> dict[str, Any]:
    """A flat beta object in the nested GA shape, following ``table``."""
    by_key = {beta: (path, convert) for beta, path, convert in table}
    ga: dict[str, Any] = {}
    for key, value in flat.items():
        if key in dropped:
            continue
        rule = by_key.get(key)
        if rule is None:
            ga[key] = value
            continue
        path, (to_ga, _) = rule
        node = ga
        for step in path[:-1]:
            node = node.setdefault(step, {})
        node[path[-1]] = to_ga(value)
    return ga


def ga_to_flat(ga: dict[str, Any], table: list[Rule], dropped: frozenset[str]) -> dict[str, Any]:
    """A nested GA object in the flat beta shape, following ``table``."""
    flat: dict[str, Any] = {}
    nested_roots = {path[0] for _, path, _ in table if len(path) > 1}
    for key, value in ga.items():
        if key in dropped or key in nested_roots:
            continue
        if not any(path == (key,) for _, path, _ in table):
            flat[key] = value
    for beta, path, (_, to_beta) in table:
        node: Any = ga
        for step in path:
            node = node.get(step, _MISSING) if isinstance(node, dict) else _MISSING
        if node is not _MISSING:
            flat[beta] = to_beta(node)
    return flat


_MISSING = object()

_SESSION_MARKERS = frozenset(key for key, _, _ in SESSION_KEYS) | SESSION_DROPPED_TO_GA


def is_beta_session(session: dict[str, Any]) -> bool:
    """True when a session object uses the flat beta shape rather than the GA one."""
    return "audio" not in session and any(k in session for k in _SESSION_MARKERS)


def session_to_ga(flat: dict[str, Any]) -> dict[str, Any]:
    """A flat beta session in the nested GA shape (``temperature`` is dropped)."""
    ga = flat_to_ga(flat, SESSION_KEYS, SESSION_DROPPED_TO_GA)
    ga.setdefault("type", "realtime")
    return ga


def session_to_beta(ga: dict[str, Any]) -> dict[str, Any]:
    """A nested GA session in the flat beta shape."""
    return ga_to_flat(ga, SESSION_KEYS, SESSION_DROPPED_TO_BETA)


def response_to_ga(flat: dict[str, Any]) -> dict[str, Any]:
    """Beta ``response.create`` parameters in the GA shape."""
    return flat_to_ga(flat, RESPONSE_PARAMS, RESPONSE_DROPPED_TO_GA)


def response_params_to_beta(ga: dict[str, Any]) -> dict[str, Any]:
    """GA ``response.create`` parameters in the beta shape."""
    return ga_to_flat(ga, RESPONSE_PARAMS, frozenset())


def response_to_beta(ga: dict[str, Any]) -> dict[str, Any]:
    """A GA response object (``response.created``/``done``) in the beta shape."""
    flat = ga_to_flat(ga, RESPONSE_KEYS, frozenset())
    usage = flat.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("input_token_details"), dict):
        details = usage["input_token_details"]
        flat["usage"] = {
            **usage,
            "input_token_details": {k: details[k] for k in _BETA_INPUT_DETAILS if k in details},
        }
    return flat


# --- whole events --------------------------------------------------------------------------------
def _parts(item: Any) -> list[dict[str, Any]]:
    content = item.get("content") if isinstance(item, dict) else None
    return [p for p in content if isinstance(p, dict)] if isinstance(content, list) else []


def _map_content(item: Any, names: dict[str, str], *, assistant_only: bool) -> None:
    if assistant_only and (not isinstance(item, dict) or item.get("role") != "assistant"):
        return
    for part in _parts(item):
        kind = part.get("type")
        if isinstance(kind, str) and kind in names:
            part["type"] = names[kind]


def _response_items(event: dict[str, Any]) -> list[Any]:
    response = event.get("response")
    output = response.get("output") if isinstance(response, dict) else None
    return output if isinstance(output, list) else []


def normalize_server_event(event: dict[str, Any]) -> dict[str, Any]:
    """Return a server ``event`` in GA form, changed in place (GA events are left as they are).

    A renamed event keeps its beta name under ``"_beta_type"`` so the log shows what was sent.
    """
    type_ = event.get("type")
    if not isinstance(type_, str):
        return event
    renamed = EVENT_NAMES.get(type_)
    if renamed is not None:
        event["_beta_type"] = type_
        event["type"] = renamed
    session = event.get("session")
    if isinstance(session, dict) and is_beta_session(session):
        event["session"] = session_to_ga(session)
        event.setdefault("_beta_type", type_)
    _map_content(event.get("item"), CONTENT_TYPES, assistant_only=True)
    for item in _response_items(event):
        _map_content(item, CONTENT_TYPES, assistant_only=True)
    return event


def to_beta_server_event(event: dict[str, Any]) -> dict[str, Any]:
    """A GA server event in the beta shape (the stand-in's beta mode). Returns a copy."""
    out = copy.deepcopy(event)
    type_ = out.get("type")
    if isinstance(type_, str) and type_ in EVENT_NAMES_TO_BETA:
        out["type"] = EVENT_NAMES_TO_BETA[type_]
    if isinstance(out.get("session"), dict):
        out["session"] = session_to_beta(out["session"])
    if isinstance(out.get("response"), dict):
        out["response"] = response_to_beta(out["response"])
    _map_content(out.get("item"), CONTENT_TYPES_TO_BETA, assistant_only=False)
    for item in _response_items(out):
        _map_content(item, CONTENT_TYPES_TO_BETA, assistant_only=False)
    return out


def client_event_to_ga(event: dict[str, Any]) -> dict[str, Any]:
    """A beta client event read as GA (the stand-in's beta mode). Returns a copy."""
    out = copy.deepcopy(event)
    type_ = out.get("type")
    session = out.get("session")
    if (
        type_ == "session.update"
        and isinstance(session, dict)
        and ("type" not in session or is_beta_session(session))
    ):
        out["session"] = session_to_ga(session)
    response = out.get("response")
    if type_ == "response.create" and isinstance(response, dict):
        out["response"] = response_to_ga(response)
    _map_content(out.get("item"), CONTENT_TYPES, assistant_only=True)
    return out


def client_event_to_beta(event: dict[str, Any]) -> dict[str, Any]:
    """A GA client event in the beta shape, for a server that speaks beta. Returns a copy."""
    out = copy.deepcopy(event)
    type_ = out.get("type")
    session = out.get("session")
    if type_ == "session.update" and isinstance(session, dict):
        out["session"] = session_to_beta(session)
    response = out.get("response")
    if type_ == "response.create" and isinstance(response, dict):
        out["response"] = response_params_to_beta(response)
    _map_content(out.get("item"), CONTENT_TYPES_TO_BETA, assistant_only=True)
    return out


__all__ = [
    "CONTENT_TYPES",
    "EVENT_NAMES",
    "RESPONSE_KEYS",
    "RESPONSE_PARAMS",
    "SESSION_KEYS",
    "client_event_to_beta",
    "client_event_to_ga",
    "flat_to_ga",
    "format_to_beta",
    "format_to_ga",
    "ga_to_flat",
    "is_beta_session",
    "normalize_server_event",
    "response_params_to_beta",
    "response_to_beta",
    "response_to_ga",
    "session_to_beta",
    "session_to_ga",
    "to_beta_server_event",
]
