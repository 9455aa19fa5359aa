"""An event as it crossed the wire: its base64 audio put back where the log keeps a marker.

Why: the log replaces every event's base64 audio by a small marker (``{audio_bytes, ms}``) so
that an hour of audio does not live twice in memory. Someone learning the protocol still wants
to see what an ``response.output_audio.delta`` really looked like. The audio is not lost: the
conversation keeps each assistant item's PCM, and the markers say how many bytes each delta
carried, so a delta's exact bytes are the item's audio from the sum of the earlier deltas'
bytes. Where that cannot be exact (audio the client sent is kept per item, not per append;
items whose audio was released; a wire format other than PCM16; rows evicted from the log),
:class:`OriginalUnavailable` says so instead of guessing.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from .audio import b64encode_audio
from .conversation import Conversation, ConversationItem
from .events import EventRow

__all__ = ["OriginalUnavailable", "original_payload"]

_OUTPUT_DELTA = "response.output_audio.delta"


class OriginalUnavailable(Exception):
    """The event's audio cannot be rebuilt exactly; the message says why and where it is."""


def _marker_bytes(value: object) -> int | None:
    if isinstance(value, dict) and isinstance(value.get("audio_bytes"), int):
        return int(value["audio_bytes"])
    return None


def original_payload(
    row: EventRow,
    rows: Iterable[EventRow],
    conversation: Conversation,
    *,
    output_format: str | None = "pcm16",
) -> dict[str, Any]:
    """``row``'s payload with its base64 audio restored (a copy; the log is not changed).

    ``rows`` are the log's rows (for a delta's offset in its item); ``output_format`` is the
    session's output audio format. Raises :class:`OriginalUnavailable` when the audio cannot
    be rebuilt byte for byte.
    """
    payload = copy.deepcopy(row.payload)
    if row.type == _OUTPUT_DELTA:
        payload["delta"] = _output_delta(row, rows, conversation, output_format)
        return payload
    if row.type == "input_audio_buffer.append":
        raise OriginalUnavailable(
            "Audio you sent is kept per conversation item, not per append, so this append's "
            "base64 is not kept. The committed audio: w.item_audio(item_id) of the user item."
        )
    item = payload.get("item")
    content = item.get("content") if isinstance(item, dict) else None
    if isinstance(content, list) and isinstance(item, dict):
        marked = [
            i
            for i, p in enumerate(content)
            if isinstance(p, dict) and _marker_bytes(p.get("audio"))
        ]
        if len(marked) == 1:
            stored = conversation.item(str(item.get("id")))
            pcm = _retained_pcm(stored, str(item.get("id")))
            expected = _marker_bytes(content[marked[0]]["audio"])
            if len(pcm) != expected:
                raise OriginalUnavailable(
                    f"The item's audio now has {len(pcm)} bytes, the event carried {expected}: "
                    "it changed after this event (e.g. truncated), so it is not rebuilt."
                )
            content[marked[0]]["audio"] = b64encode_audio(pcm)
            return payload
    raise OriginalUnavailable("This event carried no audio that the log replaced by a marker.")


def _retained_pcm(stored: ConversationItem | None, item_id: str) -> bytes:
    if stored is None:
        raise OriginalUnavailable(f"The conversation no longer has item {item_id}.")
    if stored.audio_released:
        raise OriginalUnavailable(
            f"Item {item_id}'s audio was released (the session's audio retention limit), so "
            "its base64 cannot be rebuilt."
        )
    return bytes(stored.audio().tobytes())


def _output_delta(
    row: EventRow, rows: Iterable[EventRow], conversation: Conversation, output_format: str | None
) -> str:
    if output_format not in (None, "pcm16", "audio/pcm"):
        raise OriginalUnavailable(
            f"The session's output audio is {output_format}; the conversation keeps it as "
            "PCM16, so the exact base64 that was sent cannot be rebuilt."
        )
    nbytes = _marker_bytes(row.payload.get("delta"))
    if nbytes is None or row.item_id is None:
        raise OriginalUnavailable("This delta has no audio marker or no item id.")
    same_item = [r for r in rows if r.type == _OUTPUT_DELTA and r.item_id == row.item_id]
    offset = sum(r.audio_bytes for r in same_item if r.seq < row.seq)
    stored = conversation.item(row.item_id)
    pcm = _retained_pcm(stored, row.item_id)
    assert stored is not None  # _retained_pcm raised otherwise
    if sum(r.audio_bytes for r in same_item) != stored.audio_bytes_received:
        raise OriginalUnavailable(
            "Some of this item's earlier deltas were evicted from the log (max_rows), so this "
            "delta's place in the item's audio is not known exactly."
        )
    if offset + nbytes > len(pcm):
        raise OriginalUnavailable(
            "The item's kept audio is shorter than where this delta would be (partly released)."
        )
    return b64encode_audio(pcm[offset : offset + nbytes])
