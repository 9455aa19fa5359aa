"""A ``session.tools`` entry from a Python callable: JSON schema from type hints and docstring.

Why its own module: the model only sees what the schema says, so the mapping from Python types
to JSON schema is one table, tested for every supported annotation, and anything it cannot say
faithfully is refused with :class:`ToolSchemaError` naming the parameter (never guessed).

Supported annotations: ``str``, ``int``, ``float``, ``bool``, ``Literal[...]`` and ``Enum``
(an ``enum``), ``list[T]``, ``dict[str, T]``, ``Optional[T]`` / ``T | None``, unions of these,
``Any`` (any JSON value), ``Annotated[T, "description"]``, ``TypedDict`` and dataclasses
(nested objects). Descriptions come from the docstring (Google, NumPy or reST style, parsed by
``docstring_parser``). Parameters with a default are not required.

:func:`coerce_arguments` goes the other way: the model's JSON arguments become the values the
function's hints promise (an ``Enum`` member, a dataclass instance, a float for an int).
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Union, get_args, get_origin

import docstring_parser

from ..errors import UsageError

#: What the API accepts as a function name.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUPPORTED = (
    "str, int, float, bool, Literal[...], an Enum, list[T], dict[str, T], Optional[T] "
    "(T | None), a TypedDict or a dataclass"
)
_SIMPLE = {str: "string", int: "integer", float: "number", bool: "boolean"}
_MAX_DEPTH = 10


class ToolSchemaError(UsageError):
    """A callable cannot be described to the model as a tool (the message names the parameter)."""


class ToolArgumentError(UsageError):
    """The model's arguments do not fit the function (told back to the model as an error)."""


def tool_schema(
    fn: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """The GA ``session.tools`` entry for ``fn``.

    Returns ``{"type": "function", "name", "description", "parameters"}`` where ``parameters`` is
    a JSON schema object built from the type hints, with per-parameter descriptions from the
    docstring. ``name`` defaults to ``fn.__name__``; ``description`` to the docstring's summary
    and body.

    Raises:
        ToolSchemaError: a parameter has no hint, an unsupported one, or is ``*args``/``**kw``
            or positional-only; or the name is not ``[A-Za-z0-9_-]{1,64}``.
    """
    tool_name = name if name is not None else getattr(fn, "__name__", "")
    if not isinstance(tool_name, str) or not NAME_PATTERN.match(tool_name):
        raise ToolSchemaError(
            f"{tool_name!r} cannot be a tool name: the API wants 1-64 letters, digits, '_' or "
            "'-'. Pass name='get_weather' (e.g. @session.tool(name=...)) for a lambda or partial."
        )
    doc = docstring_parser.parse(inspect.getdoc(fn) or "")
    if description is None:
        parts = [doc.short_description, doc.long_description]
        description = "\n\n".join(p.strip() for p in parts if p and p.strip())
    properties, required = _parameters(fn, tool_name, _param_docs(doc))
    return {
        "type": "function",
        "name": tool_name,
        "description": description,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


def _param_docs(doc: docstring_parser.Docstring) -> dict[str, str]:
    return {p.arg_name: (p.description or "").strip() for p in doc.params if p.description}


def _hints(obj: Any, where: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception as exc:  # a forward reference that does not resolve
        raise ToolSchemaError(
            f"{where}: the type hints cannot be resolved ({exc}). Define the types they name "
            "at module level (or import them) before registering the tool."
        ) from None


def _parameters(
    fn: Callable[..., Any], tool_name: str, docs: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ToolSchemaError(f"{tool_name}: no signature to read ({exc}).") from None
    hints = _hints(fn, tool_name)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        where = f"{tool_name}({param.name})"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolSchemaError(
                f"{where}: *args and **kwargs cannot be described to the model. Name each "
                "parameter with a type hint."
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise ToolSchemaError(
                f"{where}: positional-only parameters cannot be passed by name, as the model "
                "does. Remove the '/' from the signature."
            )
        if param.name not in hints:
            raise ToolSchemaError(
                f"{where}: the parameter has no type hint, so the model would not know what to "
                f"send. Annotate it, e.g. '{param.name}: str'."
            )
        schema = _schema_for(hints[param.name], where, 0)
        if param.name in docs:
            schema = {**schema, "description": docs[param.name]}
        if param.default is param.empty:
            required.append(param.name)
        else:
            default = _json_default(param.default)
            if default is not None:
                schema = {**schema, "default": default[0]}
        properties[param.name] = schema
    return properties, required


def _json_default(value: Any) -> tuple[Any] | None:
    """``(value,)`` when the default can be shown in JSON, else None (left out)."""
    if isinstance(value, enum.Enum):
        value = value.value
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return (value,)


def _unsupported(where: str, annotation: Any, why: str = "") -> ToolSchemaError:
    shown = getattr(annotation, "__name__", None) or repr(annotation)
    return ToolSchemaError(
        f"{where}: the type {shown!s} is not supported in a tool schema{why}. Use {_SUPPORTED}; "
        "or declare this tool by hand in session['tools'] and answer it with "
        "send_function_output()."
    )


def _schema_for(annotation: Any, where: str, depth: int) -> dict[str, Any]:
    """The JSON schema for one annotation (``where`` names the parameter for errors)."""
    if depth > _MAX_DEPTH:
        raise ToolSchemaError(f"{where}: types nest more than {_MAX_DEPTH} deep (recursive?).")
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is typing.Annotated:
        schema = _schema_for(args[0], where, depth + 1)
        notes = [a for a in args[1:] if isinstance(a, str)]
        return {**schema, "description": " ".join(notes)} if notes else schema
    if annotation is Any:
        return {}
    if annotation in _SIMPLE:
        return {"type": _SIMPLE[annotation]}
    if origin is Literal:
        return _enum_schema(list(args), where, annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_schema([m.value for m in annotation], where, annotation)
    if origin in (Union, types.UnionType):
        return _union_schema(args, where, depth)
    if annotation in (list, Sequence) or origin in (list, Sequence):
        if not args:
            return {"type": "array"}
        return {"type": "array", "items": _schema_for(args[0], where, depth + 1)}
    if annotation in (dict, Mapping) or origin in (dict, Mapping):
        if not args:
            return {"type": "object"}
        if args[0] is not str:
            raise _unsupported(where, annotation, " (JSON object keys are strings)")
        return {"type": "object", "additionalProperties": _schema_for(args[1], where, depth + 1)}
    if typing.is_typeddict(annotation):
        return _typed_dict_schema(annotation, where, depth)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return _dataclass_schema(annotation, where, depth)
    if annotation is None or annotation is type(None):
        return {"type": "null"}
    raise _unsupported(where, annotation)


def _enum_schema(values: list[Any], where: str, annotation: Any) -> dict[str, Any]:
    kinds = set()
    for value in values:
        kind = next((k for t, k in _SIMPLE.items() if type(value) is t), None)
        if kind is None and value is not None:
            raise _unsupported(where, annotation, f" (the value {value!r} is not a JSON scalar)")
        kinds.add(kind or "null")
    if not values:
        raise _unsupported(where, annotation, " (it has no values)")
    schema: dict[str, Any] = {"enum": values}
    if len(kinds) == 1:
        schema = {"type": kinds.pop(), "enum": values}
    return schema


def _union_schema(args: tuple[Any, ...], where: str, depth: int) -> dict[str, Any]:
    nullable = type(None) in args
    members = [a for a in args if a is not type(None)]
    schemas = [_schema_for(a, where, depth + 1) for a in members]
    if len(schemas) == 1:
        schema = schemas[0]
        kind = schema.get("type")
        if nullable and isinstance(kind, str):
            if "enum" in schema:  # null must be one of the values too
                return {**schema, "type": [kind, "null"], "enum": [*schema["enum"], None]}
            return {**schema, "type": [kind, "null"]}
        return {"anyOf": [schema, {"type": "null"}]} if nullable else schema
    if nullable:
        schemas.append({"type": "null"})
    return {"anyOf": schemas}


def _object_schema(
    hints: dict[str, Any], required: list[str], docs: dict[str, str], where: str, depth: int
) -> dict[str, Any]:
    properties = {}
    for field_name, hint in hints.items():
        schema = _schema_for(hint, f"{where}.{field_name}", depth + 1)
        if field_name in docs:
            schema = {**schema, "description": docs[field_name]}
        properties[field_name] = schema
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _class_docs(cls: type) -> tuple[dict[str, str], str]:
    doc = docstring_parser.parse(inspect.getdoc(cls) or "")
    summary = (doc.short_description or "").strip()
    if dataclasses.is_dataclass(cls) and summary.startswith(f"{cls.__name__}("):
        summary = ""  # the signature dataclasses write when there is no docstring
    return _param_docs(doc), summary


def _typed_dict_schema(cls: Any, where: str, depth: int) -> dict[str, Any]:
    raw = _hints(cls, f"{where} ({cls.__name__})")
    keys = getattr(cls, "__required_keys__", frozenset(raw))
    required = [  # Required/NotRequired read from the hints: right under PEP 563 strings too
        k
        for k, v in raw.items()
        if get_origin(v) is typing.Required
        or (get_origin(v) is not typing.NotRequired and k in keys)
    ]
    hints = {k: _strip_required(v) for k, v in raw.items()}
    docs, summary = _class_docs(cls)
    schema = _object_schema(hints, required, docs, where, depth)
    return {**schema, "description": summary} if summary else schema


def _strip_required(hint: Any) -> Any:
    if get_origin(hint) in (typing.Required, typing.NotRequired):
        return get_args(hint)[0]
    return hint


def _dataclass_schema(cls: type, where: str, depth: int) -> dict[str, Any]:
    all_hints = _hints(cls, f"{where} ({cls.__name__})")
    fields = [f for f in dataclasses.fields(cls) if f.init]
    hints = {f.name: all_hints[f.name] for f in fields}
    required = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    docs, summary = _class_docs(cls)
    schema = _object_schema(hints, required, docs, where, depth)
    return {**schema, "description": summary} if summary else schema


# --- the model's arguments → the function's values ----------------------------------------------
def coerce_arguments(fn: Callable[..., Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``fn`` from the model's JSON ``arguments``.

    Builds ``Enum`` members and dataclass instances where the hints ask for them and turns an
    integral float into an int; leaves everything else as JSON gave it.

    Raises:
        ToolArgumentError: a required argument is missing, an unknown one is given, or a value
            does not fit (an enum value that does not exist, an object for a dataclass that
            lacks fields). The message is what the model is told.
    """
    signature = inspect.signature(fn)
    hints = typing.get_type_hints(fn, include_extras=True)
    unknown = sorted(set(arguments) - set(signature.parameters))
    if unknown:
        raise ToolArgumentError(
            f"unknown argument(s) {', '.join(unknown)}; the parameters are "
            f"{', '.join(signature.parameters) or 'none'}"
        )
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.name not in arguments
    ]
    if missing:
        raise ToolArgumentError(f"missing required argument(s) {', '.join(missing)}")
    return {k: _coerce(v, hints.get(k, Any), k) for k, v in arguments.items()}


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin is typing.Annotated:
        return _coerce(value, args[0], where)
    if value is None:
        return None
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in hint)
            raise ToolArgumentError(f"{where}: {value!r} is not one of {allowed}") from None
    if origin in (Union, types.UnionType):
        failure: ToolArgumentError | None = None
        for member in args:
            if member is type(None):
                continue
            try:
                return _coerce(value, member, where)
            except ToolArgumentError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return value
    if origin in (list, Sequence) and args and isinstance(value, list):
        return [_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, Mapping) and len(args) == 2 and isinstance(value, dict):
        return {k: _coerce(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if typing.is_typeddict(hint) and isinstance(value, dict):
        hints = typing.get_type_hints(hint)
        return {k: _coerce(v, _strip_required(hints.get(k, Any)), f"{where}.{k}")
                for k, v in value.items()}  # fmt: skip
    if dataclasses.is_dataclass(hint) and isinstance(hint, type) and isinstance(value, dict):
        hints = typing.get_type_hints(hint)
        values = {k: _coerce(v, hints.get(k, Any), f"{where}.{k}") for k, v in value.items()}
        try:
            return hint(**values)
        except TypeError as exc:
            raise ToolArgumentError(f"{where}: {exc}") from None
    return value


__all__ = [
    "NAME_PATTERN",
    "ToolArgumentError",
    "ToolSchemaError",
    "coerce_arguments",
    "tool_schema",
]
