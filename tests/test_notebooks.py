"""The tutorials run offline, headless, start to finish (nbclient, a real kernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_offline(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        store_widget_state=True,
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, errors
    text = "\n".join(
        str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    if path.name == "01-quickstart.ipynb":
        assert "completed |" in text  # the text turn finished
        assert "'completed'" in text  # the voice turn finished
        assert "int16" in text
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
