"""Tools from Python callables: schema from type hints and docstrings, calls answered in order.

``tool_schema(fn)`` is the ``session.tools`` entry for a function; a session's registry
(``RealtimeSession(tools=[...])``, ``@s.tool``, ``s.add_tool``) tells the server about them and
its :class:`~realtime_nb.tools.runner.ToolRunner` runs the model's calls: every output of a
response, then one ``response.create``, never while a response is active. See ``docs/tools.md``.
"""

from .output import MAX_OUTPUT_CHARS, error_output, to_output
from .registry import DEFAULT_TOOL_TIMEOUT, Tool, ToolCall, ToolRegistry
from .runner import MAX_TOOL_ROUNDS, ToolCallRecord, ToolRunner
from .schema import ToolArgumentError, ToolSchemaError, coerce_arguments, tool_schema

__all__ = [
    "DEFAULT_TOOL_TIMEOUT",
    "MAX_OUTPUT_CHARS",
    "MAX_TOOL_ROUNDS",
    "Tool",
    "ToolArgumentError",
    "ToolCall",
    "ToolCallRecord",
    "ToolRegistry",
    "ToolRunner",
    "ToolSchemaError",
    "coerce_arguments",
    "error_output",
    "to_output",
    "tool_schema",
]
