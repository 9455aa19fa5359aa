"""Scripted MCP tools in the stand-in (realtime_nb/server/mcp.py), in the SDK's event shapes.

Every event the :class:`Harness` sees is validated against ``openai.types.realtime`` with no
unknown fields, so these tests also pin the ``mcp_list_tools`` and ``mcp_call`` shapes.
"""

from __future__ import annotations

from typing import Any

from realtime_nb.conversation import Conversation
from realtime_nb.server import Reply, scripted
from tests.test_server_state import Harness, types

MCP = {
    "type": "mcp",
    "server_label": "clock",
    "server_url": "https://mcp.example.com/mcp",
    "require_approval": "never",
}


def _ask(h: Harness, text: str) -> list[dict[str, Any]]:
    h.send(
        type="conversation.item.create",
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
    )
    return h.send(type="response.create", response={"output_modalities": ["text"]})


def test_session_update_lists_the_scripted_tools_once() -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2")
    out = h.send(type="session.update", session={"type": "realtime", "tools": [MCP]})
    assert types(out) == [
        "session.updated",
        "conversation.item.added",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "conversation.item.done",
    ]
    item = out[-1]["item"]
    assert item["type"] == "mcp_list_tools" and item["server_label"] == "clock"
    assert {t["name"] for t in item["tools"]} == {"get_time", "add", "fail"}
    again = h.send(type="session.update", session={"type": "realtime", "tools": [MCP]})
    assert types(again) == ["session.updated"]


def test_allowed_tools_filters_the_listing() -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2")
    tool = {**MCP, "allowed_tools": ["get_time"]}
    out = h.send(type="session.update", session={"type": "realtime", "tools": [tool]})
    assert [t["name"] for t in out[-1]["item"]["tools"]] == ["get_time"]


def test_mentioning_a_tool_makes_an_mcp_call_before_the_answer() -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2", responder=scripted(["It is noon."]))
    h.send(type="session.update", session={"type": "realtime", "tools": [MCP]})
    out = _ask(h, "Use get_time please")
    mcp_types = [t for t in types(out) if "mcp" in t]
    assert mcp_types == [
        "response.mcp_call.in_progress",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.completed",
    ]
    done = next(e for e in out if e["type"] == "response.done")["response"]
    call, message = done["output"]
    assert call["type"] == "mcp_call" and call["name"] == "get_time"
    assert call["server_label"] == "clock" and call["output"] == "2026-12-03T12:00:00Z"
    assert message["content"][0]["text"] == "It is noon."
    stored = next(i for i in h.st.conversation if i["id"] == call["id"])
    assert stored == call


def test_reply_mcp_calls_script_the_call_and_its_arguments() -> None:
    reply = Reply(text="Five.", mcp_calls=[("add", {"a": 2, "b": 3})])
    h = Harness("/v1/realtime?model=gpt-realtime-1.5", responder=scripted([reply]))
    h.send(type="session.update", session={"type": "realtime", "tools": [MCP]})
    out = _ask(h, "two plus three")
    args_done = next(e for e in out if e["type"] == "response.mcp_call_arguments.done")
    assert args_done["arguments"] == '{"a": 2, "b": 3}'
    done = next(e for e in out if e["type"] == "response.done")["response"]
    assert done["output"][0]["output"] == "5.0"


def test_no_call_without_a_declared_server() -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2", responder=scripted(["No tools."]))
    out = _ask(h, "Use get_time please")
    assert not [t for t in types(out) if "mcp" in t]


def test_client_conversation_takes_the_mcp_events_without_crashing() -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2", responder=scripted(["It is noon."]))
    events = list(h.created)
    events += h.send(type="session.update", session={"type": "realtime", "tools": [MCP]})
    events += _ask(h, "get_time")
    conv = Conversation()
    for event in events:
        conv.apply(event)
    kinds = [i.type for i in conv.items]
    assert "mcp_list_tools" in kinds and "mcp_call" in kinds


def test_an_unreachable_server_fails_its_listing_and_is_never_called() -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2")
    down = {**MCP, "server_label": "down", "server_url": "https://mcp.example.invalid/"}
    out = h.send(type="session.update", session={"type": "realtime", "tools": [down]})
    assert types(out)[2:4] == ["mcp_list_tools.in_progress", "mcp_list_tools.failed"]
    assert out[-1]["item"]["tools"] == []
    assert "mcp_call" not in {e.get("item", {}).get("type") for e in _ask(h, "get_time please")}


def test_a_failing_tool_sends_mcp_call_failed_with_its_error() -> None:
    h = Harness(
        "/v1/realtime?model=gpt-realtime-2",
        responder=scripted([Reply(text="Trying.", mcp_calls=[("fail", {"reason": "disk full"})])]),
    )
    h.send(type="session.update", session={"type": "realtime", "tools": [MCP]})
    out = _ask(h, "try it")
    assert "response.mcp_call.failed" in types(out)
    assert "response.mcp_call.completed" not in types(out)
    done = next(e for e in out if e["type"] == "response.done")["response"]
    call = next(o for o in done["output"] if o["type"] == "mcp_call")
    assert call["output"] is None
    assert call["error"] == {"type": "tool_execution_error", "message": "disk full"}
    assert done["status"] == "completed"
