"""The conversation as people read it: a short transcript with roles, tool calls and cuts.

Used by ``Conversation.__repr__`` / ``_repr_html_``. Each item becomes one :class:`Entry`; a
``function_call`` is shown with its arguments and, once sent, the ``function_call_output``
that answered it (matched by ``call_id``), so a tool round reads as one line. An assistant
message that was cut by a barge-in shows what was heard and what had been generated.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..events.summaries import printable
from .items import _BYTES_PER_MS, ConversationItem

if TYPE_CHECKING:
    from .state import Conversation

#: Items shown by the reprs (the newest); the rest are counted.
REPR_ITEMS = 20
_CLIP = 160


@dataclass(slots=True, frozen=True)
class Entry:
    """One line of the readable transcript."""

    role: str  #: user, assistant, system, tool
    text: str  #: what was said (assistant: what was heard, when cut)
    item_id: str
    generated: str | None = None  #: assistant, when cut: everything that had been generated
    cut_at_ms: int | None = None
    tool: str | None = None  #: function name
    arguments: str | None = None
    output: str | None = None  #: the function_call_output sent back (None: not yet)


def _clip(text: str, n: int = _CLIP) -> str:
    text = printable(text).replace("\n", " ⏎ ")
    return text if len(text) <= n else text[: n - 1] + "…"


def _audio_note(item: ConversationItem) -> str:
    ms = item.audio_bytes_received / _BYTES_PER_MS
    return f"(audio {ms / 1000:.1f} s, no transcript)" if ms else "(empty)"


def entries(conversation: Conversation) -> list[Entry]:
    """Every item of the conversation as an :class:`Entry`, in order."""
    items = list(conversation.items)  # a snapshot: the loop thread may insert meanwhile
    outputs = {
        item.call_id: item.output or ""
        for item in items
        if item.type == "function_call_output" and item.call_id
    }
    calls = {item.call_id for item in items if item.type == "function_call" and item.call_id}
    out: list[Entry] = []
    for item in items:
        if item.type == "function_call":
            out.append(
                Entry("tool", "", item.id, tool=item.name or "?", arguments=item.arguments or "",
                      output=outputs.get(item.call_id) if item.call_id else None)
            )  # fmt: skip
        elif item.type == "function_call_output":
            if item.call_id not in calls:  # an answer to a call we did not see (history)
                out.append(Entry("tool", "", item.id, tool=item.call_id, output=item.output))
        elif item.type == "message":
            role = item.role or "?"
            if role == "assistant":
                generated = item.transcript or item.text
                if item.truncated_at_ms is not None:
                    heard = item.heard_transcript if item.heard_transcript is not None else ""
                    out.append(Entry(role, heard, item.id, generated=generated,
                                     cut_at_ms=item.truncated_at_ms))  # fmt: skip
                    continue
                out.append(Entry(role, generated or _audio_note(item), item.id))
            else:
                out.append(Entry(role, item.text or item.transcript or _audio_note(item), item.id))
        else:  # mcp calls, reasoning… shown by type
            out.append(Entry(item.type, item.name or "", item.id))
    return out


def _text_line(e: Entry) -> str:
    if e.tool is not None:
        call = f"{e.tool}({_clip(e.arguments or '', 80)})" if e.arguments is not None else e.tool
        result = "…" if e.output is None else _clip(e.output, 80)
        return f"  tool: {call} → {result}"
    if e.cut_at_ms is not None:
        return (
            f"  {e.role}: {_clip(e.text)!r} ✂ cut at {e.cut_at_ms} ms"
            f" (generated: {_clip(e.generated or '', 100)!r})"
        )
    return f"  {e.role}: {_clip(e.text)}"


def _header(conversation: Conversation) -> str:
    n_errors = len(conversation.errors)
    bits = [f"{len(conversation.items)} items", f"{len(conversation.responses)} responses"]
    if n_errors:
        bits.append(f"{n_errors} error{'s' if n_errors > 1 else ''}")
    if conversation.active_response_id:
        bits.append("a response is running")
    return f"Conversation({', '.join(bits)})"


def _newest(shown: list[Entry], limit: int) -> list[Entry]:
    return shown[-limit:] if limit > 0 else []


def render_text(conversation: Conversation, limit: int = REPR_ITEMS) -> str:
    """A few lines: a header with counts, then the newest ``limit`` entries."""
    shown = entries(conversation)
    lines = [_header(conversation)]
    if len(shown) > limit:
        lines.append(f"  … {len(shown) - limit} earlier items")
    lines += [_text_line(e) for e in _newest(shown, limit)]
    return "\n".join(lines)


_ROLE_COLORS = {"user": "#2563eb", "assistant": "#16a34a", "tool": "#0d9488", "system": "#6b7280"}


def render_html(conversation: Conversation, limit: int = REPR_ITEMS) -> str:
    """The same transcript as a small HTML table (inherits the notebook's colours)."""
    esc = html.escape
    shown = entries(conversation)
    rows: list[str] = []
    cell = "padding:2px 8px;vertical-align:top;border-bottom:1px solid rgba(128,128,128,.2)"
    for e in _newest(shown, limit):
        color = _ROLE_COLORS.get(e.role, "inherit")
        if e.tool is not None:
            result = "<i>waiting for the result…</i>" if e.output is None else esc(_clip(e.output))
            body = (
                f"<code>{esc(e.tool)}({esc(_clip(e.arguments or '', 120))})</code>"
                f" → <code>{result}</code>"
            )
        elif e.cut_at_ms is not None:
            body = (
                f"{esc(_clip(e.text))} <span style='color:#dc2626' title='truncated'>✂ cut at "
                f"{e.cut_at_ms} ms</span><br><span style='opacity:.6'>generated: "
                f"{esc(_clip(e.generated or ''))}</span>"
            )
        else:
            body = esc(_clip(e.text))
        rows.append(
            f"<tr><td style='{cell};color:{color};font-weight:600'>{esc(e.role)}</td>"
            f"<td style='{cell}'>{body}</td></tr>"
        )
    more = ""
    if len(shown) > limit:
        more = f"<div style='opacity:.7'>… {len(shown) - limit} earlier items</div>"
    title = esc(_header(conversation))
    return printable(
        "<div style='font-size:13px;color:inherit;background:transparent'>"
        f"<div style='margin:2px 0 4px'><b>{title}</b></div>{more}"
        f"<table style='border-collapse:collapse;color:inherit'>{''.join(rows)}</table></div>"
    )
