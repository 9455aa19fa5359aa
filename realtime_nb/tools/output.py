"""A tool's return value as the ``output`` string of a ``function_call_output`` item.

Why its own module: whatever a Python function returns must reach the model as bounded JSON
text, never crash the session and never flood the context. The rule, stated once:

- ``str`` is sent as is; everything else as JSON: dataclasses and TypedDicts as objects, numpy
  scalars as numbers, numpy arrays as (nested) lists, datetimes/dates/times as ISO 8601,
  ``Enum`` as its value, sets and tuples as lists, ``bytes`` as a short description, NaN and
  infinities as ``null``, anything else as its ``repr``.
- The text is at most :data:`MAX_OUTPUT_CHARS` characters. A longer one is replaced by
  ``{"truncated": true, "original_chars": N, "head": "<the first characters>"}`` so the model
  knows it saw only the start.
- Errors go as ``{"error": "<message>"}``.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
from collections.abc import Mapping
from typing import Any

#: The longest ``output`` sent to the model (characters); longer results are cut by rule.
MAX_OUTPUT_CHARS = 16_000
_MAX_DEPTH = 20


def to_output(value: Any, *, limit: int = MAX_OUTPUT_CHARS) -> str:
    """The ``function_call_output.output`` text for a tool's return ``value`` (module rule)."""
    text = value if isinstance(value, str) else json.dumps(_jsonable(value, 0), allow_nan=False)
    if len(text) <= limit:
        return text
    head_chars = max(limit - 80, 0)
    while True:  # the JSON escaping of the head adds characters: shrink until it fits
        cut = json.dumps(
            {"truncated": True, "original_chars": len(text), "head": text[:head_chars]}
        )
        if len(cut) <= limit or head_chars == 0:
            return cut
        head_chars = max(head_chars - (len(cut) - limit) - 8, 0)


def error_output(message: str, *, limit: int = MAX_OUTPUT_CHARS) -> str:
    """``{"error": message}`` as JSON, the message cut to fit ``limit``."""
    return json.dumps({"error": message[: max(limit - 20, 0)]})


def _jsonable(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return repr(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, enum.Enum):
        return _jsonable(value.value, depth + 1)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return _jsonable(fields, depth)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    numpy_value = _from_numpy(value)
    if numpy_value is not _NOT_NUMPY:
        return _jsonable(numpy_value, depth + 1)
    return repr(value)


_NOT_NUMPY = object()


def _from_numpy(value: Any) -> Any:
    """A numpy scalar or array as Python values (``tolist``), or ``_NOT_NUMPY``."""
    module = type(value).__module__
    if not module.startswith("numpy") or not hasattr(value, "tolist"):
        return _NOT_NUMPY
    return value.tolist()


__all__ = ["MAX_OUTPUT_CHARS", "error_output", "to_output"]
