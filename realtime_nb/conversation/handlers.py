"""What each server event does to the conversation: one small function per type, in a table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..audio import b64decode_audio
from ..errors import AudioFormatError
from .items import _BYTES_PER_MS, _MAX_ERRORS, ResponseState, _dict, _int, _str

if TYPE_CHECKING:
    from .state import Conversation


# --- handlers: one small function per event type ------------------------------------------------
Handler = Callable[["Conversation", dict[str, Any], bytes | None, float], None]


def _on_session(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    session = _dict(e.get("session"))
    if session is None:
        c.malformed_event_count += 1
        return
    c.session = session
    audio_config = _dict(session.get("audio")) or {}
    audio_in = _dict(audio_config.get("input")) or {}
    c._vad_on = bool(audio_in.get("turn_detection", session.get("turn_detection")))


def _on_conversation_created(
    c: Conversation, e: dict[str, Any], audio: bytes | None, t: float
) -> None:
    conv = _dict(e.get("conversation"))
    c.conversation_id = _str(conv.get("id")) if conv else None


def _on_item(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``conversation.item.added/created/done/retrieved``: insert or update, in order."""
    data = _dict(e.get("item"))
    item_id = _str(data.get("id")) if data else None
    if data is None or item_id is None:
        c.malformed_event_count += 1
        return
    item = c._attach(item_id, e.get("previous_item_id"))
    assert item is not None
    prev = e.get("previous_item_id")
    if isinstance(prev, str):
        item.previous_item_id = prev
    final = e.get("type") != "conversation.item.added"
    c._update_item(item, data, final)
    if e.get("type") == "conversation.item.retrieved" and audio is not None:
        c._set_audio(item, audio)


def _on_item_deleted(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item_id = _str(e.get("item_id"))
    if item_id is None:
        c.malformed_event_count += 1
        return
    item = c._by_id.pop(item_id, None) or c._detached.pop(item_id, None)
    c._deleted.add(item_id)
    if item is not None:
        if item in c.items:
            c.items.remove(item)
        c._forget(item)


def _on_item_truncated(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c.item(_str(e.get("item_id")) or "")
    end_ms = _int(e.get("audio_end_ms"))
    if item is None or end_ms is None or end_ms < 0:
        c.malformed_event_count += 1
        return
    item.truncated_at_ms = end_ms
    keep = end_ms * _BYTES_PER_MS
    if item._retained > keep:
        data = b"".join(item._chunks)[:keep]
        c._retained_total -= item._retained - len(data)
        item._chunks = [data] if data else []
        item._retained = len(data)
        item._cache = None
    c._update_heard(item)


def _on_committed(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """Move the committed input span into the user item (created here if not yet added)."""
    item_id = _str(e.get("item_id"))
    if item_id is None:
        c.malformed_event_count += 1
        return
    item = c._by_id.get(item_id)
    if item is None:
        item = c._attach(item_id, e.get("previous_item_id"))
        assert item is not None
        item.role, item.status = "user", "completed"
    total = c.input_bytes_total
    lo = c._pending_start
    commit_at = c._commits.popleft() if c._commits else None
    if item.vad_end_ms is not None:
        end = min(max(item.vad_end_ms * _BYTES_PER_MS, lo), total)
    else:
        end = total if commit_at is None else min(max(commit_at, lo), total)
    start = lo
    if item.vad_start_ms is not None:
        start = min(max(item.vad_start_ms * _BYTES_PER_MS, lo), end)
    piece = c._take_pending(start, end)
    c._pending_start = end
    c._speech_open = False
    if end > start:
        c._add_audio(item, piece, end - start)


def _on_cleared(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    c._speech_open = False
    if c._clears:  # our own clear already dropped the pending input when it was sent
        c._clears -= 1
        return
    c._drop_pending(c.input_bytes_total)


def _on_speech(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``speech_started``/``speech_stopped``/``timeout_triggered``: VAD times for the user item."""
    item_id = _str(e.get("item_id"))
    type_ = e.get("type")
    if type_ == "input_audio_buffer.speech_started":
        c.user_speaking = c._speech_open = True
    elif type_ == "input_audio_buffer.speech_stopped":
        c.user_speaking = False
    if item_id is None:
        c.malformed_event_count += 1
        return
    start, end = _int(e.get("audio_start_ms")), _int(e.get("audio_end_ms"))
    item = c._by_id.get(item_id)
    if item is not None:
        if start is not None:
            item.vad_start_ms = start
        if end is not None:
            item.vad_end_ms = end
        return
    slot = c._vad_slot(item_id)
    if start is not None:
        slot[0] = start
    if end is not None:
        slot[1] = end


def _on_transcription(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``input_audio_transcription.delta/completed/failed``: the user's words."""
    item = c._ensure(e.get("item_id"), None, "message", "user")
    if item is None:
        return
    type_ = e.get("type")
    if type_ == "conversation.item.input_audio_transcription.delta":
        delta = _str(e.get("delta"))
        if delta and not item.transcript_final:
            item.transcript += delta
    elif type_ == "conversation.item.input_audio_transcription.completed":
        transcript = _str(e.get("transcript"))
        if transcript is not None:
            item.transcript = transcript
            item.transcript_final = True
        item.transcription_usage = _dict(e.get("usage"))
    else:
        item.transcription_error = _dict(e.get("error")) or {"message": "transcription failed"}


def _on_response(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``response.created`` / ``response.done``."""
    r = _dict(e.get("response"))
    rid = _str(r.get("id")) if r else None
    if r is None or rid is None:
        c.malformed_event_count += 1
        return
    state = c.responses.get(rid)
    if state is None:
        state = c.responses[rid] = ResponseState(id=rid)
    done = e.get("type") == "response.done"
    if isinstance(r.get("status"), str):
        state.status = r["status"]
    if "status_details" in r:
        state.status_details = _dict(r.get("status_details"))
        state.error = _dict((state.status_details or {}).get("error"))
    if "usage" in r:
        state.usage = _dict(r.get("usage"))
    if "metadata" in r:
        state.metadata = _dict(r.get("metadata"))
    if "conversation_id" in r:
        state.conversation_id = _str(r.get("conversation_id"))
        if not done:
            state.out_of_band = r.get("conversation_id") is None
    if done:
        state.done_t = t
        if c.active_response_id == rid:
            c.active_response_id = None
        output = r.get("output")
        for out in output if isinstance(output, list) else ():
            out_id = _str(out.get("id")) if isinstance(out, dict) else None
            item = c.item(out_id) if out_id else None
            if item is not None:
                c._update_item(item, out, True)
                c._link(item, rid)
            elif out_id and out_id not in state.output_item_ids:
                state.output_item_ids.append(out_id)
    else:
        if state.created_t is None:
            state.created_t = t
        if state.done_t is None:
            c.active_response_id = rid


def _on_output_item(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``response.output_item.added/done``."""
    data = _dict(e.get("item"))
    if data is None:
        c.malformed_event_count += 1
        return
    kind = _str(data.get("type")) or "message"
    item = c._ensure(data.get("id"), e.get("response_id"), kind, _str(data.get("role")))
    if item is not None:
        c._update_item(item, data, e.get("type") == "response.output_item.done")


def _on_content_part(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``response.content_part.added/done``: the part at ``content_index``."""
    part = _dict(e.get("part"))
    index = _int(e.get("content_index"))
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    if item is None or part is None or index is None or index < 0:
        if item is not None:
            c.malformed_event_count += 1
        return
    if isinstance(part.get("audio"), str):
        part = {k: v for k, v in part.items() if k != "audio"}
    else:
        part = dict(part)
    if index < len(item.content):
        item.content[index] = part
    else:
        item.content.append(part)
    if e.get("type") == "response.content_part.done":
        transcript, text = _str(part.get("transcript")), _str(part.get("text"))
        if transcript:
            c._set_transcript(item, transcript, True)
        if text:
            item.text = text


def _state(c: Conversation, e: dict[str, Any]) -> ResponseState | None:
    response_id = e.get("response_id")
    return c.responses.get(response_id) if isinstance(response_id, str) else None


def _first_text(c: Conversation, e: dict[str, Any], t: float) -> None:
    state = _state(c, e)
    if state is not None and state.first_text_t is None:
        state.first_text_t = t


def _on_text_delta(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    delta = _str(e.get("delta"))
    if item is not None and delta:
        item.text += delta
        _first_text(c, e, t)


def _on_text_done(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    text = _str(e.get("text"))
    if item is not None and text is not None:
        item.text = text


def _on_transcript_delta(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    delta = _str(e.get("delta"))
    if item is not None and delta and not item.transcript_final:
        item.transcript += delta
        if item.truncated_at_ms is not None:
            c._update_heard(item)
        _first_text(c, e, t)


def _on_transcript_done(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    transcript = _str(e.get("transcript"))
    if item is not None and transcript is not None:
        c._set_transcript(item, transcript, True)


def _on_audio_delta(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    if item is None:
        return
    if audio is None:  # not decoded by the caller: decode here, or count a marker's bytes
        delta = e.get("delta")
        if isinstance(delta, str):
            try:
                audio = b64decode_audio(delta)
            except AudioFormatError:
                c.malformed_event_count += 1
                return
        elif isinstance(delta, dict):
            n = _int(delta.get("audio_bytes"))
            if n is not None and n > 0:
                c._add_audio(item, b"", n)
            return
        else:
            return
    if len(audio) % 2:
        # PCM16 is whole 2-byte samples: keeping a stray byte would shift every later sample
        # of the item by one byte (noise). Drop it and count it; a dropped byte is 1/48 ms.
        audio = audio[:-1]
        c.odd_length_audio_deltas += 1
    c._add_audio(item, audio)
    state = _state(c, e)
    if state is not None and state.first_audio_t is None:
        state.first_audio_t = t


def _on_arguments(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``response.function_call_arguments.delta/done``."""
    item = c._ensure(e.get("item_id"), e.get("response_id"), "function_call", None)
    if item is None:
        return
    call_id = _str(e.get("call_id"))
    if call_id:
        item.call_id = call_id
    if e.get("type") == "response.function_call_arguments.delta":
        delta = _str(e.get("delta"))
        if delta:
            item.arguments = (item.arguments or "") + delta
    else:
        arguments, name = _str(e.get("arguments")), _str(e.get("name"))
        if arguments is not None:
            item.arguments = arguments
        if name:
            item.name = name


def _on_error(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    err = e.get("error")
    c.errors.append(err if isinstance(err, dict) else {"message": repr(err)})
    if len(c.errors) > _MAX_ERRORS:
        del c.errors[0]


def _on_rate_limits(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    limits = e.get("rate_limits")
    if isinstance(limits, list):
        c.rate_limits = limits


#: Server event type → handler. Types in protocol.SERVER_EVENT_TYPES that are missing here
#: (output_audio.done, MCP progress, DTMF, WebRTC buffer events…) change no state.
_SERVER_HANDLERS: dict[str, Handler] = {
    "session.created": _on_session,
    "session.updated": _on_session,
    "conversation.created": _on_conversation_created,
    "conversation.item.added": _on_item,
    "conversation.item.created": _on_item,
    "conversation.item.done": _on_item,
    "conversation.item.retrieved": _on_item,
    "conversation.item.deleted": _on_item_deleted,
    "conversation.item.truncated": _on_item_truncated,
    "conversation.item.input_audio_transcription.delta": _on_transcription,
    "conversation.item.input_audio_transcription.completed": _on_transcription,
    "conversation.item.input_audio_transcription.failed": _on_transcription,
    "input_audio_buffer.committed": _on_committed,
    "input_audio_buffer.cleared": _on_cleared,
    "input_audio_buffer.speech_started": _on_speech,
    "input_audio_buffer.speech_stopped": _on_speech,
    "input_audio_buffer.timeout_triggered": _on_speech,
    "response.created": _on_response,
    "response.done": _on_response,
    "response.output_item.added": _on_output_item,
    "response.output_item.done": _on_output_item,
    "response.content_part.added": _on_content_part,
    "response.content_part.done": _on_content_part,
    "response.output_text.delta": _on_text_delta,
    "response.output_text.done": _on_text_done,
    "response.output_audio_transcript.delta": _on_transcript_delta,
    "response.output_audio_transcript.done": _on_transcript_done,
    "response.output_audio.delta": _on_audio_delta,
    "response.function_call_arguments.delta": _on_arguments,
    "response.function_call_arguments.done": _on_arguments,
    "error": _on_error,
    "rate_limits.updated": _on_rate_limits,
}
