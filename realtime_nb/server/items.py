"""The conversation: stored items in order, how client items are stored, truncation.

An item is kept as events show it (``item``, no audio bytes) plus its audio per content index,
in the format it arrived or was produced in, so ``conversation.item.retrieved`` and truncation
work on the exact bytes. Sans-I/O.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import audio, protocol
from ..errors import AudioFormatError
from ..heard import heard_prefix
from . import validation as v


@dataclass(slots=True)
class StoredItem:
    """An item as events show it (``item``, no audio bytes) plus its audio per content index."""

    item: dict[str, Any]
    audio: dict[int, tuple[bytes, audio.AudioFormatName]] = field(
        default_factory=dict
    )  # index → (bytes, format)

    @property
    def id(self) -> str:
        return self.item["id"]

    def audio_ms(self, index: int = 0) -> float:
        if index not in self.audio:
            return 0.0
        data, fmt = self.audio[index]
        return audio.bytes_to_ms(len(data), fmt)

    def pcm(self, index: int = 0) -> np.ndarray | None:
        """Audio of one content part as int16 PCM at 24 kHz, or None."""
        if index not in self.audio:
            return None
        data, fmt = self.audio[index]
        if fmt == "pcm16" and len(data) % 2:
            data = data[:-1]
        return audio.decode_from_format(bytes(data), fmt)

    def with_audio(self) -> dict[str, Any]:
        """The item with base64 audio in its audio parts (``conversation.item.retrieved``)."""
        out = copy.deepcopy(self.item)
        for i, (data, _fmt) in self.audio.items():
            if i < len(out.get("content") or ()):
                out["content"][i]["audio"] = audio.b64encode_audio(bytes(data))
        return out


class ItemStore:
    """The default conversation's items, by id and in order."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.items: dict[str, StoredItem] = {}

    def in_order(self) -> list[StoredItem]:
        return [self.items[i] for i in self.order]

    def append(self, stored: StoredItem) -> str | None:
        """Add ``stored`` at the end; return the id of the item before it."""
        previous = self.order[-1] if self.order else None
        self.items[stored.id] = stored
        self.order.append(stored.id)
        return previous

    def insert(self, stored: StoredItem, previous_item_id: str | None) -> str | None:
        """Add ``stored`` after ``previous_item_id`` (None: at the end, ``"root"``: first).

        Returns the id of the item before it; raises :class:`v.Invalid` for an unknown id.
        """
        if previous_item_id is None:
            pos = len(self.order)
        elif previous_item_id == "root":
            pos = 0
        else:
            found = self.lookup(
                previous_item_id, "adding", "previous_item_id", ITEM_ERRORS["previous"]
            )
            pos = self.order.index(found.id) + 1
        previous = self.order[pos - 1] if pos > 0 else None
        self.items[stored.id] = stored
        self.order.insert(pos, stored.id)
        return previous

    def lookup(self, item_id: str, verb: str, param: str, code: str) -> StoredItem:
        """The item ``item_id``; raises :class:`v.Invalid` with ``code`` when it is absent."""
        stored = self.items.get(item_id)
        if stored is None:
            raise v.Invalid(  # code used by the service (see ITEM_ERRORS); message UNCONFIRMED
                code,
                f"Error {verb} item: the item with id '{item_id}' does not exist.",
                param,
            )
        return stored

    def check_new_id(self, item_id: str) -> None:
        """Refuse an item id the conversation already has, as the service does."""
        if item_id in self.items:
            raise v.Invalid(
                ITEM_ERRORS["duplicate"],
                f"Error adding item: an item with id '{item_id}' already exists.",
                "item.id",
            )

    def delete(self, stored: StoredItem) -> None:
        self.order.remove(stored.id)
        del self.items[stored.id]

    def previous_of(self, item_id: str) -> str | None:
        try:
            pos = self.order.index(item_id)
        except ValueError:
            return None
        return self.order[pos - 1] if pos > 0 else None


#: The error codes the service uses for item ids, by what went wrong. Clients handle them by
#: name (pipecat ends a session on an unknown code; apps whitelist the truncate one).
ITEM_ERRORS: dict[str, str] = {
    "retrieve": "item_retrieve_invalid_item_id",
    "delete": "item_delete_invalid_item_id",
    "truncate": "item_truncate_invalid_item_id",
    "duplicate": "item_create_duplicate_item_id",
    "previous": "item_create_invalid_previous_item_id",
    "reference": "item_reference_invalid_item_id",  # UNCONFIRMED: response.input item_reference
}


def input_audio_item(item_id: str, data: bytes, fmt: audio.AudioFormatName) -> StoredItem:
    """The user item a commit (manual, VAD or idle timeout) creates from buffered audio."""
    item = {
        "id": item_id,
        "type": "message",
        "status": "completed",
        "role": "user",
        "content": [{"type": "input_audio", "transcript": None}],
    }
    return StoredItem(item, {0: (data, fmt)})


def client_item(
    item: dict[str, Any], path: str, ids: protocol.IdFactory, input_format: audio.AudioFormatName
) -> StoredItem:
    """A schema-checked client item as the server stores and shows it.

    ``path`` names the item in error params (``item``, ``response.input[2]``); base64 audio is
    decoded and kept as ``input_format`` bytes. Raises :class:`v.Invalid` on bad base64.
    """
    item_id = item.get("id") or ids.item()
    type_ = item["type"]
    audio_parts: dict[int, tuple[bytes, audio.AudioFormatName]] = {}
    if type_ == "message":
        content = []
        for i, part in enumerate(item["content"]):
            if part["type"] == "input_audio":
                try:
                    data = audio.b64decode_audio(part["audio"])
                except AudioFormatError:
                    raise v.Invalid(  # UNCONFIRMED message
                        "invalid_value",
                        f"Invalid '{path}.content[{i}].audio': the value is not valid base64.",
                        f"{path}.content[{i}].audio",
                    ) from None
                audio_parts[i] = (data, input_format)
                content.append({"type": "input_audio", "transcript": part.get("transcript")})
            else:
                content.append(dict(part))
        shown = {
            "id": item_id,
            "type": "message",
            "status": "completed",
            "role": item["role"],
            "content": content,
        }
    elif type_ == "function_call":
        shown = {
            "id": item_id,
            "type": "function_call",
            "status": "completed",
            "name": item["name"],
            "call_id": item.get("call_id") or ids.call(),
            "arguments": item["arguments"],
        }
    elif type_ == "function_call_output":
        shown = {
            "id": item_id,
            "type": "function_call_output",
            "call_id": item["call_id"],
            "output": item["output"],
        }
    else:  # mcp_approval_response
        shown = {"id": item_id, **{k: val for k, val in item.items() if k != "id"}}
    return StoredItem(shown, audio_parts)


def truncate(stored: StoredItem, index: int, end_ms: int) -> None:
    """Cut an assistant audio part to ``end_ms`` and its transcript to what was heard (§5d).

    Raises :class:`v.Invalid` when the part is not model output audio or is already shorter.
    """
    item = stored.item
    parts = item.get("content") or []
    if (
        item.get("role") != "assistant"
        or index >= len(parts)
        or parts[index].get("type") != "output_audio"
        or index not in stored.audio
    ):
        raise v.Invalid(
            "unsupported_content_type",  # observed (livekit/agents#6157)
            "Only model output audio messages can be truncated",
            None,
        )
    length = stored.audio_ms(index)
    if end_ms > length:
        raise v.Invalid(  # UNCONFIRMED code/param; message observed
            "invalid_value",
            f"Audio content of {int(length)}ms is already shorter than {end_ms}ms",
            "audio_end_ms",
        )
    data, fmt = stored.audio[index]
    stored.audio[index] = (data[: audio.ms_to_bytes(end_ms, fmt)], fmt)
    transcript = parts[index].get("transcript") or ""
    parts[index]["transcript"] = heard_prefix(transcript, end_ms / length if length else 0)


__all__ = ["ITEM_ERRORS", "ItemStore", "StoredItem", "client_item", "input_audio_item", "truncate"]
