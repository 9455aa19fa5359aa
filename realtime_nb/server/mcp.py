"""Scripted MCP tools: what the stand-in pretends a remote MCP server offers and answers.

The stand-in reaches no network, so every ``{"type": "mcp", "server_label": …}`` tool a session
or response declares is served from :data:`FAKE_TOOLS`, whatever its ``server_url``. Two things
happen, in the SDK's event shapes (openai-python ``types/realtime``):

- after a ``session.update`` that declares a server not listed yet: an ``mcp_list_tools`` item
  joins the conversation (``conversation.item.added``), ``mcp_list_tools.in_progress``,
  ``mcp_list_tools.completed``, then ``conversation.item.done`` with the tools
  (``allowed_tools`` filters them by name);
- a response calls a tool when the responder's reply asks for it (``Reply.mcp_calls``:
  ``(tool_name, arguments)`` pairs) or, failing that, when the last user text names a tool
  marked ``by_mention`` (``get_time``). The call is an ``mcp_call`` output item whose ``output``
  is the scripted answer (:func:`call_output`).

Failures, so clients can be tried against them:

- a server whose ``server_url`` host ends in ``.invalid`` (a name reserved never to resolve)
  cannot be listed: ``mcp_list_tools.failed`` and an item with no tools;
- the scripted tool ``fail`` raises: ``response.mcp_call.failed`` and the item's ``error`` is a
  ``tool_execution_error`` (its ``output`` stays null).

The event order inside a response follows the Responses API's MCP events (UNCONFIRMED for
Realtime). ``require_approval`` is not honoured: scripted calls never wait for approval. Pure.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..protocol import IdFactory
from .items import ItemStore, StoredItem
from .outbox import Outbox


@dataclass(frozen=True, slots=True)
class FakeTool:
    """One scripted MCP tool: how it is listed and what it answers."""

    name: str
    description: str
    input_schema: dict[str, Any]
    answer: Callable[[dict[str, Any]], str]
    #: Called when the user's text names it (``add`` is too common a word: only by script).
    by_mention: bool = False

    def listed(self) -> dict[str, Any]:
        """The tool as an ``mcp_list_tools`` item lists it (SDK ``RealtimeMcpListTools.Tool``)."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
            "annotations": {"readOnlyHint": True},
        }


def _add(args: dict[str, Any]) -> str:
    return str(float(args.get("a", 0)) + float(args.get("b", 0)))


class ToolExecutionError(Exception):
    """A scripted tool failed; its message becomes the call's ``tool_execution_error``."""


def _fail(args: dict[str, Any]) -> str:
    raise ToolExecutionError(str(args.get("reason") or "The scripted tool 'fail' always fails."))


#: The tools every declared MCP server offers in the stand-in.
FAKE_TOOLS: dict[str, FakeTool] = {
    tool.name: tool
    for tool in (
        FakeTool(
            "get_time",
            "The current time in UTC (the stand-in's clock is fixed).",
            {"type": "object", "properties": {}, "additionalProperties": False},
            lambda args: "2026-12-03T12:00:00Z",
            by_mention=True,
        ),
        FakeTool(
            "add",
            "Add two numbers.",
            {
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"],
            },
            _add,
        ),
        FakeTool(
            "fail",
            "Always fails (to try a client's handling of response.mcp_call.failed).",
            {"type": "object", "properties": {"reason": {"type": "string"}}},
            _fail,
        ),
    )
}


def mcp_servers(tools: list[Any] | None) -> list[dict[str, Any]]:
    """The ``mcp`` entries of a ``tools`` list."""
    return [t for t in tools or () if isinstance(t, dict) and t.get("type") == "mcp"]


def allowed_tools(server: dict[str, Any]) -> list[FakeTool]:
    """The scripted tools ``server`` may use (``allowed_tools``: a name list or a filter)."""
    allowed = server.get("allowed_tools")
    names: list[str] | None = None
    if isinstance(allowed, list):
        names = [str(n) for n in allowed]
    elif isinstance(allowed, dict) and isinstance(allowed.get("tool_names"), list):
        names = [str(n) for n in allowed["tool_names"]]
    return [t for t in FAKE_TOOLS.values() if names is None or t.name in names]


def unreachable(server: dict[str, Any]) -> bool:
    """Whether the stand-in treats ``server`` as one it cannot reach (a ``.invalid`` host)."""
    host = urlsplit(str(server.get("server_url") or "")).hostname or ""
    return host == "invalid" or host.endswith(".invalid")


def list_tools_item(item_id: str, server: dict[str, Any], done: bool) -> dict[str, Any]:
    """The ``mcp_list_tools`` item for ``server`` (empty until the listing is done)."""
    tools = [t.listed() for t in allowed_tools(server)] if done and not unreachable(server) else []
    return {
        "id": item_id,
        "type": "mcp_list_tools",
        "server_label": server["server_label"],
        "tools": tools,
    }


def announce_servers(
    out: Outbox, ids: IdFactory, store: ItemStore, tools: list[Any] | None, listed: set[str]
) -> None:
    """List the tools of each MCP server in ``tools`` not yet in ``listed`` (after a
    ``session.update``): the ``mcp_list_tools`` item joins the conversation."""
    for server in mcp_servers(tools):
        label = str(server["server_label"])
        if label in listed:
            continue
        listed.add(label)
        item_id = ids.item()
        item = list_tools_item(item_id, server, done=False)
        stored = StoredItem(copy.deepcopy(item))
        previous = store.append(stored)
        out.emit("conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item))
        out.emit("mcp_list_tools.in_progress", item_id=item_id)
        stored.item = list_tools_item(item_id, server, done=True)
        failed = unreachable(server)
        out.emit("mcp_list_tools.failed" if failed else "mcp_list_tools.completed", item_id=item_id)
        out.emit(
            "conversation.item.done", previous_item_id=previous, item=copy.deepcopy(stored.item)
        )


def call_output(name: str, arguments: str) -> tuple[str | None, dict[str, Any] | None]:
    """``(output, error)`` of the scripted tool ``name`` called with ``arguments`` (JSON)."""
    tool = FAKE_TOOLS.get(name)
    if tool is None:
        return json.dumps({"error": f"unknown tool {name!r}"}), None
    try:
        args = json.loads(arguments) if arguments else {}
    except ValueError:
        args = {}
    try:
        return tool.answer(args if isinstance(args, dict) else {}), None
    except ToolExecutionError as exc:
        return None, {"type": "tool_execution_error", "message": str(exc)}


def planned_calls(
    tools: list[Any] | None, requested: Any, user_text: str | None
) -> list[tuple[str, str, str]]:
    """``(server_label, tool_name, arguments)`` of the MCP calls a response makes.

    ``requested`` is the reply's ``mcp_calls`` (``(name, arguments)`` pairs, arguments a JSON
    string or a dict); without it, a declared tool whose name appears in ``user_text`` is
    called with ``{}``. Tools no declared server allows are not called.
    """
    servers = [s for s in mcp_servers(tools) if not unreachable(s)]
    if not servers:
        return []

    def server_of(name: str) -> str | None:
        for server in servers:
            if any(t.name == name for t in allowed_tools(server)):
                return str(server["server_label"])
        return None

    calls: list[tuple[str, str, str]] = []
    if requested:
        for name, arguments in requested:
            label = server_of(str(name))
            if label is not None:
                args = arguments if isinstance(arguments, str) else json.dumps(arguments)
                calls.append((label, str(name), args))
        return calls
    text = (user_text or "").lower()
    for name, tool in FAKE_TOOLS.items():
        label = server_of(name)
        if label is not None and tool.by_mention and re.search(rf"\b{name}\b", text):
            calls.append((label, name, "{}"))
    return calls


__all__ = [
    "FAKE_TOOLS",
    "FakeTool",
    "ToolExecutionError",
    "allowed_tools",
    "announce_servers",
    "call_output",
    "list_tools_item",
    "mcp_servers",
    "planned_calls",
    "unreachable",
]
