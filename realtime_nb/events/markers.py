"""Audio in event payloads: decoded once, replaced by a small marker (``{audio_bytes, ms}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..audio import PCM16_BYTES_PER_MS, b64decode_audio
from ..errors import AudioFormatError, ProtocolError
from ..protocol import AUDIO_DELTA_FIELD

if TYPE_CHECKING:
    pass


_BYTES_PER_MS = PCM16_BYTES_PER_MS  # the marker's ``ms`` assumes PCM16 at 24 kHz

#: Events that may carry base64 audio inside ``item.content[i].audio`` or ``part.audio``.
_ITEM_AUDIO_TYPES: frozenset[str] = frozenset(
    {
        "conversation.item.create",
        "conversation.item.retrieved",
        "conversation.item.added",
        "conversation.item.created",
        "conversation.item.done",
        "response.output_item.done",
    }
)
_PART_AUDIO_TYPES: frozenset[str] = frozenset(
    {"response.content_part.added", "response.content_part.done"}
)
#: Types whose payload may still hold base64 audio when a caller skipped extract_audio.
_AUDIO_CARRIERS: frozenset[str] = (
    frozenset(AUDIO_DELTA_FIELD) | _ITEM_AUDIO_TYPES | _PART_AUDIO_TYPES
)

_MARKER_KEYS = frozenset({"audio_bytes", "ms"})


# --- audio extraction ------------------------------------------------------------------------
def audio_marker(nbytes: int) -> dict[str, Any]:
    """The small dict that stands in a payload for ``nbytes`` of PCM16 audio."""
    return {"audio_bytes": nbytes, "ms": round(nbytes / _BYTES_PER_MS, 1)}


def _is_marker(value: object) -> bool:
    return isinstance(value, dict) and "audio_bytes" in value


def _decode(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise ProtocolError(f"Audio in {where} is {type(value).__name__}, not a base64 string.")
    try:
        return b64decode_audio(value)
    except AudioFormatError as exc:
        raise ProtocolError(f"Invalid base64 audio in {where}: {exc}") from None


def _b64_len(value: str) -> int:
    """Decoded length of a base64 string, without decoding it."""
    n = len(value)
    pad = 2 if value.endswith("==") else 1 if value.endswith("=") else 0
    return max(n * 3 // 4 - pad, 0)


def _extract_parts(parts: object, where: str) -> bytes | None:
    if not isinstance(parts, list):
        return None
    found: list[bytes] = []
    for i, part in enumerate(parts):
        if isinstance(part, dict):
            value = part.get("audio")
            if value is None or _is_marker(value):
                continue
            pcm = _decode(value, f"{where}[{i}].audio")
            part["audio"] = audio_marker(len(pcm))
            found.append(pcm)
    if not found:
        return None
    return found[0] if len(found) == 1 else b"".join(found)


def extract_audio(event: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
    """Decode base64 audio once and replace it in the payload by a marker.

    Handles ``input_audio_buffer.append`` (``audio``), ``response.output_audio.delta``
    (``delta``), and item events (``item.content[i].audio``, e.g. ``conversation.item.create``
    and ``conversation.item.retrieved``). The marker is :func:`audio_marker`. The same dict is
    mutated and returned (no copy); PCM is ``None`` when the event carried no audio.

    Raises:
        ProtocolError: the audio is not valid base64 (the caller logs an error row).
    """
    type_ = event.get("type")
    if not isinstance(type_, str):
        return event, None
    fieldname = AUDIO_DELTA_FIELD.get(type_)
    if fieldname is not None:
        value = event.get(fieldname)
        if value is None or _is_marker(value):
            return event, None
        pcm = _decode(value, f"{type_}.{fieldname}")
        event[fieldname] = audio_marker(len(pcm))
        return event, pcm
    if type_ in _ITEM_AUDIO_TYPES:
        item = event.get("item")
        if isinstance(item, dict):
            return event, _extract_parts(item.get("content"), f"{type_}.item.content")
    elif type_ in _PART_AUDIO_TYPES:
        part = event.get("part")
        if isinstance(part, dict):
            return event, _extract_parts([part], f"{type_}.part")
    return event, None


def _mark_leftover_audio(type_: str, event: dict[str, Any]) -> int:
    """Replace base64 audio a caller did not extract by a marker; return its byte count."""
    fieldname = AUDIO_DELTA_FIELD.get(type_)
    if fieldname is not None:
        value = event.get(fieldname)
        if isinstance(value, str):
            n = _b64_len(value)
            event[fieldname] = audio_marker(n)
            return n
        return 0
    parts: object = None
    if type_ in _ITEM_AUDIO_TYPES:
        item = event.get("item")
        parts = item.get("content") if isinstance(item, dict) else None
    elif type_ in _PART_AUDIO_TYPES:
        parts = [event.get("part")]
    total = 0
    if isinstance(parts, list):
        for part in parts:
            if isinstance(part, dict) and isinstance(part.get("audio"), str):
                n = _b64_len(part["audio"])
                part["audio"] = audio_marker(n)
                total += n
    return total
