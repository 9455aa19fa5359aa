"""A replay in the browser: a session saved in the kernel, shown by ``RealtimeWidget.replay``.

JupyterLab, a real kernel, headless Chromium. The notebook's one cell runs a short stand-in
session, saves it, and displays a replay of the file at 4×. The page must show the recorded rows
in the table, the turn on the timeline and both messages in the transcript, say "replay of
<file>" without the microphone controls, and play the assistant's recorded audio when its
bubble's play button is pressed (``window.__rtnb.views[0].stats().played``).
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import OpenNotebook
from .harness import ARTIFACTS, MicWav, poll

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

FILE = "replay-call.rtnb"
REPLAY_CELL = f"""\
import math
import realtime_nb
from realtime_nb import RealtimeWidget
with realtime_nb.Session(offline=True, server_options={{"audio_speed": math.inf}}) as s:
    s.ask("What is the capital of France?")
    s.save({FILE!r})
w = RealtimeWidget.replay({FILE!r}, speed=4)
w
"""


def covered_seqs(rows: list[dict[str, Any]]) -> set[int]:
    return {seq for r in rows for seq in range(r["seq"], r["last"] + 1)}


def test_a_replay_shows_the_recording_and_plays_an_assistant_item(
    open_notebook: Any, speech_wav: MicWav
) -> None:
    nb: OpenNotebook = open_notebook([REPLAY_CELL], wav=speech_wav, app="lab")
    nb.page.run_cell(0)
    root = nb.page.cell(0).locator("[data-rtnb=root]")
    root.wait_for(timeout=60_000)
    status = root.locator("[data-rtnb=status]")
    poll(lambda: status.inner_text().strip() == f"replay of {FILE}", 30, what="replay status")
    assert status.get_attribute("data-state") == "replay"
    # no session: no microphone, no push-to-talk, no text box, no settings, no Reconnect
    for hook in ("mic-button", "mode", "mute", "text-input", "reconnect"):
        assert not root.locator(f"[data-rtnb={hook}]").is_visible(), hook
    assert root.locator("[data-rtnb=replay]").is_visible()
    assert root.locator("[data-rtnb=replay-speed]").input_value() == "4"

    # the table gets every recorded row, the timeline its turn, the transcript both messages
    seqs = set(nb.kernel.json("[r.seq for r in w.events.rows]"))
    poll(lambda: covered_seqs(nb.page.dom_rows()) == seqs, 30, what="every row in the table")
    turns = nb.kernel.json("len(w.recording.timeline())")
    poll(lambda: root.locator("[data-rtnb=timeline-turn]").count() == turns, 20, what="timeline")
    bubbles = root.locator("[data-rtnb=turn]")
    poll(lambda: bubbles.count() == 2, 20, what="two transcript bubbles")
    assert "France" in bubbles.nth(0).inner_text()
    assert nb.kernel.json("w.stats['replay_done']") is True

    # the typed question has no audio; the answer does, and plays in the page
    assistant = root.locator("[data-rtnb=turn][data-role=assistant]")
    user = root.locator("[data-rtnb=turn][data-role=user]")
    assert user.locator("[data-rtnb=replay-play]").count() == 0
    button = assistant.locator("[data-rtnb=replay-play]")
    poll(lambda: button.count() == 1, 10, what="a play button on the answer")
    item = button.get_attribute("data-item")
    samples = nb.kernel.json(f"int(w.item_audio({item!r}).size)")
    assert samples > 0
    button.click()

    def played() -> dict[str, Any] | None:
        stats = nb.page.rtnb_stats(0) or {}
        return stats if stats.get("played", {}).get(item, 0) > 0 else None

    stats = poll(played, 30, what="the player reports played samples")
    assert stats["received"][item] == samples, (stats["received"], samples)
    kernel_played = poll(
        lambda: nb.kernel.json(f"w.stats['played'].get({item!r}, 0)"),
        20,
        what="the kernel hears about it",
    )
    assert 0 < kernel_played <= samples
    assert nb.kernel.json("w.error") == ""
    ARTIFACTS.mkdir(exist_ok=True)
    root.scroll_into_view_if_needed()
    nb.pw.screenshot(path=str(ARTIFACTS / "replay.png"))
    # the replay changed nothing: the recording's rows are what the file holds
    assert nb.kernel.json(f"len(realtime_nb.load({FILE!r}).events.rows) == len(w.events.rows)")
