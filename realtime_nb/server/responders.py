"""What the stand-in says back: the :class:`Reply` a responder returns, and the built-in responders.

A responder is any callable ``(ctx: ResponderContext) -> Reply | str`` (or an ``async`` one).
The server turns the reply into the real event sequence: an assistant message (audio plus
transcript, or text, per the response's ``output_modalities``) followed by one function-call
item per entry of ``function_calls``. When the response wants audio and the reply has only
text, the server synthesises speech-like audio of about 60 ms per character: the stand-in never
pretends to be a real model, so every built-in answer says plainly what it is.

Built-ins:

- :func:`echo` — plays the user's own audio back ("You said something for 1.4 seconds."),
  repeats text ("You said: …"), and reports tool results ("Tool get_weather returned: …").
- :func:`scripted` — deterministic replies from a list, for tests.

The server's default responder is :class:`~.brain.Brain` (it listens with pocketsphinx and
speaks with espeak-ng; ``pip install 'realtime-nb[speech]'``) and ``echo`` when those are absent.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from ..protocol import SAMPLE_RATE

__all__ = [
    "Reply",
    "Responder",
    "ResponderContext",
    "ScriptExhausted",
    "Scripted",
    "as_reply",
    "echo",
    "load_script",
    "scripted",
]


@dataclass(slots=True)
class Reply:
    """One model answer.

    ``text`` is the transcript (audio responses) or the text (text responses); ``audio`` is int16
    PCM at 24 kHz (synthesised from ``text`` when None and the response wants audio);
    ``function_calls`` are ``(name, arguments_json)`` pairs, each becoming a ``function_call``
    item after the message; ``mcp_calls`` are ``(tool_name, arguments)`` pairs for the session's
    scripted MCP servers (:mod:`.mcp`), each becoming an ``mcp_call`` item.
    """

    text: str | None = None
    audio: np.ndarray | None = None
    function_calls: list[tuple[str, str]] = field(default_factory=list)
    mcp_calls: list[tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.audio is not None:
            arr = np.asarray(self.audio)
            if arr.dtype != np.int16 or arr.ndim != 1:
                raise ValueError("Reply.audio must be a 1-D int16 array of 24 kHz PCM.")
            self.audio = arr
        calls = []
        for call in self.function_calls:
            name, arguments = call
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments)
            calls.append((str(name), arguments))
        self.function_calls = calls


@dataclass(slots=True)
class ResponderContext:
    """What a responder may look at for one response (read it, do not change it).

    ``items`` are the conversation items the response sees, in order, as the server shows them
    in events (no audio bytes); ``last_user_text`` / ``last_user_audio`` come from the latest
    user message among them (audio as int16 PCM at 24 kHz); ``params`` is the ``response``
    object of ``response.create`` as sent (empty for VAD-created responses).
    """

    response_id: str
    items: list[dict[str, Any]]
    session: dict[str, Any]
    params: dict[str, Any]
    instructions: str
    output_modalities: list[str]
    tools: list[dict[str, Any]]
    last_user_text: str | None = None
    last_user_audio: np.ndarray | None = None
    index: int = 0  # how many responses this connection created before this one

    @property
    def last_item(self) -> dict[str, Any] | None:
        return self.items[-1] if self.items else None

    def function_name(self, call_id: str) -> str | None:
        """The ``name`` of the ``function_call`` item with this ``call_id``, if it is in context."""
        for item in reversed(self.items):
            if item.get("type") == "function_call" and item.get("call_id") == call_id:
                return item.get("name")
        return None


Responder: TypeAlias = Callable[[ResponderContext], "Reply | str | Awaitable[Reply | str]"]


def as_reply(value: Reply | str | dict[str, Any] | None) -> Reply:
    """Coerce a responder's result (or a script entry) to a :class:`Reply`.

    Accepts a Reply, a string (the text), None (an empty reply) or a dict with ``text``,
    ``audio`` (a list of int16 samples) and ``function_calls`` (``[[name, args], ...]`` where
    args may be a JSON string or an object).
    """
    if isinstance(value, Reply):
        return value
    if value is None:
        return Reply()
    if isinstance(value, str):
        return Reply(text=value)
    if isinstance(value, dict):
        unknown = set(value) - {"text", "audio", "function_calls"}
        if unknown:
            raise ValueError(
                "A scripted reply may have 'text', 'audio' and 'function_calls'; "
                f"got {sorted(unknown)}."
            )
        audio = value.get("audio")
        return Reply(
            text=value.get("text"),
            audio=None if audio is None else np.asarray(audio, dtype=np.int16),
            function_calls=[(str(c[0]), c[1]) for c in value.get("function_calls") or ()],
        )
    raise TypeError(
        f"A responder must return a Reply, a str or a dict, not {type(value).__name__}."
    )


def _user_text(item: dict[str, Any]) -> str | None:
    texts = [
        p.get("text") or "" for p in item.get("content") or () if p.get("type") == "input_text"
    ]
    return " ".join(texts) if texts else None


def echo(ctx: ResponderContext) -> Reply:
    """Answer like a parrot, and say so.

    - after a ``function_call_output``: "Tool <name> returned: <output>"
    - user audio: the user's own audio back, transcript "You said something for 1.4 seconds."
    - user text: "You said: <text>"
    - nothing to answer: a greeting that names the stand-in.
    """
    last = ctx.last_item
    if last is not None and last.get("type") == "function_call_output":
        name = ctx.function_name(str(last.get("call_id"))) or "function"
        return Reply(text=f"Tool {name} returned: {last.get('output', '')}")
    user = next(
        (i for i in reversed(ctx.items) if i.get("type") == "message" and i.get("role") == "user"),
        None,
    )
    if user is not None:
        has_audio = any(p.get("type") == "input_audio" for p in user.get("content") or ())
        if has_audio and ctx.last_user_audio is not None:
            seconds = len(ctx.last_user_audio) / SAMPLE_RATE
            return Reply(
                text=f"You said something for {seconds:.1f} seconds.", audio=ctx.last_user_audio
            )
        text = _user_text(user)
        if text is not None:
            return Reply(text=f"You said: {text}")
    return Reply(
        text="Hello from the realtime-nb stand-in server. Say something and I will echo it."
    )


class ScriptExhausted(RuntimeError):
    """A :func:`scripted` responder ran out of replies (the response fails with server_error)."""


class Scripted:
    """A responder that returns the given replies in order (see :func:`scripted`)."""

    def __init__(self, replies: Iterable[Reply | str | dict[str, Any]], cycle: bool = False):
        self.replies: list[Reply] = [as_reply(r) for r in replies]
        self.cycle = cycle
        self.calls: list[ResponderContext] = []

    def __call__(self, ctx: ResponderContext) -> Reply:
        n = len(self.calls)
        self.calls.append(ctx)
        if n >= len(self.replies):
            if not self.cycle or not self.replies:
                raise ScriptExhausted(
                    f"The scripted responder has only {len(self.replies)} replies and this is "
                    f"response #{n + 1}. Add replies or pass cycle=True."
                )
            n %= len(self.replies)
        return self.replies[n]

    def __repr__(self) -> str:
        return f"Scripted({len(self.replies)} replies, cycle={self.cycle}, used={len(self.calls)})"


def scripted(replies: Sequence[Reply | str | dict[str, Any]], *, cycle: bool = False) -> Scripted:
    """A deterministic responder: reply ``i`` answers response ``i`` (shared by all connections).

    Entries are :class:`Reply`, ``str`` or dicts (see :func:`as_reply`). When the list runs out
    the next response fails (``response.done`` status ``failed``, error type ``server_error``)
    unless ``cycle=True``. ``.calls`` keeps every :class:`ResponderContext` seen.
    """
    return Scripted(replies, cycle=cycle)


def load_script(path: str | Path) -> Scripted:
    """Read a JSON file holding a list of replies (strings or dicts) into a :func:`scripted`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and "replies" in data:
        return Scripted(data["replies"], cycle=bool(data.get("cycle", False)))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of replies or {{'replies': [...]}}.")
    return Scripted(data)
