"""Prices per model and the tokens-and-cost row of one response."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..models import MODELS, strip_snapshot
from .summaries import _d


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
    audio_seconds: float = 0.0  #: billed audio duration (``usage.type == "duration"``)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: USD per 1M tokens (``audio_minute``: USD per minute of audio) for every model with known
#: prices, from the model table in :mod:`realtime_nb.models` (where the sources are named).
#: Pass your own table to :meth:`EventLog.usage` when prices change.
PRICES: dict[str, dict[str, float]] = {
    name: dict(info.prices) for name, info in MODELS.items() if info.prices is not None
}
_RATE_KEYS = frozenset(
    ("text_in", "text_cached", "text_out", "audio_in", "audio_cached", "audio_out",
     "image_in", "image_cached", "audio_minute")
)  # fmt: skip
_strip_snapshot = strip_snapshot  # the old private name, kept for importers


def price_for(model: str | None, prices: dict[str, Any] | None = None) -> dict[str, float] | None:
    """The rates for ``model`` (an unknown dated snapshot falls back to its alias), or None.

    Exact names only otherwise: ``gpt-realtime-2`` never borrows ``gpt-realtime``'s prices.

    ``prices`` is a table keyed by model, or one rate dict (keys like ``text_in``) for all models.
    """
    table: dict[str, Any] = PRICES if prices is None else prices
    if table and _RATE_KEYS.intersection(table):
        return table  # a single rate dict
    if model is None:
        return None
    return table.get(model) or table.get(strip_snapshot(model))


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_row(
    response_id: str, usage: dict[str, Any], model: str | None, status: str | None,
    prices: dict[str, Any] | None = None,
) -> UsageRow:  # fmt: skip
    """Split usage into text/audio/image/cached tokens and price it.

    ``usage`` is a ``response.done`` usage, or a transcription one: ``{"type": "tokens", …}``
    (same token fields) or ``{"type": "duration", "seconds": S}``, which costs S/60 times the
    model's ``audio_minute`` rate. The cost is None when the model has no rate for that kind.
    """
    if usage.get("type") == "duration":
        return _duration_row(response_id, usage, model, status, prices)
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
    if rates is not None and "audio_minute" not in rates:
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


def _duration_row(
    response_id: str, usage: dict[str, Any], model: str | None, status: str | None,
    prices: dict[str, Any] | None,
) -> UsageRow:  # fmt: skip
    seconds = usage.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        seconds = 0.0
    rates = price_for(model, prices)
    per_minute = rates.get("audio_minute") if rates is not None else None
    return UsageRow(
        response_id=response_id,
        model=model,
        status=status,
        input_tokens=0,
        output_tokens=0,
        total_tokens=0,
        input_text_tokens=0,
        input_audio_tokens=0,
        input_image_tokens=0,
        cached_tokens=0,
        cached_text_tokens=0,
        cached_audio_tokens=0,
        cached_image_tokens=0,
        output_text_tokens=0,
        output_audio_tokens=0,
        cost_usd=None if per_minute is None else float(seconds) / 60 * per_minute,
        audio_seconds=float(seconds),
    )
