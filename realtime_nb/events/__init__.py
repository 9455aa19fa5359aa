"""The event log: every frame sent or received, as one row (DESIGN.md §5).

One module per concept: ``markers`` (audio in payloads), ``summaries``, ``rows`` (rows and the
coalesced view), ``turns``, ``pricing``, ``html_view``, ``log`` (:class:`EventLog`). The names
below are re-exported so ``from realtime_nb.events import EventLog`` keeps working.

Theory of operation. :meth:`EventLog.record` is on the receive hot path (50–200 events/s per
session), so it does the least that keeps the log exact: it stores the event dict itself (no
copy) with its audio already replaced by a small marker (see :func:`extract_audio`), bumps a few
counters, and feeds the handful of event types that the derived tables need (turn latencies,
usage) into per-response accumulators. Everything meant for people — one-line summaries, the
coalesced view, DataFrames, the HTML repr — is computed lazily when asked for.

Rows are bounded (``max_rows``); counts, byte totals, turns and usage are kept outside the rows
so they stay exact after the oldest rows are evicted.

Pure: no I/O except :meth:`EventLog.to_jsonl`, no clock (times are passed in), no asyncio."""

from __future__ import annotations

from .html_view import (  # noqa: F401
    _ARROWS,
    _DIR_COLORS,
    HTML_ROWS,
    _human_bytes,
    _short_id,
)
from .log import (  # noqa: F401
    _MAX_SHARED,
    _SECRET_KEYS,
    _TRACKERS,
    EventLog,
    _pandas,
)
from .markers import (  # noqa: F401
    _AUDIO_CARRIERS,
    _BYTES_PER_MS,
    _ITEM_AUDIO_TYPES,
    _MARKER_KEYS,
    _PART_AUDIO_TYPES,
    _b64_len,
    _decode,
    _extract_parts,
    _is_marker,
    _mark_leftover_audio,
    audio_marker,
    extract_audio,
)
from .pricing import (  # noqa: F401
    _RATE_KEYS,
    PRICES,
    UsageRow,
    _int,
    _strip_snapshot,
    price_for,
    usage_row,
)
from .rows import (  # noqa: F401
    _TEXT_DELTA_TYPES,
    COALESCED_TYPES,
    DISPLAY_COLUMNS,
    ROW_COLUMNS,
    Direction,
    DisplayRow,
    EventRow,
    _display,
    _run_key,
    coalesce,
)
from .summaries import (  # noqa: F401
    _SUMMARIES,
    SUMMARY_MAX,
    _audio_ms,
    _clip,
    _d,
    _error_summary,
    _item_summary,
    _local_summary,
    _part_summary,
    _quote,
    _rate_limits_summary,
    _response_summary,
    _session_summary,
    printable,
    summarize,
)
from .turns import (  # noqa: F401
    Turn,
    _ms,
    _ResponseTrack,
)

__all__ = [
    "COALESCED_TYPES",
    "DISPLAY_COLUMNS",
    "HTML_ROWS",
    "PRICES",
    "ROW_COLUMNS",
    "SUMMARY_MAX",
    "Direction",
    "DisplayRow",
    "EventLog",
    "EventRow",
    "Turn",
    "UsageRow",
    "audio_marker",
    "coalesce",
    "extract_audio",
    "price_for",
    "printable",
    "summarize",
    "usage_row",
]
