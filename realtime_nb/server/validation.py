"""Check client events the way the service does: the first problem wins, reported OpenAI-style.

Schemas are data (small combinators below); :func:`check` returns the normalised value
(unknown-free, integral floats made ints, decimals made floats, ``null`` for a non-nullable
optional field dropped as "not given") or raises :class:`Invalid` with the service's ``code``,
``message`` and ``param`` (a dotted path from the event root, e.g. ``session.audio.output.voice``
or ``item.content[0].type``).

Codes and message shapes observed from the live service (realtime-protocol.md §5g):
``unknown_parameter``, ``missing_required_parameter``, ``invalid_value`` (enums),
``integer_below_min_value``. The others follow the same family of the OpenAI API and are
UNCONFIRMED for the Realtime endpoint: ``invalid_type``, ``integer_above_max_value``,
``decimal_below_min_value``, ``decimal_above_max_value``, ``string_above_max_length``,
``string_below_min_length``, ``array_above_max_length``, ``array_below_min_length``,
``object_above_max_properties``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import protocol
from ..models import REASONING_EFFORTS, supports_reasoning

MAX_APPEND_CHARS = 15 * 1024 * 1024  # §2: ≤ 15 MiB of base64 per append
MAX_EVENT_ID_CHARS = 512
MAX_ITEM_ID_CHARS = 32


class Invalid(Exception):
    """A client event failed validation; carries what the ``error`` event reports."""

    def __init__(self, code: str | None, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


def kind_of(value: Any) -> str:
    """The JSON kind of ``value`` as the service words it ("an integer", "an object", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "an unknown type"


def quote_list(values: Sequence[Any]) -> str:
    """``'a', 'b', and 'c'`` — the service's way of listing supported values."""
    q = [f"'{v}'" for v in values]
    if len(q) <= 1:
        return "".join(q)
    if len(q) == 2:
        return f"{q[0]} and {q[1]}"
    return ", ".join(q[:-1]) + ", and " + q[-1]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _fmt_num(v: float | int) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() and abs(v) < 1e15 else str(v)


def _bad_type(path: str, expected: str, value: Any) -> Invalid:
    return Invalid(
        "invalid_type",
        f"Invalid type for '{path}': expected {expected}, but got {kind_of(value)} instead.",
        path,
    )


def invalid_value(path: str, value: Any, supported: Sequence[Any]) -> Invalid:
    return Invalid(
        "invalid_value",
        f"Invalid value: '{value}'. Supported values are: {quote_list(supported)}.",
        path,
    )


class Spec:
    expected = "a value"
    nullable = False

    def check(self, value: Any, path: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class AnyJson(Spec):
    def check(self, value: Any, path: str) -> Any:
        return value


class Str(Spec):
    expected = "a string"

    def __init__(self, max_len: int | None = None, min_len: int | None = None) -> None:
        self.max_len = max_len
        self.min_len = min_len

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise _bad_type(path, self.expected, value)
        if self.max_len is not None and len(value) > self.max_len:
            raise Invalid(
                "string_above_max_length",
                f"Invalid '{path}': string too long. Expected a string with maximum length "
                f"{self.max_len}, but got a string with length {len(value)} instead.",
                path,
            )
        if self.min_len is not None and len(value) < self.min_len:
            raise Invalid(
                "string_below_min_length",
                f"Invalid '{path}': string too short. Expected a string with minimum length "
                f"{self.min_len}, but got a string with length {len(value)} instead.",
                path,
            )
        return value


class Bool(Spec):
    expected = "a boolean"

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, bool):
            raise _bad_type(path, self.expected, value)
        return value


class Int(Spec):
    expected = "an integer"

    def __init__(self, lo: int | None = None, hi: int | None = None) -> None:
        self.lo, self.hi = lo, hi

    def check(self, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad_type(path, self.expected, value)
        if isinstance(value, float):
            if not value.is_integer():
                raise _bad_type(path, self.expected, value)
            value = int(value)
        if self.lo is not None and value < self.lo:
            raise Invalid(
                "integer_below_min_value",
                f"Invalid '{path}': integer below minimum value. Expected a value >= {self.lo}, "
                f"but got {value} instead.",
                path,
            )
        if self.hi is not None and value > self.hi:
            raise Invalid(
                "integer_above_max_value",
                f"Invalid '{path}': integer above maximum value. Expected a value <= {self.hi}, "
                f"but got {value} instead.",
                path,
            )
        return value


class Num(Spec):
    expected = "a number"

    def __init__(self, lo: float | None = None, hi: float | None = None) -> None:
        self.lo, self.hi = lo, hi

    def check(self, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad_type(path, self.expected, value)
        if value != value:  # NaN
            raise _bad_type(path, self.expected, value)
        if self.lo is not None and value < self.lo:
            raise Invalid(
                "decimal_below_min_value",
                f"Invalid '{path}': decimal below minimum value. Expected a value >= "
                f"{_fmt_num(self.lo)}, but got {_fmt_num(value)} instead.",
                path,
            )
        if self.hi is not None and value > self.hi:
            raise Invalid(
                "decimal_above_max_value",
                f"Invalid '{path}': decimal above maximum value. Expected a value <= "
                f"{_fmt_num(self.hi)}, but got {_fmt_num(value)} instead.",
                path,
            )
        return float(value)


class Enum(Spec):
    expected = "a string"

    def __init__(self, *values: str) -> None:
        self.values = values

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise _bad_type(path, self.expected, value)
        if value not in self.values:
            raise invalid_value(path, value, self.values)
        return value


class Nullable(Spec):
    nullable = True

    def __init__(self, inner: Spec) -> None:
        self.inner = inner
        self.expected = inner.expected

    def check(self, value: Any, path: str) -> Any:
        return None if value is None else self.inner.check(value, path)


class Arr(Spec):
    expected = "an array"

    def __init__(self, item: Spec, min_len: int | None = None, max_len: int | None = None):
        self.item, self.min_len, self.max_len = item, min_len, max_len

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise _bad_type(path, self.expected, value)
        if self.max_len is not None and len(value) > self.max_len:
            raise Invalid(
                "array_above_max_length",
                f"Invalid '{path}': array too long. Expected an array with maximum length "
                f"{self.max_len}, but got an array with length {len(value)} instead.",
                path,
            )
        if self.min_len is not None and len(value) < self.min_len:
            raise Invalid(
                "array_below_min_length",
                f"Invalid '{path}': array too short. Expected an array with minimum length "
                f"{self.min_len}, but got an array with length {len(value)} instead.",
                path,
            )
        return [self.item.check(v, f"{path}[{i}]") for i, v in enumerate(value)]


class Obj(Spec):
    """An object with known fields; ``extra`` (a Spec) admits other keys (maps like metadata)."""

    expected = "an object"

    def __init__(
        self,
        fields: Mapping[str, Spec],
        required: Sequence[str] = (),
        extra: Spec | None = None,
        max_props: int | None = None,
        max_key_len: int | None = None,
    ) -> None:
        self.fields = dict(fields)
        self.required = tuple(required)
        self.extra = extra
        self.max_props = max_props
        self.max_key_len = max_key_len

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _bad_type(path, self.expected, value)
        if self.max_props is not None and len(value) > self.max_props:
            raise Invalid(
                "object_above_max_properties",  # UNCONFIRMED code
                f"Invalid '{path}': too many properties. Expected an object with at most "
                f"{self.max_props} properties, but got an object with {len(value)} properties "
                "instead.",
                path,
            )
        out: dict[str, Any] = {}
        for key, v in value.items():
            sub = _join(path, key)
            spec = self.fields.get(key)
            if spec is None:
                if self.extra is None:
                    raise Invalid("unknown_parameter", f"Unknown parameter: '{sub}'.", sub)
                if self.max_key_len is not None and len(key) > self.max_key_len:
                    raise Invalid(
                        "string_above_max_length",
                        f"Invalid '{path}': key '{key[:80]}' is too long. Expected keys with "
                        f"maximum length {self.max_key_len}.",
                        sub,
                    )
                out[key] = self.extra.check(v, sub)
                continue
            if v is None and not spec.nullable and not isinstance(spec, AnyJson):
                continue  # null = not given
            out[key] = spec.check(v, sub)
        for key in self.required:
            if key not in out:
                sub = _join(path, key)
                raise Invalid(
                    "missing_required_parameter", f"Missing required parameter: '{sub}'.", sub
                )
        return out


class Tagged(Spec):
    """A union told apart by one field (``type``/``role``); each variant is an :class:`Obj`."""

    expected = "an object"

    def __init__(self, key: str, variants: Mapping[str, Spec]) -> None:
        self.key = key
        self.variants = dict(variants)

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _bad_type(path, self.expected, value)
        sub = _join(path, self.key)
        tag = value.get(self.key)
        if tag is None:
            raise Invalid(
                "missing_required_parameter", f"Missing required parameter: '{sub}'.", sub
            )
        if not isinstance(tag, str):
            raise _bad_type(sub, "a string", tag)
        variant = self.variants.get(tag)
        if variant is None:
            raise invalid_value(sub, tag, list(self.variants))
        return variant.check(value, path)


class ByKind(Spec):
    """Different specs by JSON kind: ``{str: Enum(...), dict: Obj(...)}``."""

    def __init__(self, by: Mapping[type, Spec], expected: str) -> None:
        self.by = dict(by)
        self.expected = expected

    def check(self, value: Any, path: str) -> Any:
        kind: type = type(value)
        if kind is bool:
            spec = self.by.get(bool)
        elif kind is float and int in self.by and float not in self.by:
            spec = self.by[int]
        else:
            spec = self.by.get(kind)
        if spec is None:
            raise _bad_type(path, self.expected, value)
        return spec.check(value, path)


def const(value: str) -> Enum:
    return Enum(value)


# --- §4.1 session -------------------------------------------------------------------------
FORMAT = Tagged(
    "type",
    {
        "audio/pcm": Obj(
            {"type": const("audio/pcm"), "rate": Int(protocol.SAMPLE_RATE, protocol.SAMPLE_RATE)}
        ),
        "audio/pcmu": Obj({"type": const("audio/pcmu")}),
        "audio/pcma": Obj({"type": const("audio/pcma")}),
    },
)
VOICE = ByKind(
    {str: Enum(*protocol.VOICES), dict: Obj({"id": Str()}, required=["id"])},
    "one of a string or an object",
)
SERVER_VAD = Obj(
    {
        "type": const("server_vad"),
        "threshold": Num(0.0, 1.0),
        "prefix_padding_ms": Int(0),
        "silence_duration_ms": Int(0),
        "idle_timeout_ms": Nullable(Int(5000, 30000)),
        "create_response": Bool(),
        "interrupt_response": Bool(),
    }
)
SEMANTIC_VAD = Obj(
    {
        "type": const("semantic_vad"),
        "eagerness": Enum("low", "medium", "high", "auto"),
        "create_response": Bool(),
        "interrupt_response": Bool(),
    }
)
TURN_DETECTION = Nullable(Tagged("type", {"server_vad": SERVER_VAD, "semantic_vad": SEMANTIC_VAD}))
TRANSCRIPTION = Nullable(
    Obj(
        {
            "model": Str(),
            "language": Nullable(Str()),
            "prompt": Nullable(Str()),
            "delay": Enum("minimal", "low", "medium", "high", "xhigh"),
            "keywords": Arr(Str()),
            "languages": Arr(Str()),
        }
    )
)
NOISE_REDUCTION = Nullable(
    Obj({"type": Enum("near_field", "far_field"), "strength": Num(0.0, 1.0)})
)
AUDIO_INPUT = Obj(
    {
        "format": FORMAT,
        "noise_reduction": NOISE_REDUCTION,
        "transcription": TRANSCRIPTION,
        "turn_detection": TURN_DETECTION,
    }
)
AUDIO_OUTPUT = Obj({"format": FORMAT, "voice": VOICE, "speed": Num(0.25, 1.5)})
FUNCTION_TOOL = Obj(
    {
        "type": const("function"),
        "name": Str(max_len=64),
        "description": Str(),
        "parameters": AnyJson(),
    },
    required=["name"],
)
MCP_TOOL = Obj(
    {"type": const("mcp"), "server_label": Str()}, required=["server_label"], extra=AnyJson()
)
TOOLS = Arr(Tagged("type", {"function": FUNCTION_TOOL, "mcp": MCP_TOOL}), max_len=128)
TOOL_CHOICE = ByKind(
    {
        str: Enum("none", "auto", "required"),
        dict: Tagged(
            "type",
            {
                "function": Obj({"type": const("function"), "name": Str()}, required=["name"]),
                "mcp": Obj(
                    {"type": const("mcp"), "server_label": Str(), "name": Nullable(Str())},
                    required=["server_label"],
                ),
            },
        ),
    },
    "one of a string or an object",
)
MAX_OUTPUT_TOKENS = ByKind({int: Int(1, 4096), str: Enum("inf")}, "one of an integer or a string")
TRACING = Nullable(
    ByKind(
        {
            str: Enum("auto"),
            dict: Obj({"workflow_name": Str(), "group_id": Str(), "metadata": AnyJson()}),
        },
        "one of a string or an object",
    )
)
TRUNCATION = ByKind(
    {
        str: Enum("auto", "disabled"),
        dict: Tagged(
            "type",
            {
                "retention_ratio": Obj(
                    {
                        "type": const("retention_ratio"),
                        "retention_ratio": Num(0.0, 1.0),
                        "token_limits": Obj({"post_instructions": Int(0)}),
                    },
                    required=["retention_ratio"],
                )
            },
        ),
    },
    "one of a string or an object",
)
PROMPT = Nullable(
    Obj({"id": Str(), "version": Nullable(Str()), "variables": AnyJson()}, required=["id"])
)
INCLUDE = Nullable(Arr(Enum("item.input_audio_transcription.logprobs")))
MODALITIES = Arr(Enum("text", "audio"), min_len=1)
#: SDK ``RealtimeReasoning``: only ``effort``. Which models take it: :func:`check_reasoning`.
REASONING = Obj({"effort": Enum(*REASONING_EFFORTS)})

REALTIME_SESSION = Obj(
    {
        "type": const("realtime"),
        "model": Str(),
        "instructions": Str(),
        "output_modalities": MODALITIES,
        "audio": Obj({"input": AUDIO_INPUT, "output": AUDIO_OUTPUT}),
        "tools": TOOLS,
        "tool_choice": TOOL_CHOICE,
        "max_output_tokens": MAX_OUTPUT_TOKENS,
        "tracing": TRACING,
        "truncation": TRUNCATION,
        "prompt": PROMPT,
        "include": INCLUDE,
        # reasoning models only (gpt-realtime-2 …): see check_reasoning
        "parallel_tool_calls": Bool(),
        "reasoning": REASONING,
    }
)
TRANSCRIPTION_SESSION = Obj(
    {
        "type": const("transcription"),
        "audio": Obj({"input": AUDIO_INPUT}),
        "include": INCLUDE,
    }
)
SESSION = Tagged("type", {"realtime": REALTIME_SESSION, "transcription": TRANSCRIPTION_SESSION})

# --- §2.2 conversation items ------------------------------------------------------------------
_ITEM_COMMON: dict[str, Spec] = {
    "id": Str(max_len=MAX_ITEM_ID_CHARS),
    "object": const("realtime.item"),
    "status": Enum("completed", "incomplete", "in_progress"),
}


def _message(role: str, parts: Spec) -> Obj:
    return Obj(
        {**_ITEM_COMMON, "type": const("message"), "role": const(role), "content": Arr(parts)},
        required=["content"],
    )


USER_PART = Tagged(
    "type",
    {
        "input_text": Obj({"type": const("input_text"), "text": Str()}, required=["text"]),
        "input_audio": Obj(
            {"type": const("input_audio"), "audio": Str(), "transcript": Nullable(Str())},
            required=["audio"],
        ),
        "input_image": Obj(
            {
                "type": const("input_image"),
                "image_url": Str(),
                "detail": Enum("auto", "low", "high"),
            },
            required=["image_url"],
        ),
    },
)
SYSTEM_PART = Tagged(
    "type", {"input_text": Obj({"type": const("input_text"), "text": Str()}, required=["text"])}
)
ASSISTANT_PART = Tagged(
    "type",
    {"output_text": Obj({"type": const("output_text"), "text": Str()}, required=["text"])},
)
MESSAGE = Tagged(
    "role",
    {
        "user": _message("user", USER_PART),
        "assistant": _message("assistant", ASSISTANT_PART),
        "system": _message("system", SYSTEM_PART),
    },
)
FUNCTION_CALL = Obj(
    {
        **_ITEM_COMMON,
        "type": const("function_call"),
        "name": Str(),
        "arguments": Str(),
        "call_id": Str(),
    },
    required=["name", "arguments"],
)
FUNCTION_CALL_OUTPUT = Obj(
    {**_ITEM_COMMON, "type": const("function_call_output"), "call_id": Str(), "output": Str()},
    required=["call_id", "output"],
)
MCP_APPROVAL_RESPONSE = Obj(
    {
        **_ITEM_COMMON,
        "type": const("mcp_approval_response"),
        "approval_request_id": Str(),
        "approve": Bool(),
        "reason": Nullable(Str()),
    },
    required=["approval_request_id", "approve"],
)
_ITEM_VARIANTS: dict[str, Spec] = {
    "message": MESSAGE,
    "function_call": FUNCTION_CALL,
    "function_call_output": FUNCTION_CALL_OUTPUT,
    "mcp_approval_response": MCP_APPROVAL_RESPONSE,
}
ITEM = Tagged("type", _ITEM_VARIANTS)
INPUT_ITEM = Tagged(
    "type",
    {
        **_ITEM_VARIANTS,
        "item_reference": Obj({"type": const("item_reference"), "id": Str()}, required=["id"]),
    },
)

# --- §2.1 response.create ---------------------------------------------------------------------
METADATA = Nullable(Obj({}, extra=Str(max_len=512), max_props=16, max_key_len=64))
RESPONSE_PARAMS = Obj(
    {
        "conversation": Enum("auto", "none"),
        "input": Arr(INPUT_ITEM),
        "instructions": Str(),
        "max_output_tokens": MAX_OUTPUT_TOKENS,
        "metadata": METADATA,
        "output_modalities": MODALITIES,
        "audio": Obj({"output": Obj({"format": FORMAT, "voice": VOICE})}),
        "tools": TOOLS,
        "tool_choice": TOOL_CHOICE,
        "prompt": PROMPT,
        "parallel_tool_calls": Bool(),
        "reasoning": REASONING,
    }
)

# --- §2 client events -------------------------------------------------------------------------
_COMMON: dict[str, Spec] = {"type": Str(), "event_id": Str(max_len=MAX_EVENT_ID_CHARS)}
EVENTS: dict[str, Obj] = {
    "session.update": Obj({**_COMMON, "session": SESSION}, required=["session"]),
    "input_audio_buffer.append": Obj(
        {**_COMMON, "audio": Str(max_len=MAX_APPEND_CHARS)}, required=["audio"]
    ),
    "input_audio_buffer.commit": Obj(_COMMON),
    "input_audio_buffer.clear": Obj(_COMMON),
    "conversation.item.create": Obj(
        {**_COMMON, "previous_item_id": Nullable(Str()), "item": ITEM}, required=["item"]
    ),
    "conversation.item.retrieve": Obj({**_COMMON, "item_id": Str()}, required=["item_id"]),
    "conversation.item.truncate": Obj(
        {**_COMMON, "item_id": Str(), "content_index": Int(0), "audio_end_ms": Int(0)},
        required=["item_id", "content_index", "audio_end_ms"],
    ),
    "conversation.item.delete": Obj({**_COMMON, "item_id": Str()}, required=["item_id"]),
    "response.create": Obj({**_COMMON, "response": RESPONSE_PARAMS}),
    "response.cancel": Obj({**_COMMON, "response_id": Str()}),
}
#: The accepted ``type`` values, in the order the live service lists them.
ACCEPTED_TYPES: tuple[str, ...] = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.truncate",
    "conversation.item.delete",
    "conversation.item.retrieve",
    "response.create",
    "response.cancel",
)


def check_reasoning(model: str | None, reasoning: Any, path: str) -> None:
    """Refuse ``reasoning`` (at ``path``) for a model known to have no reasoning.

    The schema check has already validated its shape; a model missing from the table (an Azure
    deployment name) is given the benefit of the doubt. Code and message UNCONFIRMED: they
    follow the OpenAI API's ``unsupported_parameter`` for a field a model does not take.
    """
    if reasoning is None or supports_reasoning(model) is not False:
        return
    raise Invalid(
        "unsupported_parameter",
        f"Unsupported parameter: '{path}' is not supported with the model '{model}'. "
        "Use a reasoning model such as 'gpt-realtime-2'.",
        path,
    )


def check_event(event: dict[str, Any]) -> dict[str, Any]:
    """Validate a parsed client event; returns it normalised or raises :class:`Invalid`."""
    type_ = event.get("type")
    if "type" not in event or type_ is None:
        raise Invalid("invalid_event", "The 'type' field is missing.", None)
    if not isinstance(type_, str) or type_ not in EVENTS:
        raise invalid_value("type", type_, ACCEPTED_TYPES)
    return EVENTS[type_].check(event, "")
