"""tool_schema: every supported annotation, each refusal, docstring styles; arguments and outputs.

Each generated ``parameters`` object is checked as a JSON schema (Draft 2020-12) and used to
validate arguments a model could send, so a wrong mapping fails here, not at the server.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from typing import Annotated, Any, Literal, NotRequired, Optional, TypedDict, Union

import jsonschema
import numpy as np
import pytest

from realtime_nb.errors import UsageError
from realtime_nb.tools import (
    MAX_OUTPUT_CHARS,
    ToolArgumentError,
    ToolRegistry,
    ToolSchemaError,
    coerce_arguments,
    error_output,
    to_output,
    tool_schema,
)


def params(fn: Any) -> dict[str, Any]:
    schema = tool_schema(fn)["parameters"]
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def accepts(fn: Any, arguments: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator(params(fn)).is_valid(arguments)


class Units(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Place:
    """A place on the map.

    Args:
        city: City name.
        country: ISO country code.
    """

    city: str
    country: str = "FR"
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Trip:
    start: Place
    stops: list[Place]


class Options(TypedDict):
    """Search options.

    Attributes:
        limit: How many results.
    """

    limit: int
    exact: NotRequired[bool]


class Partial(TypedDict, total=False):
    note: str


# --- the function itself --------------------------------------------------------------------
def test_the_ga_tool_entry_for_a_documented_function() -> None:
    def get_weather(city: str, units: Units = Units.CELSIUS, days: int = 1) -> dict:
        """Get the current weather for a city.

        Uses the offline table.

        Args:
            city: The city, e.g. Paris.
            units: Temperature units.
            days: How many days ahead.
        """
        return {}

    assert tool_schema(get_weather) == {
        "type": "function",
        "name": "get_weather",
        "description": "Get the current weather for a city.\n\nUses the offline table.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Paris."},
                "units": {"type": "string", "enum": ["celsius", "fahrenheit"],
                          "description": "Temperature units.", "default": "celsius"},
                "days": {"type": "integer", "description": "How many days ahead.", "default": 1},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    }  # fmt: skip


def test_name_and_description_can_be_given() -> None:
    def find(city: str) -> None:
        """Find."""

    entry = tool_schema(find, name="lookup", description="Look up.")
    assert (entry["name"], entry["description"]) == ("lookup", "Look up.")


@pytest.mark.parametrize(
    "doc",
    [
        "Find a city.\n\nArgs:\n    city: The city to find.\n",
        "Find a city.\n\nParameters\n----------\ncity : str\n    The city to find.\n",
        "Find a city.\n\n:param city: The city to find.\n",
    ],
    ids=["google", "numpy", "rest"],
)
def test_descriptions_from_each_docstring_style(doc: str) -> None:
    def find(city: str) -> None:
        pass

    find.__doc__ = doc
    entry = tool_schema(find)
    assert entry["description"] == "Find a city."
    assert entry["parameters"]["properties"]["city"]["description"] == "The city to find."


def test_no_docstring_gives_an_empty_description() -> None:
    def ping() -> str:
        return "pong"

    entry = tool_schema(ping)
    assert entry["description"] == ""
    assert entry["parameters"]["properties"] == {} and entry["parameters"]["required"] == []


# --- every supported annotation ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
        (Literal[1, 2], {"type": "integer", "enum": [1, 2]}),
        (Literal["a", 1], {"enum": ["a", 1]}),
        (Units, {"type": "string", "enum": ["celsius", "fahrenheit"]}),
        (Level, {"type": "integer", "enum": [1, 2]}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (list, {"type": "array"}),
        (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
        (dict, {"type": "object"}),
        (Optional[str], {"type": ["string", "null"]}),  # noqa: UP045 - the spelling under test
        (str | None, {"type": ["string", "null"]}),
        (Literal["x", "y"] | None, {"type": ["string", "null"], "enum": ["x", "y", None]}),
        (int | str, {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
        (Union[int, str, None],  # noqa: UP007 - the spelling under test
         {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}),
        (list[str] | None, {"type": ["array", "null"], "items": {"type": "string"}}),
        (Any, {}),
        (Annotated[str, "An ISO date."], {"type": "string", "description": "An ISO date."}),
        (list[Literal["x"]], {"type": "array", "items": {"type": "string", "enum": ["x"]}}),
    ],
)  # fmt: skip
def test_each_supported_annotation(annotation: Any, expected: dict[str, Any]) -> None:
    def f(value):  # type: ignore[no-untyped-def]
        pass

    f.__annotations__ = {"value": annotation}
    assert params(f)["properties"]["value"] == expected


def test_a_dataclass_is_a_nested_object_with_its_docs_and_defaults() -> None:
    def plan(trip: Trip) -> None:
        pass

    place = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name."},
            "country": {"type": "string", "description": "ISO country code."},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["city"],
        "additionalProperties": False,
        "description": "A place on the map.",
    }
    assert params(plan)["properties"]["trip"] == {
        "type": "object",
        "properties": {"start": place, "stops": {"type": "array", "items": place}},
        "required": ["start", "stops"],
        "additionalProperties": False,
    }
    assert accepts(plan, {"trip": {"start": {"city": "Paris"}, "stops": []}})
    assert not accepts(plan, {"trip": {"start": {"country": "FR"}, "stops": []}})


def test_a_typed_dict_keeps_required_and_not_required_keys() -> None:
    def search(options: Options, extra: Partial | None = None) -> None:
        pass

    schema = params(search)["properties"]
    assert schema["options"] == {
        "type": "object",
        "properties": {
            "limit": {"type": "integer", "description": "How many results."},
            "exact": {"type": "boolean"},
        },
        "required": ["limit"],
        "additionalProperties": False,
        "description": "Search options.",
    }
    assert schema["extra"]["properties"] == {"note": {"type": "string"}}
    assert schema["extra"]["required"] == []
    assert accepts(search, {"options": {"limit": 3}, "extra": None})
    assert not accepts(search, {"options": {"limit": "3"}})


def test_defaults_are_not_required_and_shown_when_json_can_carry_them() -> None:
    def f(a: str, b: int = 2, c: list[int] | None = None, d: Place | None = None,
          e: float = float("nan"), g: Units = Units.FAHRENHEIT) -> None:  # fmt: skip
        pass

    schema = params(f)
    assert schema["required"] == ["a"]
    props = schema["properties"]
    assert props["b"]["default"] == 2 and props["c"]["default"] is None
    assert props["g"]["default"] == "fahrenheit"
    assert "default" not in props["e"]  # NaN is not JSON
    assert accepts(f, {"a": "x"}) and not accepts(f, {"b": 1})
    assert not accepts(f, {"a": "x", "surprise": 1})  # additionalProperties: false


# --- refusals, each naming the parameter and what to do ----------------------------------------
class Custom:
    pass


@pytest.mark.parametrize(
    ("annotation", "match"),
    [
        (set[str], r"f\(value\): the type .*set.* is not supported.*Use str, int"),
        (tuple[int, int], r"f\(value\): the type .*tuple"),
        (dict[int, str], r"f\(value\).*JSON object keys are strings"),
        (Custom, r"f\(value\): the type Custom is not supported.*send_function_output"),
        (bytes, r"f\(value\): the type bytes"),
        (list[Custom], r"f\(value\): the type Custom"),
        (Literal[1.5j], r"f\(value\).*is not a JSON scalar"),  # type: ignore[valid-type]
    ],
)
def test_unsupported_annotations_name_the_parameter(annotation: Any, match: str) -> None:
    def f(value):  # type: ignore[no-untyped-def]
        pass

    f.__annotations__ = {"value": annotation}
    with pytest.raises(ToolSchemaError, match=match):
        tool_schema(f)


@dataclasses.dataclass
class Bad:
    when: datetime.datetime


def test_a_nested_field_is_named_in_the_error() -> None:
    def book(slot: Bad) -> None:
        pass

    with pytest.raises(ToolSchemaError, match=r"book\(slot\)\.when: the type datetime"):
        tool_schema(book)


def test_missing_hints_varargs_positional_only_and_bad_names() -> None:
    def no_hint(city, days: int) -> None:  # type: ignore[no-untyped-def]
        pass

    def varargs(*cities: str) -> None:
        pass

    def kwargs(**options: str) -> None:
        pass

    def positional(city: str, /) -> None:
        pass

    with pytest.raises(ToolSchemaError, match=r"no_hint\(city\): .*no type hint.*'city: str'"):
        tool_schema(no_hint)
    with pytest.raises(ToolSchemaError, match=r"varargs\(cities\): \*args and \*\*kwargs"):
        tool_schema(varargs)
    with pytest.raises(ToolSchemaError, match=r"kwargs\(options\)"):
        tool_schema(kwargs)
    with pytest.raises(ToolSchemaError, match=r"positional\(city\): positional-only"):
        tool_schema(positional)
    with pytest.raises(ToolSchemaError, match=r"'<lambda>' cannot be a tool name.*name="):
        tool_schema(lambda: None)
    with pytest.raises(ToolSchemaError, match="cannot be a tool name"):
        tool_schema(positional, name="has space")
    assert issubclass(ToolSchemaError, UsageError)


def test_an_unresolvable_forward_reference_says_what_to_define() -> None:
    def f(x: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(ToolSchemaError, match=r"cannot be resolved.*module level"):
        tool_schema(f)


# --- the model's arguments become the hinted values ----------------------------------------------
def test_coerce_builds_enums_dataclasses_and_numbers() -> None:
    def f(
        units: Units,
        trip: Trip,
        n: int,
        x: float,
        level: Level | None = None,
        options: Options | None = None,
        many: dict[str, Units] | None = None,
    ) -> None:
        pass

    got = coerce_arguments(
        f,
        {"units": "fahrenheit", "n": 3.0, "x": 2, "level": 2, "many": {"a": "celsius"},
         "trip": {"start": {"city": "Paris"}, "stops": [{"city": "Lyon", "tags": ["x"]}]},
         "options": {"limit": 1.0}},
    )  # fmt: skip
    assert got["units"] is Units.FAHRENHEIT and got["level"] is Level.HIGH
    assert got["trip"] == Trip(Place("Paris"), [Place("Lyon", tags=["x"])])
    assert got["n"] == 3 and isinstance(got["n"], int)
    assert got["x"] == 2.0 and isinstance(got["x"], float)
    assert got["options"] == {"limit": 1} and got["many"] == {"a": Units.CELSIUS}


def test_coerce_refuses_what_does_not_fit_with_a_message_for_the_model() -> None:
    def f(city: str, units: Units = Units.CELSIUS, place: Place | None = None) -> None:
        pass

    with pytest.raises(ToolArgumentError, match=r"missing required argument.*city"):
        coerce_arguments(f, {})
    with pytest.raises(ToolArgumentError, match=r"unknown argument.*town.*city, units, place"):
        coerce_arguments(f, {"city": "x", "town": "y"})
    with pytest.raises(ToolArgumentError, match="units: 'kelvin' is not one of 'celsius'"):
        coerce_arguments(f, {"city": "x", "units": "kelvin"})
    with pytest.raises(ToolArgumentError, match="place"):
        coerce_arguments(f, {"city": "x", "place": {"country": "FR"}})


# --- results become bounded JSON text ---------------------------------------------------------
def test_results_are_serialised_safely() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque thing>"

    value = {
        "place": Place("Paris"),
        "n": np.int64(3),
        "x": np.float32(0.5),
        "arr": np.arange(4).reshape(2, 2),
        "when": datetime.datetime(2025, 1, 2, 3, 4, 5),
        "day": datetime.date(2025, 1, 2),
        "span": datetime.timedelta(seconds=90),
        "units": Units.CELSIUS,
        "set": {1},
        "tuple": (1, "a"),
        "raw": b"\x00\x01",
        "nan": float("nan"),
        "other": Opaque(),
        3: "int key",
    }
    assert json.loads(to_output(value)) == {
        "place": {"city": "Paris", "country": "FR", "tags": []},
        "n": 3,
        "x": 0.5,
        "arr": [[0, 1], [2, 3]],
        "when": "2025-01-02T03:04:05",
        "day": "2025-01-02",
        "span": 90.0,
        "units": "celsius",
        "set": [1],
        "tuple": [1, "a"],
        "raw": "<2 bytes>",
        "nan": None,
        "other": "<Opaque thing>",
        "3": "int key",
    }
    assert to_output("plain text") == "plain text"
    assert to_output(None) == "null" and to_output(np.bool_(True)) == "true"


def test_a_long_result_is_cut_by_the_stated_rule() -> None:
    big = ['word "quoted"'] * 5000
    text = to_output(big)
    assert len(text) <= MAX_OUTPUT_CHARS
    cut = json.loads(text)
    assert cut["truncated"] is True
    assert cut["original_chars"] == len(json.dumps(big))
    assert json.dumps(big).startswith(cut["head"]) and len(cut["head"]) > MAX_OUTPUT_CHARS // 2
    assert len(to_output("x" * 500, limit=100)) <= 100
    assert json.loads(error_output("boom")) == {"error": "boom"}
    assert len(error_output("e" * 10**6)) <= MAX_OUTPUT_CHARS


def test_the_registry_merges_hand_declared_tools_and_registered_ones_win() -> None:
    def get_weather(city: str) -> str:
        return city

    registry = ToolRegistry()
    registry.add(get_weather, timeout=2)
    hand = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}},
            {"type": "function", "name": "get_weather", "description": "old"}]  # fmt: skip
    merged = registry.merged(hand)
    assert [t["name"] for t in merged] == ["lookup", "get_weather"]
    assert merged[1] == tool_schema(get_weather)
    assert registry.get("get_weather").timeout == 2  # type: ignore[union-attr]
    with pytest.raises(UsageError, match=r"No tool named 'nope'.*get_weather"):
        registry.remove("nope")
    with pytest.raises(UsageError, match="timeout must be a positive"):
        registry.add(get_weather, timeout=0)
    with pytest.raises(UsageError, match="must be a function"):
        registry.add("get_weather")  # type: ignore[arg-type]
