"""The event log: every frame sent or received, as one row (DESIGN.md §5).

Theory of operation. :meth:`EventLog.record` is on the receive hot path (50–200 events/s per
session), so it does the least that keeps the log exact: it stores the event dict itself (no
copy) with its audio already replaced by a small marker (see :func:`extract_audio`), bumps a few
counters, and feeds the handful of event types that the derived tables need (turn latencies,
usage) into per-response accumulators. Everything meant for people — one-line summaries, the
coalesced view, DataFrames, the HTML repr — is computed lazily when asked for.

Rows are bounded (``max_rows``); counts, byte totals, turns and usage are kept outside the rows
so they stay exact after the oldest rows are evicted.

Pure: no I/O except :meth:`EventLog.to_jsonl`, no clock (times are passed in), no asyncio.
"""

from __future__ import annotations

import html
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

from .audio import PCM16_BYTES_PER_MS, b64decode_audio
from .errors import AudioFormatError, ProtocolError, UsageError
from .protocol import AUDIO_DELTA_FIELD, event_ids

if TYPE_CHECKING:
    import pandas

Direction = Literal["client", "server", "local"]

_BYTES_PER_MS = PCM16_BYTES_PER_MS  # the marker's ``ms`` assumes PCM16 at 24 kHz
#: Longest one-line summary.
SUMMARY_MAX = 120
#: Coalesced rows shown by the HTML repr.
HTML_ROWS = 200

#: Event types whose consecutive rows (same direction, type and item) are merged for display.
COALESCED_TYPES: frozenset[str] = frozenset(
    {
        "input_audio_buffer.append",
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "conversation.item.input_audio_transcription.delta",
    }
)
_TEXT_DELTA_TYPES = COALESCED_TYPES - {"input_audio_buffer.append", "response.output_audio.delta"}

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
#: Top-level keys never stored in a row (belt and braces: events carry no credentials, but a
#: hand-built payload might). Lower, Title and UPPER spellings, checked in one C-level pass.
_SECRET_KEYS: frozenset[str] = frozenset(
    spelling
    for key in ("authorization", "api-key", "api_key", "apikey", "x-api-key")
    for spelling in (key, key.title(), key.upper(), key.replace("key", "Key"))
)
#: Types whose payload may still hold base64 audio when a caller skipped extract_audio.
_AUDIO_CARRIERS: frozenset[str] = (
    frozenset(AUDIO_DELTA_FIELD) | _ITEM_AUDIO_TYPES | _PART_AUDIO_TYPES
)

_MARKER_KEYS = frozenset({"audio_bytes", "ms"})
#: Most distinct strings (and markers) a log shares between rows; beyond it rows keep their own.
_MAX_SHARED = 20_000

_ARROWS: dict[str, str] = {"client": "→", "server": "←", "local": "•"}
_DIR_COLORS: dict[str, str] = {"client": "#3b82f6", "server": "#16a34a", "local": "#8b8b8b"}


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


def printable(text: str) -> str:
    """``text`` with lone surrogates (e.g. ``"\\ud800"`` from a JSON escape) replaced by U+FFFD.

    Such strings are valid in Python and in JSON escapes but cannot be encoded as UTF-8, which
    is what a notebook, a comm message or a file needs.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


# --- summaries ---------------------------------------------------------------------------------
def _clip(text: str, limit: int = SUMMARY_MAX) -> str:
    if "\n" in text or "\r" in text:
        text = text.replace("\r", "").replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else ""


def _d(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _audio_ms(p: dict[str, Any], key: str) -> str:
    marker = p.get(key)
    if isinstance(marker, dict) and "audio_bytes" in marker:
        return f"{marker.get('ms', 0)} ms"
    return ""


def _session_summary(p: dict[str, Any]) -> str:
    s = _d(p.get("session"))
    audio = _d(s.get("audio"))
    bits: list[str] = []
    voice = _d(audio.get("output")).get("voice") or s.get("voice")
    if voice is not None:
        bits.append(f"voice={voice.get('id') if isinstance(voice, dict) else voice}")
    audio_in = _d(audio.get("input"))
    if "turn_detection" in audio_in or "turn_detection" in s:
        td = audio_in.get("turn_detection", s.get("turn_detection"))
        bits.append(f"vad={_d(td).get('type') or 'none'}")
    asr = audio_in.get("transcription", s.get("input_audio_transcription"))
    if isinstance(asr, dict) and asr.get("model"):
        bits.append(f"asr={asr['model']}")
    mods = s.get("output_modalities")
    if isinstance(mods, list) and mods != ["audio"]:
        bits.append("out=" + "+".join(map(str, mods)))
    if s.get("type") == "transcription":
        bits.append("transcription")
    if s.get("model"):
        bits.append(f"model={s['model']}")
    return " ".join(bits)


def _item_summary(item: object) -> str:
    it = _d(item)
    kind = it.get("type")
    if kind == "function_call":
        return f"function_call {it.get('name')}({it.get('arguments') or ''})"
    if kind == "function_call_output":
        return f"function_call_output {it.get('call_id')} {_quote(it.get('output'))}"
    bits = [str(x) for x in (it.get("role"), kind, it.get("status")) if x]
    content = it.get("content")
    for part in content if isinstance(content, list) else ():
        part = _d(part)
        text = part.get("text") if part.get("text") is not None else part.get("transcript")
        if isinstance(text, str) and text:
            bits.append(_quote(text))
            break
        if _is_marker(part.get("audio")):
            bits.append(f"{part['audio'].get('ms')} ms audio")
    return " ".join(bits)


def _part_summary(part: object) -> str:
    p = _d(part)
    text = p.get("text") if p.get("text") is not None else p.get("transcript")
    return f"{p.get('type') or ''} {_quote(text) if text else ''}".strip()


def _response_summary(p: dict[str, Any]) -> str:
    r = _d(p.get("response"))
    bits = [str(r.get("status") or "")]
    details = _d(r.get("status_details"))
    reason = details.get("reason") or _d(details.get("error")).get("code")
    if reason:
        bits.append(f"({reason})")
    usage = r.get("usage")
    if isinstance(usage, dict):
        bits.append(f"in={usage.get('input_tokens')} out={usage.get('output_tokens')} tokens")
    return " ".join(b for b in bits if b)


def _error_summary(p: dict[str, Any]) -> str:
    err = _d(p.get("error"))
    return f"{err.get('code') or err.get('type') or ''}: {err.get('message') or ''}"


def _rate_limits_summary(p: dict[str, Any]) -> str:
    limits = p.get("rate_limits")
    if not isinstance(limits, list):
        return ""
    return " ".join(
        f"{x.get('name')} {x.get('remaining')}/{x.get('limit')}"
        for x in limits
        if isinstance(x, dict)
    )


def _local_summary(p: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in p.items() if k != "type")


_SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "input_audio_buffer.append": lambda p: _audio_ms(p, "audio"),
    "response.output_audio.delta": lambda p: _audio_ms(p, "delta"),
    "response.output_audio_transcript.delta": lambda p: _quote(p.get("delta")),
    "response.output_text.delta": lambda p: _quote(p.get("delta")),
    "response.function_call_arguments.delta": lambda p: _quote(p.get("delta")),
    "conversation.item.input_audio_transcription.delta": lambda p: _quote(p.get("delta")),
    "response.output_audio_transcript.done": lambda p: _quote(p.get("transcript")),
    "response.output_text.done": lambda p: _quote(p.get("text")),
    "response.function_call_arguments.done": lambda p: f"{p.get('name')}({p.get('arguments')})",
    "conversation.item.input_audio_transcription.completed": lambda p: _quote(p.get("transcript")),
    "conversation.item.input_audio_transcription.failed": _error_summary,
    "error": _error_summary,
    "session.created": _session_summary,
    "session.updated": _session_summary,
    "session.update": _session_summary,
    "response.created": _response_summary,
    "response.done": _response_summary,
    "response.create": lambda p: _session_summary({"session": p.get("response")}),
    "response.cancel": lambda p: str(p.get("response_id") or ""),
    "conversation.item.added": lambda p: _item_summary(p.get("item")),
    "conversation.item.created": lambda p: _item_summary(p.get("item")),
    "conversation.item.done": lambda p: _item_summary(p.get("item")),
    "conversation.item.retrieved": lambda p: _item_summary(p.get("item")),
    "conversation.item.create": lambda p: _item_summary(p.get("item")),
    "response.output_item.added": lambda p: _item_summary(p.get("item")),
    "response.output_item.done": lambda p: _item_summary(p.get("item")),
    "response.content_part.added": lambda p: _part_summary(p.get("part")),
    "response.content_part.done": lambda p: _part_summary(p.get("part")),
    "input_audio_buffer.speech_started": lambda p: f"at {p.get('audio_start_ms')} ms",
    "input_audio_buffer.speech_stopped": lambda p: f"at {p.get('audio_end_ms')} ms",
    "input_audio_buffer.timeout_triggered": lambda p: (
        f"{p.get('audio_start_ms')}–{p.get('audio_end_ms')} ms"
    ),
    "conversation.item.truncated": lambda p: f"audio_end_ms={p.get('audio_end_ms')}",
    "conversation.item.truncate": lambda p: f"audio_end_ms={p.get('audio_end_ms')}",
    "rate_limits.updated": _rate_limits_summary,
}


def summarize(direction: str, type_: str, payload: dict[str, Any]) -> str:
    """One line (≤ 120 characters) saying what an event is about, for tables and reprs."""
    make = _SUMMARIES.get(type_)
    if make is not None:
        detail = make(payload)
    elif direction == "local":
        detail = _local_summary(payload)
    else:
        detail = ""
    beta = payload.get("_beta_type")
    if beta:
        detail = f"{detail} (beta {beta})" if detail else f"(beta {beta})"
    return _clip(f"{type_} {detail}" if detail else type_)


# --- rows ----------------------------------------------------------------------------------------
@dataclass(slots=True)
class EventRow:
    """One frame sent or received (or a row the library added itself)."""

    seq: int
    t: float
    wall: float
    direction: Direction
    type: str
    event_id: str | None
    item_id: str | None
    response_id: str | None
    size: int  #: bytes on the wire (length of the JSON text); 0 for local rows
    payload: dict[str, Any]  #: the event with audio replaced by a marker
    audio_bytes: int = 0  #: PCM bytes this event carried
    _summary: str | None = field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> str:
        """One-line description, computed on first use and cached."""
        if self._summary is None:
            self._summary = printable(summarize(self.direction, self.type, self.payload))
        return self._summary

    def to_dict(self) -> dict[str, Any]:
        """A flat record for DataFrames and JSON (the payload is included, not copied)."""
        return {
            "seq": self.seq,
            "t": self.t,
            "wall": self.wall,
            "direction": self.direction,
            "type": self.type,
            "event_id": self.event_id,
            "item_id": self.item_id,
            "response_id": self.response_id,
            "size": self.size,
            "audio_bytes": self.audio_bytes,
            "summary": self.summary,
            "payload": self.payload,
        }


ROW_COLUMNS: tuple[str, ...] = (
    "seq", "t", "wall", "direction", "type", "event_id", "item_id", "response_id", "size",
    "audio_bytes", "summary", "payload",
)  # fmt: skip


@dataclass(slots=True)
class DisplayRow:
    """A run of consecutive same-type delta rows shown as one line (counts stay exact)."""

    first_seq: int
    last_seq: int
    count: int
    t: float
    t_end: float
    direction: Direction
    type: str
    item_id: str | None
    response_id: str | None
    size: int
    audio_bytes: int
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DISPLAY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(DisplayRow))


def _display(run: list[EventRow]) -> DisplayRow:
    first, last = run[0], run[-1]
    if len(run) == 1:
        summary = first.summary
        size, audio = first.size, first.audio_bytes
    else:
        size = sum(r.size for r in run)
        audio = sum(r.audio_bytes for r in run)
        if first.type in _TEXT_DELTA_TYPES:
            pieces: list[str] = []
            length = 0
            for r in run:
                delta = r.payload.get("delta")
                if isinstance(delta, str):
                    pieces.append(delta)
                    length += len(delta)
                    if length > SUMMARY_MAX:
                        break
            summary = _clip(f'{first.type} ×{len(run)} "{"".join(pieces)}"')
        else:
            summary = f"{first.type} ×{len(run)} ({round(audio / _BYTES_PER_MS, 1)} ms)"
    return DisplayRow(
        first_seq=first.seq,
        last_seq=last.seq,
        count=len(run),
        t=first.t,
        t_end=last.t,
        direction=first.direction,
        type=first.type,
        item_id=first.item_id,
        response_id=first.response_id,
        size=size,
        audio_bytes=audio,
        summary=summary,
    )


def _run_key(row: EventRow) -> tuple[str, str, str | None] | None:
    return (row.direction, row.type, row.item_id) if row.type in COALESCED_TYPES else None


def coalesce(rows: Iterable[EventRow]) -> list[DisplayRow]:
    """Merge runs of consecutive delta rows with the same (direction, type, item_id)."""
    out: list[DisplayRow] = []
    run: list[EventRow] = []
    key: tuple[str, str, str | None] | None = None
    for row in rows:
        k = _run_key(row)
        if run and k is not None and k == key:
            run.append(row)
            continue
        if run:
            out.append(_display(run))
        run, key = [row], k
    if run:
        out.append(_display(run))
    return out


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
class UsageRow:
    """Tokens billed for one response (from ``response.done``) and their cost in USD."""

    response_id: str
    model: str | None
    status: str | None
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_text_tokens: int
    input_audio_tokens: int
    input_image_tokens: int
    cached_tokens: int
    cached_text_tokens: int
    cached_audio_tokens: int
    cached_image_tokens: int
    output_text_tokens: int
    output_audio_tokens: int
    cost_usd: float | None  #: None when the model has no entry in the price table

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: USD per 1M tokens (realtime-protocol.md §6, as stored Aug 2026). ``gpt-realtime`` audio and
#: image rates and all ``gpt-realtime-mini`` audio rates are marked UNCONFIRMED there. Pass your
#: own table to :meth:`EventLog.usage` when prices change.
PRICES: dict[str, dict[str, float]] = {
    "gpt-realtime": {
        "text_in": 4.00, "text_cached": 0.40, "text_out": 16.00,
        "audio_in": 32.00, "audio_cached": 0.40, "audio_out": 64.00,
        "image_in": 5.00, "image_cached": 0.50,
    },
    "gpt-realtime-mini": {
        "text_in": 0.60, "text_cached": 0.06, "text_out": 2.40,
        "audio_in": 10.00, "audio_cached": 0.30, "audio_out": 20.00,
    },
    "gpt-4o-realtime-preview": {
        "text_in": 5.00, "text_cached": 2.50, "text_out": 20.00,
        "audio_in": 40.00, "audio_cached": 2.50, "audio_out": 80.00,
    },
    "gpt-4o-mini-realtime-preview": {
        "text_in": 0.60, "text_cached": 0.30, "text_out": 2.40,
        "audio_in": 10.00, "audio_cached": 0.30, "audio_out": 20.00,
    },
}  # fmt: skip
_RATE_KEYS = frozenset(PRICES["gpt-realtime"])


def _strip_snapshot(model: str) -> str:
    """``gpt-realtime-2025-08-28`` → ``gpt-realtime`` (drop a trailing ``-YYYY-MM-DD``)."""
    parts = model.rsplit("-", 3)
    if len(parts) == 4 and all(p.isdigit() for p in parts[1:]) and len(parts[1]) == 4:
        return parts[0]
    return model


def price_for(model: str | None, prices: dict[str, Any] | None = None) -> dict[str, float] | None:
    """The per-1M-token rates for ``model`` (dated snapshots fall back to their base name).

    ``prices`` is a table keyed by model, or one rate dict (keys like ``text_in``) for all models.
    """
    table: dict[str, Any] = PRICES if prices is None else prices
    if table and _RATE_KEYS.intersection(table):
        return table  # a single rate dict
    if model is None:
        return None
    return table.get(model) or table.get(_strip_snapshot(model))


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_row(
    response_id: str, usage: dict[str, Any], model: str | None, status: str | None,
    prices: dict[str, Any] | None = None,
) -> UsageRow:  # fmt: skip
    """Split ``response.done`` usage into text/audio/image/cached tokens and price it."""
    ind = _d(usage.get("input_token_details"))
    outd = _d(usage.get("output_token_details"))
    cached = _int(ind.get("cached_tokens"))
    cd = ind.get("cached_tokens_details")
    in_text, in_audio = _int(ind.get("text_tokens")), _int(ind.get("audio_tokens"))
    in_image = _int(ind.get("image_tokens"))
    if isinstance(cd, dict):
        c_text, c_audio = _int(cd.get("text_tokens")), _int(cd.get("audio_tokens"))
        c_image = _int(cd.get("image_tokens"))
    else:  # no split given: attribute cached tokens to text first, then audio
        c_text = min(cached, in_text)
        c_audio = min(cached - c_text, in_audio)
        c_image = max(cached - c_text - c_audio, 0)
    out_text, out_audio = _int(outd.get("text_tokens")), _int(outd.get("audio_tokens"))
    rates = price_for(model, prices)
    cost: float | None = None
    if rates is not None:
        r = rates.get
        cost = (
            max(in_text - c_text, 0) * r("text_in", 0.0)
            + c_text * r("text_cached", 0.0)
            + max(in_audio - c_audio, 0) * r("audio_in", 0.0)
            + c_audio * r("audio_cached", 0.0)
            + max(in_image - c_image, 0) * r("image_in", 0.0)
            + c_image * r("image_cached", 0.0)
            + out_text * r("text_out", 0.0)
            + out_audio * r("audio_out", 0.0)
        ) / 1_000_000
    return UsageRow(
        response_id=response_id,
        model=model,
        status=status,
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        total_tokens=_int(usage.get("total_tokens")),
        input_text_tokens=in_text,
        input_audio_tokens=in_audio,
        input_image_tokens=in_image,
        cached_tokens=cached,
        cached_text_tokens=c_text,
        cached_audio_tokens=c_audio,
        cached_image_tokens=c_image,
        output_text_tokens=out_text,
        output_audio_tokens=out_audio,
        cost_usd=cost,
    )


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


# --- the log -----------------------------------------------------------------------------------
class EventLog:
    """Every frame as a row, bounded, with exact counts and lazily built views.

    Args:
        max_rows: rows kept; older rows are evicted (``evicted`` says how many). ``None`` keeps
            all. Counts, byte totals, :meth:`turns` and :meth:`usage` stay exact either way.
    """

    def __init__(self, max_rows: int | None = 50_000) -> None:
        if max_rows is not None and max_rows < 1:
            raise UsageError("max_rows must be a positive integer or None (keep every row).")
        self.max_rows = max_rows
        self._rows: deque[EventRow] = deque(maxlen=max_rows)
        self._seq = 0
        self._t0: float | None = None
        self.counts: dict[str, int] = {}
        self.rows_by_direction: dict[str, int] = {"client": 0, "server": 0, "local": 0}
        self.bytes_by_direction: dict[str, int] = {"client": 0, "server": 0, "local": 0}
        self.audio_bytes_by_direction: dict[str, int] = {"client": 0, "server": 0, "local": 0}
        self._tracks: dict[str, _ResponseTrack] = {}
        self._strings: dict[str, str] = {}  # keys, types and ids shared between rows
        self._markers: dict[Any, dict[str, Any]] = {}  # audio markers shared by byte count
        self._stop: tuple[float, str | None] | None = None
        self._model: str | None = None

    # --- recording (hot path) ------------------------------------------------------------------
    def record(
        self,
        direction: Direction,
        event: dict[str, Any],
        *,
        size: int,
        t: float,
        wall: float,
        audio_bytes: int = 0,
    ) -> EventRow:
        """Add one sent or received event as a row and return it.

        The row's payload is a shallow copy of ``event`` whose keys, type, ids and audio
        markers are shared with earlier rows (json.loads makes new strings for every event;
        sharing them cuts a delta row from about 1.2 kB to 0.4 kB). Nested objects are not
        copied: treat payloads as read-only. ``event`` should already have its audio replaced
        by a marker (:func:`extract_audio`); base64 audio still present is replaced by a marker
        computed from its length, and top-level credential keys are left out.
        """
        strings = self._strings
        share = strings.setdefault if len(strings) < _MAX_SHARED else strings.get
        payload = {share(k, k): v for k, v in event.items()}
        if not _SECRET_KEYS.isdisjoint(payload):
            for key in _SECRET_KEYS.intersection(payload):
                del payload[key]
        type_ = payload.get("type")
        if type_.__class__ is str:
            type_ = payload["type"] = share(type_, type_)
        else:
            type_ = "<missing type>"
        if type_ in _AUDIO_CARRIERS:
            leftover = _mark_leftover_audio(type_, payload)
            if leftover and not audio_bytes:
                audio_bytes = leftover
            fieldname = AUDIO_DELTA_FIELD.get(type_)
            marker = payload.get(fieldname) if fieldname else None
            if marker.__class__ is dict and marker.keys() == _MARKER_KEYS:
                shared = self._markers.get(marker["audio_bytes"])
                if shared is None and len(self._markers) < _MAX_SHARED:
                    shared = self._markers[marker["audio_bytes"]] = marker
                if shared is not None and shared == marker and fieldname is not None:
                    payload[fieldname] = shared
        for key in ("item_id", "response_id"):
            value = payload.get(key)
            if value.__class__ is str:
                payload[key] = share(value, value)
        item_id, response_id = event_ids(payload)
        event_id = payload.get("event_id")
        self._seq += 1
        row = EventRow(
            self._seq,
            t,
            wall,
            direction,
            type_,
            event_id if isinstance(event_id, str) else None,
            item_id if isinstance(item_id, str) else None,
            response_id if isinstance(response_id, str) else None,
            size,
            payload,
            audio_bytes,
        )
        self._append(row)
        if direction == "server":
            track = _TRACKERS.get(type_)
            if track is not None:
                track(self, row)
        return row

    def local(
        self, type: str, payload: dict[str, Any] | None = None, *, t: float, wall: float
    ) -> EventRow:
        """Add a row the library itself produced (``local.connected``, ``local.error``…)."""
        body: dict[str, Any] = {"type": type}
        if payload:
            body.update(payload)
        item_id, response_id = event_ids(body)
        self._seq += 1
        row = EventRow(
            self._seq, t, wall, "local", type, None,
            item_id if isinstance(item_id, str) else None,
            response_id if isinstance(response_id, str) else None,
            0, body,
        )  # fmt: skip
        self._append(row)
        return row

    def _append(self, row: EventRow) -> None:
        if self._t0 is None:
            self._t0 = row.t
        self._rows.append(row)
        self.counts[row.type] = self.counts.get(row.type, 0) + 1
        d = row.direction
        self.rows_by_direction[d] = self.rows_by_direction.get(d, 0) + 1
        self.bytes_by_direction[d] = self.bytes_by_direction.get(d, 0) + row.size
        if row.audio_bytes:
            self.audio_bytes_by_direction[d] = (
                self.audio_bytes_by_direction.get(d, 0) + row.audio_bytes
            )

    # --- per-response tracking (only a few server types reach these) ---------------------------
    def _track(self, response_id: str | None) -> _ResponseTrack | None:
        if response_id is None:
            return None
        track = self._tracks.get(response_id)
        if track is None:
            track = self._tracks[response_id] = _ResponseTrack(response_id)
        return track

    def _on_session(self, row: EventRow) -> None:
        model = _d(row.payload.get("session")).get("model")
        if isinstance(model, str):
            self._model = model

    def _on_speech_stopped(self, row: EventRow) -> None:
        self._stop = (row.t, row.item_id)

    def _on_created(self, row: EventRow) -> None:
        track = self._track(row.response_id)
        if track is None:
            return
        track.created_t = row.t
        track.status = _d(row.payload.get("response")).get("status")
        if self._stop is not None:
            track.stop_t, track.input_item_id = self._stop
            self._stop = None  # one speech stop starts at most one turn

    def _on_audio(self, row: EventRow) -> None:
        track = self._tracks.get(row.response_id) if row.response_id else None
        if track is not None and track.first_audio_t is None:
            track.first_audio_t = row.t

    def _on_text(self, row: EventRow) -> None:
        track = self._tracks.get(row.response_id) if row.response_id else None
        if track is not None and track.first_text_t is None:
            track.first_text_t = row.t

    def _on_done(self, row: EventRow) -> None:
        track = self._track(row.response_id)
        if track is None:
            return
        response = _d(row.payload.get("response"))
        track.done_t = row.t
        track.status = response.get("status")
        usage = response.get("usage")
        track.usage = usage if isinstance(usage, dict) else None
        track.model = self._model

    # --- reading -----------------------------------------------------------------------------
    # Every read works on a snapshot taken with ``list(self._rows)`` (or ``list(dict.values())``):
    # CPython builds those lists in C without running Python code, so the GIL is never released
    # half-way and the copy is atomic with respect to the session's loop thread appending rows.
    # Iterating the deque itself from another thread raises "deque mutated during iteration".
    def _snapshot(self) -> list[EventRow]:
        return list(self._rows)

    def __len__(self) -> int:
        """Rows recorded in total, including evicted ones."""
        return self._seq

    def __iter__(self) -> Iterator[EventRow]:
        """The kept rows at this moment, oldest first (safe while rows are being added)."""
        return iter(self._snapshot())

    @property
    def rows(self) -> list[EventRow]:
        """The kept rows, oldest first (a new list, a consistent snapshot)."""
        return self._snapshot()

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def evicted(self) -> int:
        """How many of the oldest rows were dropped to keep ``max_rows``."""
        return self._seq - len(self._rows)

    def since(self, seq: int) -> list[EventRow]:
        """Rows with a sequence number above ``seq`` (for live UIs polling for new rows)."""
        if self._seq <= seq:
            return []
        rows = self._snapshot()
        start = len(rows)
        while start > 0 and rows[start - 1].seq > seq:
            start -= 1
        return rows[start:]

    def filter(
        self,
        type: str | None = None,
        direction: str | None = None,
        item_id: str | None = None,
        response_id: str | None = None,
        text: str | None = None,
    ) -> list[EventRow]:
        """Kept rows matching every given criterion.

        ``type`` is an exact type, or a prefix when it ends in ``.`` or ``*`` (``"response.*"``);
        ``text`` is searched case-insensitively in the type, summary and ids.
        """
        prefix: str | None = None
        if type is not None and type.endswith(("*", ".")):
            prefix, type = type.rstrip("*"), None
        needle = text.lower() if text else None
        out: list[EventRow] = []
        for row in self._snapshot():
            if type is not None and row.type != type:
                continue
            if prefix is not None and not row.type.startswith(prefix):
                continue
            if direction is not None and row.direction != direction:
                continue
            if item_id is not None and row.item_id != item_id:
                continue
            if response_id is not None and row.response_id != response_id:
                continue
            if needle is not None:
                hay = " ".join(
                    x for x in (row.type, row.summary, row.event_id, row.item_id, row.response_id)
                    if x
                ).lower()  # fmt: skip
                if needle not in hay:
                    continue
            out.append(row)
        return out

    def coalesced(self, rows: Iterable[EventRow] | None = None) -> list[DisplayRow]:
        """Runs of consecutive delta rows merged into one display row each (counts exact)."""
        return coalesce(self._snapshot() if rows is None else rows)

    def tail_coalesced(self, n: int = HTML_ROWS) -> list[DisplayRow]:
        """The last ``n`` coalesced rows, reading only as many rows as they need."""
        picked: list[EventRow] = []
        groups = 0
        key: tuple[str, str, str | None] | None = None
        for row in reversed(self._snapshot()):
            k = _run_key(row)
            if not picked or k is None or k != key:
                groups += 1
                if groups > n:
                    break
            picked.append(row)
            key = k
        picked.reverse()
        return coalesce(picked)

    def to_records(self) -> list[dict[str, Any]]:
        """The kept rows as flat dicts (payload included)."""
        return [row.to_dict() for row in self._snapshot()]

    def to_dataframe(self, coalesce: bool = False) -> pandas.DataFrame:
        """The kept rows (or the coalesced view) as a pandas DataFrame."""
        pd = _pandas()
        if coalesce:
            return pd.DataFrame([d.to_dict() for d in self.coalesced()], columns=DISPLAY_COLUMNS)
        return pd.DataFrame(self.to_records(), columns=ROW_COLUMNS)

    def to_jsonl(self, path: str | os.PathLike[str]) -> int:
        """Write the kept rows as JSON Lines; return how many were written."""
        n = 0
        # backslashreplace writes a lone surrogate as the JSON escape it came from (\\ud800)
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as fh:
            for row in self._snapshot():
                fh.write(json.dumps(row.to_dict(), ensure_ascii=False, default=str))
                fh.write("\n")
                n += 1
        return n

    # --- derived tables ----------------------------------------------------------------------
    def turns(self) -> list[Turn]:
        """One row per response with its latencies; exact even after rows were evicted.

        The speech stop that starts a turn is the last ``speech_stopped`` since the previous
        ``response.created`` (so a text turn after a voice turn gets no stop time).
        """
        out: list[Turn] = []
        for tr in list(self._tracks.values()):
            first_text = tr.first_text_t
            out.append(
                Turn(
                    response_id=tr.response_id,
                    status=tr.status,
                    input_item_id=tr.input_item_id,
                    speech_stopped_t=tr.stop_t,
                    created_t=tr.created_t,
                    first_audio_t=tr.first_audio_t,
                    first_text_t=first_text,
                    done_t=tr.done_t,
                    created_ms=_ms(tr.stop_t, tr.created_t),
                    first_audio_ms=_ms(tr.created_t, tr.first_audio_t),
                    first_text_ms=_ms(tr.created_t, first_text),
                    total_ms=_ms(tr.created_t, tr.done_t),
                )
            )
        return out

    def usage(self, prices: dict[str, Any] | None = None) -> list[UsageRow]:
        """Tokens and cost per finished response, from ``response.done`` usage.

        ``prices`` defaults to :data:`PRICES`; the model is the one in the latest
        ``session.created``/``session.updated`` before each ``response.done``.
        """
        return [
            usage_row(tr.response_id, tr.usage, tr.model, tr.status, prices)
            for tr in list(self._tracks.values())
            if tr.usage is not None
        ]

    def turns_dataframe(self) -> pandas.DataFrame:
        pd = _pandas()
        return pd.DataFrame(
            [t.to_dict() for t in self.turns()], columns=[f.name for f in fields(Turn)]
        )

    def usage_dataframe(self, prices: dict[str, Any] | None = None) -> pandas.DataFrame:
        pd = _pandas()
        return pd.DataFrame(
            [u.to_dict() for u in self.usage(prices)], columns=[f.name for f in fields(UsageRow)]
        )

    # --- notebook repr -----------------------------------------------------------------------
    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [
            f"{_ARROWS[d]} {d} {self.rows_by_direction.get(d, 0):,}"
            f" ({_human_bytes(self.bytes_by_direction.get(d, 0))})"
            for d in ("client", "server", "local")
        ]
        header = f"<b>EventLog</b> · {self._seq:,} rows · " + " · ".join(parts)
        if self.evicted:
            header += f" · {self.evicted:,} oldest evicted"
        shown = self.tail_coalesced(HTML_ROWS)
        t0 = self._t0 or 0.0
        cell = "padding:1px 6px;border-bottom:1px solid rgba(128,128,128,.25);vertical-align:top"
        body: list[str] = []
        for d in shown:
            seq = str(d.first_seq) if d.count == 1 else f"{d.first_seq}–{d.last_seq}"
            color = _DIR_COLORS.get(d.direction, "inherit")
            type_style = "color:#dc2626;" if "error" in d.type else ""
            ids = " ".join(_short_id(x) for x in (d.item_id, d.response_id) if x)
            title = " ".join(x for x in (d.item_id, d.response_id) if x)
            body.append(
                f'<tr><td style="{cell};text-align:right">{esc(seq)}</td>'
                f'<td style="{cell};text-align:right">{d.t - t0:.3f}</td>'
                f'<td style="{cell};color:{color}" title="{esc(d.direction)}">'
                f"{_ARROWS.get(d.direction, '?')}</td>"
                f'<td style="{cell};{type_style}">{esc(d.type)}</td>'
                f'<td style="{cell};opacity:.75" title="{esc(title)}">{esc(ids)}</td>'
                f'<td style="{cell}">{esc(d.summary)}</td>'
                f'<td style="{cell};text-align:right">{d.size:,}</td></tr>'
            )
        heads = ("seq", "t (s)", "", "type", "item / response", "summary", "bytes")
        head = "".join(
            f'<th style="{cell};text-align:left;font-weight:600">{h}</th>' for h in heads
        )
        note = ""
        if shown and shown[0].first_seq > (self.evicted + 1):
            note = f'<div style="opacity:.7">last {len(shown)} display rows shown</div>'
        return printable(
            '<div style="font-family:var(--jp-code-font-family,ui-monospace,monospace);'
            'font-size:12px;color:inherit;background:transparent">'
            f'<div style="margin:2px 0 4px">{header}</div>{note}'
            '<table style="border-collapse:collapse;color:inherit;background:transparent">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        )


_TRACKERS: dict[str, Callable[[EventLog, EventRow], None]] = {
    "session.created": EventLog._on_session,
    "session.updated": EventLog._on_session,
    "input_audio_buffer.speech_stopped": EventLog._on_speech_stopped,
    "response.created": EventLog._on_created,
    "response.output_audio.delta": EventLog._on_audio,
    "response.output_text.delta": EventLog._on_text,
    "response.output_audio_transcript.delta": EventLog._on_text,
    "response.done": EventLog._on_done,
}


def _short_id(value: str) -> str:
    return value if len(value) <= 14 else f"{value[:9]}…{value[-4:]}"


def _human_bytes(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise UsageError(
            "pandas is needed for DataFrames: pip install 'realtime-nb[pandas]'"
        ) from None
    return pandas
