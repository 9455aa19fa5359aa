"""The tutorials run offline, headless, start to finish (nbclient, a real kernel).

Every tutorial must run without an error output, draw at least one picture (a PNG from
matplotlib, or a live widget), and end by saying what to read next. ``EXPECTED_TEXT`` holds, per
notebook, strings its outputs must contain — evidence that the cells did what the prose says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

TUTORIALS = [
    "01-quickstart.ipynb",
    "02-event-protocol.ipynb",
    "03-turn-detection.ipynb",
    "04-interruptions.ipynb",
    "05-tools.ipynb",
    "06-latency-and-cost.ipynb",
    "07-record-replay-evaluate.ipynb",
    "08-openai-azure-troubleshooting.ipynb",
]

# strings that must appear in a notebook's outputs (text/plain, stream text or text/html)
EXPECTED_TEXT: dict[str, list[str]] = {
    "01-quickstart.ipynb": ["completed |", "'completed'", "int16"],
    "02-event-protocol.ipynb": [
        "← session.updated",
        "client → input_audio_buffer.commit",
        "← input_audio_buffer.speech_started",
        "← response.output_audio.delta  ×",
        "item_delete_invalid_item_id",
        "caused by our event: True",
    ],
    "03-turn-detection.ipynb": [
        "200 ms silence   2 turn(s)",
        "800 ms silence   1 turn(s)",
        "semantic VAD, high eagerness 2 turn(s)",
        "semantic VAD, low eagerness  1 turn(s)",
        "push-to-talk                 1 turn(s)",
        "quiet speaker, threshold 0.5 0 turn(s)",
        "quiet speaker, threshold 0.2 1 turn(s)",
    ],
    "04-interruptions.ipynb": [
        "response: cancelled {'type': 'cancelled', 'reason': 'turn_detected'}",
        "client conversation.item.truncate audio_end_ms=",
        "server conversation.item.truncated audio_end_ms=",
        "heard:     'the quick",
    ],
    "05-tools.ipynb": [
        "sunny and 21 degrees in Paris",
        "timeout",
        "declined",
        "raised LookupError",
        "heard:  what is the weather",
    ],
    "06-latency-and-cost.ipynb": [
        "created_to_first_audio_ms",
        "median wait for the first sound",
        "cost $",
        "full)",
        "gpt-realtime-2.1-mini",
    ],
    "07-record-replay-evaluate.ipynb": [
        "Redrive(3 turns, changed: 3)",
        "EvaluationResults(",
        "Comparison(",
    ],
    "08-openai-azure-troubleshooting.ipynb": [
        "wss://api.openai.com/v1/realtime?model=",
        "AuthenticationError:",
        "ModelNotFoundError:",
        "ModelShutdownWarning",
    ],
}


def _outputs(nb: Any) -> list[dict[str, Any]]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def _text(nb: Any) -> str:
    parts = []
    for out in _outputs(nb):
        data = out.get("data", {})
        parts += [str(out.get("text", "")), str(data.get("text/plain", ""))]
        parts.append(str(data.get("text/html", "")))
    return "\n".join(parts)


def test_every_tutorial_is_present_in_order() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert names == TUTORIALS


def test_the_quickstart_points_to_every_other_tutorial() -> None:
    nb = nbformat.read(NOTEBOOK_DIR / "01-quickstart.ipynb", as_version=4)
    prose = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for name in TUTORIALS[1:]:
        assert name in prose, f"01-quickstart does not link {name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_offline(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        store_widget_state=True,
    )
    client.execute()
    errors = [out for out in _outputs(nb) if out.get("output_type") == "error"]
    assert not errors, errors
    text = _text(nb)
    for expected in EXPECTED_TEXT.get(path.name, []):
        assert expected in text, f"{path.name}: no output contains {expected!r}"
    pictures = [
        out
        for out in _outputs(nb)
        if "image/png" in out.get("data", {})
        or "application/vnd.jupyter.widget-view+json" in out.get("data", {})
    ]
    assert pictures, f"{path.name} shows no picture"
    last_markdown = [c for c in nb.cells if c.cell_type == "markdown"][-1].source.lower()
    assert "next" in last_markdown, f"{path.name} does not end by saying what to read next"

    if path.name == "01-quickstart.ipynb":
        images = [
            out
            for cell in nb.cells
            if cell.cell_type == "code" and "plot_turns" in cell.source
            for out in cell.get("outputs", [])
            if "image/png" in out.get("data", {})
        ]
        assert images, "plot_turns() drew the turns"
        assert "w.close()" not in "".join(c.source for c in nb.cells if c.cell_type == "code"), (
            "Run All must leave a live widget"
        )
        state = nb.metadata.get("widgets", {})
        assert state, "the widget state is stored in the notebook"
