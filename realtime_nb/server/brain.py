"""The default offline responder: answers what it heard from a small rule table, or calls a tool.

Why: a stand-in that only echoes cannot exercise a voice app's real loop (speech in, a tool
call, the tool's result spoken back). :class:`Brain` hears the user's text (or transcribes
their audio with :class:`~.speech.Transcriber`), then, in order:

1. after a ``function_call_output``: speaks the tool's result;
2. a declared function tool whose name words are heard (``get_weather`` → "weather"): calls it,
   filling string parameters from the word after the keyword ("weather in Paris" → "Paris")
   and number parameters from the first number heard;
3. the first matching :class:`Rule` (greetings, the time, "what is 3 plus 4", "repeat after me");
4. otherwise says plainly that it is the offline stand-in.

Extend it with ``Brain(rules=[Rule(r"\\bping\\b", lambda m, ctx: "pong")])`` (yours go first).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .responders import Reply, ResponderContext
from .speech import Transcriber, speak, stt_available

__all__ = ["DEFAULT_RULES", "Brain", "Rule", "answer_text", "tool_call_for"]

_NUMBERS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_OPS: dict[str, Callable[[float, float], float]] = {
    "plus": lambda a, b: a + b,
    "minus": lambda a, b: a - b,
    "times": lambda a, b: a * b,
    "divided by": lambda a, b: a / b,
}
_STOP = {"in", "the", "at", "for", "of", "me", "what", "is", "a", "to", "about", "like", "it"}
_GENERIC = {"get", "set", "fetch", "lookup", "find", "do", "make", "current", "the"}
# Places the transcriber listens for (the general model rarely hears espeak's city names).
PLACES = [
    "paris",
    "london",
    "berlin",
    "tokyo",
    "rome",
    "madrid",
    "new",
    "york",
    "sydney",
    "moscow",
    "dublin",
]


@dataclass(frozen=True, slots=True)
class Rule:
    """``pattern`` (regex, searched case-insensitively in what was heard) → ``answer(m, ctx)``."""

    pattern: str
    answer: Callable[[re.Match[str], ResponderContext | None], str]

    def words(self) -> set[str]:
        bare = re.sub(r"\(\?P<\w+>|\\[a-zA-Z]", " ", self.pattern)  # group names, \b, \W
        return set(re.findall(r"[a-z]{2,}", bare.lower()))


def _number(word: str) -> float | None:
    word = word.lower()
    if word in _NUMBERS:
        return float(_NUMBERS[word])
    try:
        return float(word)
    except ValueError:
        return None


def _arithmetic(m: re.Match[str], _ctx: ResponderContext | None) -> str:
    a, op, b = _number(m["a"]), m["op"].lower(), _number(m["b"])
    if a is None or b is None:
        return "I did not catch both numbers."
    if op == "divided by" and b == 0:
        return "I cannot divide by zero."
    result = _OPS[op](a, b)
    shown = int(result) if float(result).is_integer() else round(result, 3)
    return f"{m['a']} {op} {m['b']} is {shown}."


_NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(_NUMBERS) + ")"
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        rf"\b(?P<a>{_NUM}) (?P<op>plus|minus|times|divided by) (?P<b>{_NUM})\b",
        _arithmetic,
    ),
    # "after me" alone too: pocketsphinx often hears espeak's "repeat" as another word
    Rule(r"\b(?:repeat )?after me\b\W*(?P<rest>.+)", lambda m, _c: m["rest"].strip()),
    Rule(
        r"\b(what time is it|what is the time|the time)\b",
        lambda _m, _c: f"It is {_dt.datetime.now():%H:%M}.",
    ),
    Rule(
        r"\b(hello|hi|hey|(good )?morning|(good )?afternoon|(good )?evening)\b",
        lambda _m, _c: "Hello! I am the offline realtime-nb stand-in.",
    ),
)


def answer_text(
    heard: str, rules: Sequence[Rule] = DEFAULT_RULES, ctx: ResponderContext | None = None
) -> str | None:
    """The first rule's answer to ``heard``, or None when no rule matches."""
    for rule in rules:
        m = re.search(rule.pattern, heard, re.IGNORECASE)
        if m:
            return rule.answer(m, ctx)
    return None


def _tool_keywords(tool: dict[str, Any]) -> set[str]:
    words = set(re.split(r"[_\W]+", str(tool.get("name", "")).lower())) - _GENERIC - {""}
    return words | {w.lower() for w in tool.get("keywords", ()) if isinstance(w, str)}


def tool_call_for(heard: str, tools: Iterable[dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The ``(name, arguments)`` of the first declared function whose keyword is heard."""
    words = re.findall(r"[\w.']+", heard.lower())
    for tool in tools:
        if tool.get("type", "function") != "function":
            continue
        hits = [i for i, w in enumerate(words) if w in _tool_keywords(tool)]
        if not hits:
            continue
        after = [w for w in words[hits[0] + 1 :] if w not in _STOP]
        props = (tool.get("parameters") or {}).get("properties") or {}
        args: dict[str, Any] = {}
        for pname, schema in props.items():
            kind = schema.get("type") if isinstance(schema, dict) else None
            if kind in ("number", "integer"):
                found = next((n for n in map(_number, words) if n is not None), None)
                if found is not None:
                    args[pname] = int(found) if kind == "integer" else found
            elif kind in (None, "string") and after:
                args[pname] = after.pop(0).title()
        return str(tool["name"]), args
    return None


def _heard_from_items(ctx: ResponderContext) -> str | None:
    for item in reversed(ctx.items):
        if item.get("type") == "message" and item.get("role") == "user":
            for part in item.get("content") or ():
                transcript = part.get("transcript")
                if (
                    part.get("type") == "input_audio"
                    and transcript
                    and not transcript.startswith("[stand-in")
                ):
                    return str(transcript)
            return None
    return None


def _describe_output(output: str) -> str:
    try:
        value = json.loads(output)
    except (TypeError, ValueError):
        return output
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


class Brain:
    """The rule-table responder (module docstring); the server shares ``.transcriber``."""

    def __init__(
        self,
        rules: Iterable[Rule] = (),
        *,
        transcriber: Callable[[Any], str] | None = None,
        voice: bool = True,
        places: Iterable[str] = PLACES,
    ) -> None:
        self.rules: tuple[Rule, ...] = (*rules, *DEFAULT_RULES)
        self.places = list(places)
        if transcriber is None and stt_available():
            transcriber = Transcriber(self.hints())
        self.transcriber = transcriber
        self.voice = voice

    def hints(self, tools: Iterable[dict[str, Any]] = ()) -> list[str]:
        words = {w for r in self.rules for w in r.words()} | set(_NUMBERS) | set(self.places)
        for tool in tools:
            words |= _tool_keywords(tool)
        return sorted(words | {"weather", "what", "is", "in"})

    def heard(self, ctx: ResponderContext) -> str | None:
        if ctx.last_user_text:
            return ctx.last_user_text
        transcript = _heard_from_items(ctx)
        if ctx.last_user_audio is None or self.transcriber is None:
            return transcript
        if isinstance(self.transcriber, Transcriber):
            wanted = self.hints(ctx.tools)
            if transcript and self.transcriber.listens_for(wanted):
                return transcript  # the server already transcribed it listening for these words
            self.transcriber.set_hints(wanted)
        return str(self.transcriber(ctx.last_user_audio))

    def text_for(self, ctx: ResponderContext) -> Reply:
        last = ctx.last_item
        if last is not None and last.get("type") == "function_call_output":
            name = ctx.function_name(str(last.get("call_id"))) or "the tool"
            said = _describe_output(str(last.get("output", "")))
            return Reply(text=f"{name.replace('_', ' ')} says: {said}.")
        heard = (self.heard(ctx) or "").strip()
        if heard:
            call = tool_call_for(heard, ctx.tools)
            if call is not None:
                return Reply(function_calls=[(call[0], json.dumps(call[1]))])
            answer = answer_text(heard, self.rules, ctx)
            if answer is not None:
                return Reply(text=answer)
            return Reply(text=f"I am the offline stand-in and I heard: {heard}.")
        return Reply(
            text="I am the offline realtime-nb stand-in. I heard nothing I could understand."
        )

    def __call__(self, ctx: ResponderContext) -> Reply:
        reply = self.text_for(ctx)
        if self.voice and reply.text and "audio" in ctx.output_modalities:
            reply.audio = speak(reply.text)
        return reply


_shared: Brain | None = None


def default_responder() -> Callable[[ResponderContext], Any]:
    """The stand-in's default: one shared :class:`Brain` when speech imports, else ``echo``.

    Shared because loading the pocketsphinx model takes ~0.4 s and every server would pay it.
    """
    global _shared
    from .responders import echo
    from .speech import speech_available

    if not speech_available():
        return echo
    if _shared is None:
        _shared = Brain()
    return _shared
