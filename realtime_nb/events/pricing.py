"""Prices per model and the tokens-and-cost row of one response."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from .summaries import _d

if TYPE_CHECKING:
    pass


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
