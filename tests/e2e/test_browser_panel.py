"""The settings panel, the turn timeline and recovery, end to end in JupyterLab (headless
Chromium, fake mic, the stand-in). What the page shows is read from the ``data-rtnb`` hooks; what
went on the wire from ``w.events`` in the notebook's kernel."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from .harness import ARTIFACTS, KernelProbe, MicWav, poll
from .test_browser_widget import LONG_REPLY, page_stats, show_widget, start_mic, widget_cell

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
DOCS = Path(__file__).resolve().parents[2] / "docs"
#: The timeline screenshot goes to artifacts/; with RTNB_UPDATE_DOCS=1 it replaces the one in docs/.
SHOTS = DOCS if os.environ.get("RTNB_UPDATE_DOCS") == "1" else ARTIFACTS


def status(root: Any) -> str:
    return root.locator("[data-rtnb=status]").inner_text().strip().lower()


def test_a_settings_change_sends_the_right_session_update(
    open_notebook: Any, speech_wav: MicWav
) -> None:
    nb = open_notebook([widget_cell()], wav=speech_wav)
    root = show_widget(nb)
    root.locator("[data-rtnb=settings] > summary").click()
    silence = root.locator("[data-rtnb=settings-silence_duration_ms]")
    assert silence.input_value() == "600"  # the widget's default, read back from the session
    mark = nb.kernel.json("w.events.last_seq")
    # out of range: said next to the field, nothing sent
    silence.fill("20000")
    root.locator("[data-rtnb=settings-apply]").click()
    error = root.locator('[data-rtnb=settings-error][data-field="silence_duration_ms"]')
    poll(lambda: "0 to 10000" in error.inner_text(), 10, what="the field's error")
    silence.fill("900")
    root.locator("[data-rtnb=settings-transcription]").uncheck()
    root.locator("[data-rtnb=settings-copy]").click()
    code = root.locator("[data-rtnb=settings-code]").inner_text()
    assert "w.update_session(" in code and '"silence_duration_ms": 900' in code, code
    root.locator("[data-rtnb=settings-apply]").click()
    sent = poll(
        lambda: nb.kernel.json(
            f"[r.payload['session'] for r in w.events.since({mark})"
            " if r.direction == 'client' and r.type == 'session.update']"
        ),
        10,
        what="session.update from the panel",
    )
    assert len(sent) == 1, sent
    assert sent[0]["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 900
    assert sent[0]["audio"]["input"]["transcription"] is None
    poll(lambda: error.is_hidden(), 10, what="the error cleared")
    # a change from Python shows in the panel
    nb.kernel.run("w.update_session(instructions='Answer briefly.')")
    poll(
        lambda: (
            root.locator("[data-rtnb=settings-instructions]").input_value() == "Answer briefly."
        ),
        10,
        what="the panel following session.updated",
    )


def test_timeline_shows_lanes_and_the_cut_after_a_barge_in(
    open_notebook: Any, barge_in_wav: MicWav
) -> None:
    responder = f"scripted([Reply(text={LONG_REPLY!r}), Reply(text='Sure.')], cycle=True)"
    nb = open_notebook(
        [widget_cell(server_options=f'{{"audio_speed": 1.0, "responder": {responder}}}')],
        wav=barge_in_wav,
    )
    root = show_widget(nb)
    start_mic(root)
    cut = root.locator("[data-rtnb=timeline-mark][data-kind=truncated]")
    poll(lambda: cut.count() >= 1, barge_in_wav.duration_s + 20, what="a truncation mark")
    first = root.locator("[data-rtnb=timeline-turn]").first
    lanes = first.locator("[data-rtnb=timeline-lane]")
    assert {lanes.nth(i).get_attribute("data-lane") for i in range(lanes.count())} >= {
        "you",
        "model",
        "audio",
    }
    assert first.get_attribute("data-interrupted") == "true"
    assert first.locator("[data-rtnb=timeline-span][data-kind=played]").count() >= 1
    assert first.locator("[data-rtnb=timeline-span][data-kind=speech]").count() >= 1
    # the kernel's turns and the page agree on what was cut
    turns = nb.kernel.json(
        "[t.to_dict() for t in __import__('realtime_nb.timeline', fromlist=['x'])"
        ".build_turns(w.events.rows)]"
    )
    assert any(r.get("truncated_at_ms") for r in turns[0]["responses"]), turns[0]
    time.sleep(1.0)
    SHOTS.mkdir(exist_ok=True)
    root.screenshot(path=str(SHOTS / "widget-timeline.png"))
    # clicking a turn asks the table to show only that turn (TableView.setTurnFilter)
    first.locator(".rtnb-tl-head").click()
    poll(
        lambda: "rtnb-tl-selected" in (first.get_attribute("class") or ""),
        5,
        what="the turn selected",
    )
    assert page_stats(nb)["turn_filter"] == 1


def test_closed_session_reconnect_and_kernel_restart_shown(
    open_notebook: Any, speech_wav: MicWav
) -> None:
    nb = open_notebook([widget_cell()], wav=speech_wav)
    root = show_widget(nb)
    nb.kernel.run("w.session.loop.run(w.session.async_session.close(), timeout=10)")
    poll(lambda: status(root) == "closed", 10, what="status closed")
    button = root.locator("[data-rtnb=reconnect]")
    assert button.is_visible()
    button.click()
    poll(lambda: status(root) == "connected", 20, what="connected again")
    assert nb.kernel.json("len(w.previous_sessions)") == 1
    assert nb.kernel.json("w.ask('back?').status") == "completed"

    kid = nb.server.kernel_id_for(nb.path)
    nb.kernel.close()
    nb.server.restart_kernel(kid)
    # the comm closed (widget manager) or no pong for 15 s: never "connected" with a green dot
    poll(
        lambda: status(root),
        30,
        what="disconnected after the restart",
        until=lambda s: s in ("disconnected", "not answering"),
    )
    advice = root.locator("[data-rtnb=connection-advice]").inner_text()
    assert "run the cell again" in advice, advice
    nb.kernel = KernelProbe(nb.server.connection_file(kid))
