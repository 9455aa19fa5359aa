"""Per-response timing, from which the turn latency table is built."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


# --- derived tables ------------------------------------------------------------------------------
@dataclass(slots=True)
class Turn:
    """Latency of one response: speech stop → created → first audio/text → done (ms)."""

    response_id: str
    status: str | None
    input_item_id: str | None  #: the user item whose speech_stopped started the turn
    speech_stopped_t: float | None
    created_t: float | None
    first_audio_t: float | None
    first_text_t: float | None
    done_t: float | None
    created_ms: float | None  #: speech_stopped → response.created
    first_audio_ms: float | None  #: response.created → first output_audio.delta
    first_text_ms: float | None  #: response.created → first text or transcript delta
    total_ms: float | None  #: response.created → response.done

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(slots=True)
class _ResponseTrack:
    """What the turns and usage tables need from one response; kept outside the bounded rows."""

    response_id: str
    stop_t: float | None = None
    input_item_id: str | None = None
    created_t: float | None = None
    first_audio_t: float | None = None
    first_text_t: float | None = None
    done_t: float | None = None
    status: str | None = None
    usage: dict[str, Any] | None = None
    model: str | None = None


def _ms(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round((b - a) * 1000.0, 3)
