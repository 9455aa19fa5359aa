"""Tools from Python callables against the real stand-in: registration, sequencing, failures.

The sequencing rule under test (docs/tools.md): every ``function_call_output`` of a response,
then exactly one ``response.create``, never while a response is active.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time

import pytest

from realtime_nb import audio
from realtime_nb.client_protocol import transcript_entries
from realtime_nb.errors import ConnectionClosed
from realtime_nb.server import LocalServer, Reply, ResponderContext, echo, scripted
from realtime_nb.server.brain import Brain
from realtime_nb.session import RealtimeSession
from realtime_nb.sync import Session
from realtime_nb.synth import utterance
from realtime_nb.tools import ToolCall

FAST = math.inf
TEXT = {"output_modalities": ["text"]}
#: Slack for a loaded 2-core machine on top of a stated bound.
SLACK = 1.5


def get_weather(city: str, units: str = "celsius") -> dict:
    """Get the current weather for a city.

    Args:
        city: The city, e.g. Paris.
        units: celsius or fahrenheit.
    """
    return {"city": city, "temp_c": 21, "units": units}


def calls(*pairs: tuple[str, dict | str]) -> Reply:
    return Reply(function_calls=[(n, a if isinstance(a, str) else json.dumps(a)) for n, a in pairs])


def rows(s: RealtimeSession, *types: str) -> list:
    return [r for r in s.events.rows if r.type in types]


def client_after(s: RealtimeSession, seq: int) -> list[str]:
    return [r.type for r in s.events.rows if r.direction == "client" and r.seq > seq]


def done_seq(s: RealtimeSession, response_id: str) -> int:
    return next(
        r.seq for r in s.events.rows
        if r.type == "response.done" and r.payload["response"]["id"] == response_id
    )  # fmt: skip


def no_errors(s: RealtimeSession) -> None:
    assert [r.payload for r in s.events.rows if r.type == "error"] == []


def our_tasks() -> list[asyncio.Task]:
    return [
        t for t in asyncio.all_tasks() if t.get_name().startswith("realtime-nb-") and not t.done()
    ]


# --- registration --------------------------------------------------------------------------
async def test_registered_tools_are_in_the_first_update_merged_with_hand_declared_ones() -> None:
    hand = {"type": "function", "name": "lookup", "description": "by hand",
            "parameters": {"type": "object", "properties": {}}}  # fmt: skip
    async with (
        LocalServer(audio_speed=FAST, responder="echo") as srv,
        RealtimeSession(srv.url, session={"tools": [hand]}, tools=[get_weather]) as s,
    ):
        updates = [r.payload for r in s.events.rows if r.type == "session.update"]
        assert len(updates) == 1
        assert [t["name"] for t in updates[0]["session"]["tools"]] == ["lookup", "get_weather"]
        assert [t["name"] for t in s.session_config["tools"]] == ["lookup", "get_weather"]

        @s.tool(name="add", timeout=1.0)
        def add_numbers(a: int, b: int) -> int:
            """Add two numbers."""
            return a + b

        @s.tool
        async def ping() -> str:
            return "pong"

        assert add_numbers(2, 3) == 5  # the decorator returns the function as it was
        await s.tools_ready()
        names = [t["name"] for t in s.session_config["tools"]]
        assert names == ["lookup", "get_weather", "add", "ping"]
        assert s.tools.get("add").timeout == 1.0 and s.tools.get("ping").is_async
        s.remove_tool("get_weather")
        await s.tools_ready()
        assert [t["name"] for t in s.session_config["tools"]] == ["lookup", "add", "ping"]
        # a hand-made update of the tools keeps the registered ones
        other = {**hand, "name": "other"}
        await s.update_session(tools=[other])
        assert [t["name"] for t in s.session_config["tools"]] == ["other", "add", "ping"]
        assert s.requested_config["tools"] == s.session_config["tools"]  # what a reconnect replays
        no_errors(s)


# --- sequencing ----------------------------------------------------------------------------
async def test_two_calls_give_two_outputs_then_one_response_create() -> None:
    reply = calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"}))
    async with (
        LocalServer(audio_speed=FAST, responder=scripted([reply, "Paris 21, Rome 21."])) as srv,
        RealtimeSession(srv.url, tools=[get_weather]) as s,
    ):
        r = await s.ask("Weather in Paris and Rome?", **TEXT)
        assert r.text == "Paris 21, Rome 21." and r.ok
        first = next(x for x in s.conversation.responses.values() if x.id != r.id)
        after = client_after(s, done_seq(s, first.id))
        assert after == ["conversation.item.create", "conversation.item.create", "response.create"]
        create = [x for x in rows(s, "response.create")][-1].payload
        assert create["response"]["output_modalities"] == ["text"]  # inherited from the ask
        items = s.conversation.items
        assert [i.type for i in items] == ["message", "function_call", "function_call",
                                           "function_call_output", "function_call_output",
                                           "message"]  # fmt: skip
        call_ids = [i.call_id for i in items if i.type == "function_call"]
        outputs = {
            i.call_id: json.loads(i.output) for i in items if i.type == "function_call_output"
        }
        assert outputs == {
            call_ids[0]: {"city": "Paris", "temp_c": 21, "units": "celsius"},
            call_ids[1]: {"city": "Rome", "temp_c": 21, "units": "celsius"},
        }
        assert [json.loads(i.arguments) for i in items if i.type == "function_call"] == [
            {"city": "Paris"}, {"city": "Rome"}]  # fmt: skip
        started, finished = rows(s, "local.tool_call"), rows(s, "local.tool_result")
        assert [x.payload["call_id"] for x in started] == call_ids
        assert {x.payload["status"] for x in finished} == {"ok"}
        assert all(x.payload["duration_ms"] >= 0 for x in finished)
        assert all(x.response_id == first.id for x in started + finished)
        assert [c.status for c in s.tool_calls] == ["ok", "ok"]
        assert rows(s, "local.tool_round")[0].payload["follow_up"] == r.id
        # the widget's transcript shows each call with its output
        entries = transcript_entries(s.conversation)
        assert [e["role"] for e in entries] == ["user", "tool", "tool", "assistant"]
        assert entries[1]["text"] == (
            'get_weather({"city": "Paris"}) → {"city": "Paris", "temp_c": 21, "units": "celsius"}'
        )
        assert entries[1]["call_id"] == call_ids[0] and entries[1]["status"] == "completed"
        no_errors(s)


async def test_a_round_waits_for_the_active_response_before_its_response_create() -> None:
    release = asyncio.Event()

    async def slow_weather(city: str) -> str:
        await release.wait()
        return f"sunny in {city}"

    script = [calls(("slow_weather", {"city": "Paris"})), Reply(text="A long answer. " * 6),
              "It is sunny."]  # fmt: skip
    async with (
        LocalServer(audio_speed=1.0, responder=scripted(script)) as srv,
        RealtimeSession(srv.url, tools=[slow_weather]) as s,
    ):
        asking = asyncio.create_task(s.ask("Weather?", timeout=60))
        await s.wait_for("response.done", timeout=10)
        other = await s.create_response()  # a response by hand, audio paced in real time
        await s.wait_for("response.output_audio.delta", timeout=10)
        release.set()  # the tool answers while that response is still streaming
        r = await asking
        assert r.transcript == "It is sunny."
        other_done = done_seq(s, other)
        creates = [x.seq for x in rows(s, "response.create")]
        outputs = [x.seq for x in rows(s, "conversation.item.create")
                   if x.payload["item"]["type"] == "function_call_output"]  # fmt: skip
        assert len(creates) == 3 and len(outputs) == 1
        assert outputs[0] < creates[2]
        assert creates[2] > other_done  # never while a response is active
        no_errors(s)


async def test_a_tool_that_raises_returns_an_error_output_and_a_row() -> None:
    def get_weather(city: str) -> str:
        raise ValueError(f"no station in {city}")

    def model(ctx: ResponderContext) -> Reply:  # calls the tool, then echoes its output
        if ctx.last_item and ctx.last_item["type"] == "function_call_output":
            return echo(ctx)
        return calls(("get_weather", {"city": "Atlantis"}))

    async with (
        LocalServer(audio_speed=FAST, responder=model) as srv,
        RealtimeSession(srv.url, tools=[get_weather]) as s,
    ):
        r = await s.ask("Weather in Atlantis?", **TEXT, timeout=30)
        output = s.conversation.items[-2].output
        assert json.loads(output) == {
            "error": "get_weather raised ValueError: no station in Atlantis"
        }
        assert r.text == f"Tool get_weather returned: {output}"  # the echo follow-up
        (error,) = rows(s, "local.tool_error")
        assert error.payload["kind"] == "error" and "no station" in error.payload["error"]
        assert rows(s, "local.tool_result")[0].payload["status"] == "error"


async def test_bad_json_arguments_and_unknown_parameters_are_told_to_the_model() -> None:
    script = [calls(("get_weather", "{not json"), ("get_weather", {"town": "Paris"})), "ok"]
    async with (
        LocalServer(audio_speed=FAST, responder=scripted(script)) as srv,
        RealtimeSession(srv.url, tools=[get_weather]) as s,
    ):
        await s.ask("?", **TEXT)
        outputs = [json.loads(i.output)["error"] for i in s.conversation.items
                   if i.type == "function_call_output"]  # fmt: skip
        assert outputs[0].startswith("the arguments are not valid JSON")
        assert outputs[1].startswith("get_weather: unknown argument(s) town")
        assert [x.payload["kind"] for x in rows(s, "local.tool_error")] == ["bad_arguments"] * 2


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_tool_past_its_timeout_is_an_error_output(kind: str) -> None:
    stop = threading.Event()

    async def slow_async(city: str) -> str:
        await asyncio.sleep(30)
        return "late"

    def slow_sync(city: str) -> str:
        stop.wait(30)
        return "late"

    fn = slow_async if kind == "async" else slow_sync
    script = [calls((fn.__name__, {"city": "Paris"})), "ok"]
    async with (
        LocalServer(audio_speed=FAST, responder=scripted(script)) as srv,
        RealtimeSession(srv.url, tools=[fn], tool_timeout=0.3) as s,
    ):
        t0 = time.monotonic()
        r = await s.ask("?", **TEXT, timeout=20)
        assert r.text == "ok" and time.monotonic() - t0 < 0.3 + 5
        output = next(i.output for i in s.conversation.items if i.type == "function_call_output")
        assert json.loads(output) == {"error": f"{fn.__name__} did not finish within 0.3 s"}
        assert rows(s, "local.tool_error")[0].payload["kind"] == "timeout"
        assert s.tool_calls[0].status == "timeout" and s.tool_calls[0].duration_ms >= 300
    stop.set()


async def test_approval_denied_returns_a_declined_output_and_does_not_run() -> None:
    ran: list[str] = []
    seen: list[ToolCall] = []

    def get_weather(city: str) -> str:
        ran.append(city)
        return "sunny"

    def approve(call: ToolCall) -> bool:
        seen.append(call)
        return call.arguments.get("city") != "Paris"

    script = [calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})), "ok"]
    async with (
        LocalServer(audio_speed=FAST, responder=scripted(script)) as srv,
        RealtimeSession(srv.url, tools=[get_weather], approve=approve) as s,
    ):
        await s.ask("?", **TEXT)
        assert ran == ["Rome"]
        assert [(c.name, c.arguments) for c in seen] == [
            ("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]  # fmt: skip
        assert seen[0].call_id.startswith("call_") and seen[0].response_id
        outputs = [i.output for i in s.conversation.items if i.type == "function_call_output"]
        assert json.loads(outputs[0])["error"].startswith("the user declined this call")
        assert outputs[1] == "sunny"
        assert [c.status for c in s.tool_calls] == ["declined", "ok"]


async def test_close_during_a_slow_tool_returns_promptly_and_leaves_no_task() -> None:
    started = asyncio.Event()
    stop = threading.Event()

    async def slow_async(city: str) -> str:
        started.set()
        await asyncio.sleep(60)
        return "late"

    def slow_sync(city: str) -> str:
        stop.wait(60)
        return "late"

    script = [calls(("slow_async", {"city": "x"}), ("slow_sync", {"city": "y"}))]
    async with LocalServer(audio_speed=FAST, responder=scripted(script)) as srv:
        s = RealtimeSession(srv.url, tools=[slow_async, slow_sync], tool_timeout=120)
        await s.connect()
        asking = asyncio.create_task(s.ask("?", **TEXT, timeout=120))
        await asyncio.wait_for(started.wait(), 10)
        t0 = time.monotonic()
        await s.close()
        assert time.monotonic() - t0 < s.close_timeout * SLACK
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(asking, 5)
        assert our_tasks() == []
        assert {c.status for c in s.tool_calls} == {"cancelled"}
    stop.set()


# --- calls that are not ours -------------------------------------------------------------------
async def test_calls_for_unknown_tools_are_left_to_the_user() -> None:
    hand = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    script = [calls(("lookup", {"q": "x"})), calls(("get_weather", {"city": "Paris"}),
              ("lookup", {"q": "y"})), "done"]  # fmt: skip
    async with (
        LocalServer(audio_speed=FAST, responder=scripted(script)) as srv,
        RealtimeSession(srv.url, session={"tools": [hand]}, tools=[get_weather]) as s,
    ):
        r1 = await s.ask("?", **TEXT)  # only an unknown call: returned as it was
        assert [c["name"] for c in r1.function_calls] == ["lookup"]
        assert rows(s, "local.tool_call") == []
        await s.send_function_output(r1.function_calls[0]["call_id"], {"hits": 0})
        r2 = await s.ask(None, **TEXT)  # a registered call plus an unknown one
        assert [c["name"] for c in r2.function_calls] == ["get_weather", "lookup"]
        await asyncio.sleep(0.2)  # let the round finish (it sends no response.create)
        (round_row,) = rows(s, "local.tool_round")
        assert "not registered (lookup)" in round_row.payload["no_follow_up"]
        assert client_after(s, done_seq(s, r2.id)) == ["conversation.item.create"]
        await s.send_function_output(r2.function_calls[1]["call_id"], {"hits": 1})
        assert (await s.ask(None, **TEXT)).text == "done"
        no_errors(s)


async def test_out_of_band_responses_and_the_round_cap() -> None:
    async with (
        LocalServer(audio_speed=FAST, responder=scripted(
            [calls(("get_weather", {"city": "Paris"}))], cycle=True)) as srv,
        RealtimeSession(srv.url, tools=[get_weather], max_tool_rounds=2) as s,
    ):  # fmt: skip
        oob = await s.ask("?", conversation="none", **TEXT)
        assert oob.function_calls and rows(s, "local.tool_call") == []
        r = await s.ask("?", **TEXT)  # the model calls the tool every time: stops after 2 rounds
        assert r.function_calls and len(s.tool_calls) == 3
        last = rows(s, "local.tool_round")[-1].payload
        assert last["depth"] == 3 and "2 chained tool rounds" in last["no_follow_up"]
        assert len(rows(s, "response.create")) == 1 + 1 + 2


# --- ask and send_audio take turns ---------------------------------------------------------------
async def test_concurrent_asks_in_the_conversation_queue_instead_of_failing() -> None:
    async with (
        LocalServer(audio_speed=2.0, responder=scripted(["First answer here.", "Second."])) as srv,
        RealtimeSession(srv.url) as s,
    ):
        a, b = await asyncio.gather(s.ask("one", timeout=30), s.ask("two", timeout=30))
        assert (a.transcript, b.transcript) == ("First answer here.", "Second.")
        creates = [x.seq for x in rows(s, "response.create")]
        assert creates[1] > done_seq(s, a.id)
        user_items = [
            r.payload["item"]["content"][0]["text"] for r in rows(s, "conversation.item.create")
        ]
        assert user_items == ["one", "two"]
        no_errors(s)


async def test_send_audio_waits_for_a_running_ask_unless_told_to_interrupt() -> None:
    speech = utterance(speech_s=0.8, lead_silence_s=0.2, tail_silence_s=0.8, seed=1)
    long = Reply(text="This answer takes a while to say. " * 3)
    async with (
        LocalServer(audio_speed=1.5, responder=scripted([long, "heard you", long, "x"])) as srv,
        RealtimeSession(srv.url) as s,  # server VAD on: audio would barge in
    ):
        asking = asyncio.create_task(s.ask("talk", timeout=60))
        await s.wait_for("response.output_audio.delta", timeout=10)
        await s.send_audio(speech, audio.SAMPLE_RATE, timeout=60)
        r = await asking
        assert r.status == "completed"  # not cut off by the audio
        first_append = next(x.seq for x in rows(s, "input_audio_buffer.append"))
        assert first_append > done_seq(s, r.id)
        await s.wait_for("response.done", lambda e: e["response"]["id"] != r.id, timeout=20)
        # interrupt=True speaks over the answer on purpose
        asking = asyncio.create_task(s.ask("talk again", timeout=60))
        await s.wait_for("response.output_audio.delta", timeout=10, after=s.events.last_seq)
        await s.send_audio(speech, audio.SAMPLE_RATE, interrupt=True, timeout=60)
        r2 = await asking
        assert r2.status == "cancelled" and r2.status_details["reason"] == "turn_detected"


# --- the offline Brain calls a tool it heard ---------------------------------------------------
async def test_the_brain_calls_a_registered_tool_and_speaks_its_result() -> None:
    brain = Brain(transcriber=lambda _audio: "", voice=False)
    async with (
        LocalServer(audio_speed=FAST, responder=brain) as srv,
        RealtimeSession(srv.url, tools=[get_weather]) as s,
    ):
        r = await s.ask("What is the weather in Paris?", **TEXT)
        assert r.text == "get weather says: city Paris, temp_c 21, units celsius."
        (call,) = s.tool_calls
        assert json.loads(call.arguments)["city"] == "Paris" and call.status == "ok"


# --- the blocking facade ---------------------------------------------------------------------
def test_sync_session_tools_and_decorator() -> None:
    script = [calls(("get_weather", {"city": "Oslo"})), "Cold in Oslo.",
              calls(("shout", {"text": "hi"})), "HI"]  # fmt: skip
    with (
        LocalServer(audio_speed=FAST, responder=scripted(script)) as srv,
        Session(srv.url, tools=[get_weather], tool_timeout=5) as s,
    ):
        assert s.ask("Weather in Oslo?", output_modalities=["text"]).text == "Cold in Oslo."

        @s.tool
        def shout(text: str) -> str:
            """Shout the text."""
            return text.upper()

        assert [t["name"] for t in s.session_config["tools"]] == ["get_weather", "shout"]
        assert s.ask("Shout hi", output_modalities=["text"]).text == "HI"
        assert [(c.name, c.output) for c in s.tool_calls] == [
            ("get_weather", json.dumps({"city": "Oslo", "temp_c": 21, "units": "celsius"})),
            ("shout", "HI"),
        ]
        s.remove_tool("shout")
        assert [t["name"] for t in s.session_config["tools"]] == ["get_weather"]
