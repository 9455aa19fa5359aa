"""One-line summaries of events for tables, and text that is safe to print or send."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .markers import _is_marker

if TYPE_CHECKING:
    pass

#: Longest one-line summary.
SUMMARY_MAX = 120


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
