"""The session's named tools: callables with their schema and timeout, and a call to approve.

Why its own module: registering is state (what the server must be told) separate from running
calls (:mod:`realtime_nb.tools.runner`). The registry also merges its tools with the ones a user
declared by hand in ``session.update``: both reach the server, and on a name clash the
registered callable wins (it is the one that will answer).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from .schema import tool_schema

#: Seconds a tool call may run before the model is told it timed out.
DEFAULT_TOOL_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for, as ``approve(call)`` sees it.

    ``arguments`` is the parsed JSON object (empty when it did not parse); ``call_id`` is the
    id the output answers; ``response_id`` is the response that made the call.
    """

    name: str
    arguments: dict[str, Any]
    call_id: str
    response_id: str | None = None


@dataclass(slots=True)
class Tool:
    """A registered callable: ``schema`` is what the server is told, ``timeout`` per call."""

    name: str
    fn: Callable[..., Any]
    schema: dict[str, Any]
    timeout: float | None
    is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        self.is_async = inspect.iscoroutinefunction(self.fn) or inspect.iscoroutinefunction(
            getattr(self.fn, "__call__", None)  # noqa: B004 - an object with an async __call__
        )


class ToolRegistry:
    """Tools by name, in registration order."""

    def __init__(self, default_timeout: float | None = DEFAULT_TOOL_TIMEOUT) -> None:
        _check_timeout(default_timeout, "tool_timeout")
        self.default_timeout = default_timeout
        self._tools: dict[str, Tool] = {}

    def add(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        timeout: float | None = None,
        description: str | None = None,
    ) -> Tool:
        """Register ``fn`` (replacing a tool of the same name); returns the :class:`Tool`.

        Raises :class:`~realtime_nb.tools.ToolSchemaError` when ``fn`` cannot be described.
        """
        if not callable(fn):
            raise UsageError(f"A tool must be a function (or other callable), not {fn!r}.")
        _check_timeout(timeout, "timeout")
        schema = tool_schema(fn, name=name, description=description)
        tool = Tool(
            schema["name"], fn, schema, self.default_timeout if timeout is None else timeout
        )
        self._tools[tool.name] = tool
        return tool

    def remove(self, name: str) -> Tool:
        """Unregister the tool ``name``; raises :class:`UsageError` when there is none."""
        tool = self._tools.pop(name, None)
        if tool is None:
            known = ", ".join(self._tools) or "none"
            raise UsageError(f"No tool named {name!r} is registered (registered: {known}).")
        return tool

    def get(self, name: object) -> Tool | None:
        return self._tools.get(name) if isinstance(name, str) else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        return [tool.schema for tool in self._tools.values()]

    def merged(self, declared: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """``declared`` (tools set by hand) plus the registered ones; registered win by name."""
        mine = self.schemas()
        kept = [
            t for t in declared or () if not (isinstance(t, dict) and t.get("name") in self._tools)
        ]
        return [*kept, *mine]


def _check_timeout(value: float | None, what: str) -> None:
    if value is not None and (isinstance(value, bool) or not value > 0):
        raise UsageError(f"{what} must be a positive number of seconds or None, not {value!r}.")


__all__ = ["DEFAULT_TOOL_TIMEOUT", "Tool", "ToolCall", "ToolRegistry"]
