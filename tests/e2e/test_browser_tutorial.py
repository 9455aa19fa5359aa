"""A tutorial as shipped, opened in JupyterLab, answered through the microphone.

The quickstart notebook is copied untouched into a Jupyter server, its widget cell is run, and
Chromium's fake microphone speaks a sentence (espeak-ng). The offline stand-in must hear it
(pocketsphinx writes the user's transcript), answer out loud, and the page must play the
answer — the path a first-time user takes, with nothing but the tutorial's own code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import SPEECH, OpenNotebook
from .harness import MicWav, poll

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

TUTORIAL = Path(__file__).parents[2] / "notebooks" / "01-quickstart.ipynb"
SPOKEN_WORDS = set(SPEECH.lower().split())


def first_code_cell(path: Path) -> int:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")


def test_the_quickstart_tutorial_hears_the_microphone_and_answers(
    open_notebook: Any, speech_wav: MicWav
) -> None:
    nb: OpenNotebook = open_notebook(notebook=TUTORIAL, wav=speech_wav, app="lab")
    index = first_code_cell(TUTORIAL)
    nb.page.run_cell(index)
    root = nb.page.cell(index).locator("[data-rtnb=root]")
    root.wait_for(timeout=60_000)
    status = root.locator("[data-rtnb=status]")
    poll(lambda: status.get_attribute("data-state") == "connected", 60, what="connected")

    button = root.locator("[data-rtnb=mic-button]")
    button.click()
    poll(lambda: button.get_attribute("data-state") == "on", 20, what="mic on")

    # the stand-in's VAD ends the turn, pocketsphinx transcribes it, the brain answers
    user = root.locator("[data-rtnb=turn][data-role=user]")
    assistant = root.locator("[data-rtnb=turn][data-role=assistant]")

    def heard() -> str | None:
        if user.count() == 0:
            return None
        text = user.first.inner_text().lower()
        return text if SPOKEN_WORDS & set(text.replace(",", " ").split()) else None

    heard_text = poll(heard, 60, what="a user bubble with words that were spoken")
    poll(
        lambda: assistant.count() >= 1 and assistant.first.inner_text().strip(),
        60,
        what="an answer in the transcript",
    )
    button.click()  # stop before the fake mic's file loops into a second turn
    poll(lambda: button.get_attribute("data-state") == "off", 20, what="mic off")

    # the kernel heard the same thing the page shows, and the answer reached the speaker
    transcript = nb.kernel.json("w.transcript")
    users = [text.lower() for role, text in transcript if role == "user"]
    assert users and SPOKEN_WORDS & set(users[0].replace(",", " ").split()), transcript
    answer_item = nb.kernel.json(
        "next(r.item_id for r in w.events.rows if r.type == 'response.output_audio.delta')"
    )

    def played() -> dict[str, Any] | None:
        stats = nb.page.rtnb_stats(0) or {}
        return stats if stats.get("played", {}).get(answer_item, 0) > 0 else None

    poll(played, 60, what="the answer played in the page")
    assert heard_text
