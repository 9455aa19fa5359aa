"""Turns and tools in the page, in JupyterLab and Notebook 7: a Python tool called and answered
shows in the transcript and the table; clicking a transcript bubble or a timeline turn narrows
the table to that turn's rows; the JSON panel shows an audio delta as it was sent."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from .harness import MicWav, poll
from .test_browser_widget import IMPORTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

TOOL_CELL = (
    IMPORTS
    + '''
def get_weather(city: str) -> dict:
    """The weather in a city.

    Args:
        city: the city's name, e.g. Paris.
    """
    return {"city": city, "sky": "sunny", "temp_c": 21}

replies = [
    Reply(text="Let me look.", function_calls=[("get_weather", {"city": "Paris"})]),
    Reply(text="It is sunny in Paris, 21 degrees."),
    Reply(text="You are welcome."),
]
w = RealtimeWidget(mic_constraints=MIC, tools=[get_weather], turn_detection=None,
                   server_options={"audio_speed": 8.0, "responder": scripted(replies)})
w'''
)


def visible_turns(nb: Any) -> set[int | None]:
    return {r["turn"] for r in nb.page.dom_rows() if not r["hidden"]}


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_a_python_tool_and_turn_filtering(open_notebook: Any, speech_wav: MicWav, app: str) -> None:
    nb = open_notebook([TOOL_CELL], wav=speech_wav, app=app)
    nb.page.run_cell(0)
    root = nb.page.cell(0).locator("[data-rtnb=root]")
    root.wait_for(timeout=60_000)
    poll(
        lambda: root.locator("[data-rtnb=status]").inner_text().strip().lower() == "connected",
        30,
        what="connected",
    )
    answer = nb.kernel.json("w.ask('What is the weather in Paris?').transcript")
    assert "sunny" in answer.lower()
    assert nb.kernel.json("w.ask('Thanks!').status") == "completed"

    # the tool in the transcript: its call, and what it returned
    call = root.locator("[data-rtnb=tool-call]")
    poll(lambda: call.count() == 1, 15, what="the tool bubble")
    assert 'get_weather({"city": "Paris"})' in call.inner_text().replace('":"', '": "')
    assert "sunny" in root.locator("[data-rtnb=tool-result]").inner_text()
    # ... and in the table: the call and its result as rows of turn 1
    poll(
        lambda: any(r["type"] == "local.tool_result" for r in nb.page.dom_rows()),
        15,
        what="tool rows",
    )
    rows = nb.page.dom_rows()
    assert {r["turn"] for r in rows if r["type"].startswith("local.tool")} == {1}
    poll(lambda: visible_turns(nb) >= {1, 2}, 10, what="rows of both turns")

    # a transcript bubble narrows the table to its turn; clicking it again shows every turn
    bubble = root.locator('[data-rtnb=turn][data-role=user][data-turn="2"]')
    bubble.click()
    poll(lambda: visible_turns(nb) == {2}, 10, what="only turn 2's rows")
    chip = root.locator("[data-rtnb=turn-filter]")
    assert chip.is_visible() and "turn 2" in chip.inner_text()
    bubble.click()
    poll(lambda: visible_turns(nb) >= {1, 2}, 10, what="every turn again")

    # a timeline turn does the same
    root.locator('[data-rtnb=timeline-turn][data-turn="1"] .rtnb-tl-head').click()
    poll(lambda: visible_turns(nb) == {1}, 10, what="only turn 1's rows")
    root.locator("[data-rtnb=turn-filter] button").click()
    poll(lambda: len(visible_turns(nb)) >= 2, 10, what="the filter cleared")

    # an audio delta's JSON: the marker is explained, and "show as sent" gives the base64
    delta = next(r for r in nb.page.dom_rows() if r["type"] == "response.output_audio.delta")
    root.locator(f'[data-rtnb=row][data-seq="{delta["seq"]}"]').click()
    note = root.locator("[data-rtnb=json-note]")
    poll(lambda: note.is_visible(), 10, what="the marker note")
    assert "replaced here by a marker" in note.inner_text()
    root.locator("[data-rtnb=json-original]").click()
    pre = root.locator("[data-rtnb=json] pre")
    poll(lambda: '"delta": "' in pre.inner_text(), 10, what="the event as sent")
    sent = json.loads(pre.inner_text())
    assert len(base64.b64decode(sent["delta"])) == nb.kernel.json(
        f"next(r.audio_bytes for r in w.events if r.seq == {delta['seq']})"
    )
