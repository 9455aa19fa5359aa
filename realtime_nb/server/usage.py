"""Token accounting: what a response's context and output cost, and the rate-limit window (§6).

The stand-in cannot tokenize, so it estimates as the service bills: text at about four
characters a token, input audio at one token per 100 ms, output audio at one per 50 ms, 85 per
image, four special tokens per item; the context is billed again on every response, and the
prefix the previous response already saw counts as cached in blocks of 64. Pure.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import Any

from .items import StoredItem

RATE_LIMIT_TOKENS = 40_000  # per minute, as in a real gpt-realtime capture
TOKENS_PER_ITEM = 4
TOKENS_PER_IMAGE = 85
CACHE_BLOCK = 64

#: Hidden reasoning tokens a reasoning model spends per response, by ``reasoning.effort``. The
#: stand-in's own scale (the service's counts vary per prompt); billed inside output text
#: tokens (§10: the SDK's usage has no separate reasoning field).
REASONING_TOKENS: dict[str, int] = {
    "minimal": 0,
    "low": 24,
    "medium": 64,
    "high": 160,
    "xhigh": 400,
}
#: The effort the stand-in assumes when neither session nor response sets one. The service's
#: default is UNCONFIRMED (``session.created`` does not show it); the stand-in takes
#: ``"minimal"`` (no preamble, no reasoning tokens) so that scripts and tests written for
#: one-message replies keep their shape; set ``reasoning.effort`` to see preambles.
DEFAULT_REASONING_EFFORT = "minimal"


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


def reasoning_tokens(effort: str) -> int:
    """Hidden reasoning tokens one response spends at ``effort``."""
    return REASONING_TOKENS.get(effort, REASONING_TOKENS[DEFAULT_REASONING_EFFORT])


def input_audio_tokens(ms: float) -> int:
    return math.ceil(ms / 100)


def output_audio_tokens(ms: float) -> int:
    return math.ceil(ms / 50)


def context_tokens(items: Iterable[StoredItem], instructions_tokens: int) -> tuple[int, int, int]:
    """(text, audio, image) input tokens of a response's context, instructions included."""
    text, aud, image = instructions_tokens, 0, 0
    for stored in items:
        item = stored.item
        text += TOKENS_PER_ITEM
        type_ = item.get("type")
        if type_ == "message":
            for i, part in enumerate(item.get("content") or ()):
                kind = part.get("type")
                if kind in ("input_text", "output_text", "text"):
                    text += text_tokens(part.get("text") or "")
                elif kind == "input_audio":
                    aud += input_audio_tokens(stored.audio_ms(i))
                elif kind == "output_audio":
                    if i in stored.audio:
                        aud += output_audio_tokens(stored.audio_ms(i))
                    else:
                        text += text_tokens(part.get("transcript") or "")
                elif kind == "input_image":
                    image += TOKENS_PER_IMAGE
        elif type_ == "function_call":
            text += text_tokens(str(item.get("name", "")) + str(item.get("arguments", "")))
        elif type_ == "function_call_output":
            text += text_tokens(str(item.get("output", "")))
    return text, aud, image


def response_usage(
    usage_in: tuple[int, int, int],
    output: tuple[int, int],
    cached_prefix: tuple[int, int],
) -> dict[str, Any]:
    """A response's ``usage``: input ``(text, audio, image)``, output ``(text, audio)``, and
    the ``(text, audio)`` prefix of the input that was cached."""
    in_text, in_audio, in_image = usage_in
    out_text, out_audio = output
    prefix_text, prefix_audio = cached_prefix
    c_text, c_audio = min(in_text, prefix_text), min(in_audio, prefix_audio)
    drop = (c_text + c_audio) % CACHE_BLOCK
    cut = min(drop, c_text)
    c_text -= cut
    c_audio -= drop - cut
    input_tokens = in_text + in_audio + in_image
    output_tokens = out_text + out_audio
    return {
        "total_tokens": input_tokens + output_tokens,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_token_details": {
            "text_tokens": in_text,
            "audio_tokens": in_audio,
            "image_tokens": in_image,
            "cached_tokens": c_text + c_audio,
            "cached_tokens_details": {
                "text_tokens": c_text,
                "audio_tokens": c_audio,
                "image_tokens": 0,
            },
        },
        "output_token_details": {"text_tokens": out_text, "audio_tokens": out_audio},
    }


class RateLimiter:
    """Tokens used in the last ``window_s`` (a minute), as ``rate_limits.updated`` reports them."""

    def __init__(self, limit: int = RATE_LIMIT_TOKENS, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._window: deque[tuple[float, int]] = deque()

    def spend(self, now: float, tokens: int) -> dict[str, Any]:
        """Record ``tokens`` used at ``now``; return the ``tokens`` rate-limit entry."""
        window = self._window
        window.append((now, tokens))
        while window and window[0][0] < now - self.window_s:
            window.popleft()
        used = sum(t for _, t in window)
        return {
            "name": "tokens",
            "limit": self.limit,
            "remaining": max(self.limit - used, 0),
            "reset_seconds": round(min(used, self.limit) / self.limit * self.window_s, 3),
        }


__all__ = [
    "DEFAULT_REASONING_EFFORT",
    "RATE_LIMIT_TOKENS",
    "REASONING_TOKENS",
    "RateLimiter",
    "context_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
    "reasoning_tokens",
    "response_usage",
    "text_tokens",
]
