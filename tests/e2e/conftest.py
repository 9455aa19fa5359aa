"""Fixtures for the browser tests: fake-mic WAVs, Jupyter servers, Chromium, fresh notebooks.

One Jupyter server per (app, commsOverSubshells mode) for the whole session, one Chromium per
fake-mic WAV (each getUserMedia restarts the file), a fresh notebook and a fresh browser context
per test; the test's kernel is shut down after it. On a failure the page's screenshot and
console go to ``artifacts/failed-<test>.png|.log``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .harness import (
    ARTIFACTS,
    CHROMIUM,
    IPYKERNEL6,
    JupyterServer,
    KernelProbe,
    MicWav,
    NotebookPage,
    launch_chromium,
    make_mic_wav,
    probe_kernel,
    write_notebook,
)

#: ~1.6 s of speech without pauses longer than 30 ms (the stand-in VAD ends a turn after 200 ms).
SPEECH = "Hello there how are you doing today"
#: The barge-in file: the first utterance starts a turn, the second interrupts the answer.
BARGE_IN = [SPEECH, "Wait a moment please"]


def _missing_tools() -> list[str]:
    missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    if not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip)")
    return missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = _missing_tools()
    if not missing:
        return
    if os.environ.get("CI"):
        # browser tests are required: in CI a missing tool is a failure, never a silent skip
        raise pytest.UsageError(f"browser tests need {', '.join(missing)}: run scripts/test")
    skip = pytest.mark.skip(reason=f"browser tests need: {', '.join(missing)}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- WAVs -----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def wav_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mic")


@pytest.fixture(scope="session")
def speech_wav(wav_dir: Path) -> MicWav:
    """0.5 s silence, one utterance (~1.6 s, measured), 3 s silence; 48 kHz mono."""
    return make_mic_wav(wav_dir, [SPEECH], name="speech")


@pytest.fixture(scope="session")
def barge_in_wav(wav_dir: Path) -> MicWav:
    """0.5 s silence, utterance, 1.2 s silence, a second utterance, 3 s silence."""
    return make_mic_wav(wav_dir, BARGE_IN, name="barge-in", gap_s=1.2)


# --- processes ------------------------------------------------------------------------------------
# Module scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it lives, and pytest-asyncio tests collected after this module would then fail
# with "Runner.run() cannot be called from a running event loop".
@pytest.fixture(scope="module")
def playwright_sync() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browsers(playwright_sync: Any) -> Iterator[Callable[[MicWav], Any]]:
    """``browsers(wav)``: one Chromium per fake-mic file, kept for the session."""
    cache: dict[Path, Any] = {}

    def get(wav: MicWav) -> Any:
        if wav.path not in cache:
            cache[wav.path] = launch_chromium(playwright_sync, wav.path)
        return cache[wav.path]

    yield get
    for b in cache.values():
        with contextlib.suppress(Exception):
            b.close()


@pytest.fixture(scope="session")
def jupyter_servers() -> Iterator[Callable[[str, str], JupyterServer]]:
    """``jupyter_servers(app, comms)``: a server per (app, mode), kept for the session."""
    cache: dict[tuple[str, str], JupyterServer] = {}

    def get(app: str, comms: str) -> JupyterServer:
        key = (app, comms)
        if key not in cache:
            cache[key] = JupyterServer(app=app, comms=comms).start()
        return cache[key]

    yield get
    for srv in cache.values():
        srv.cleanup()
    leftovers = {k: srv.tagged_pids() for k, srv in cache.items() if srv.tagged_pids()}
    assert not leftovers, f"processes left behind: {leftovers}"


# --- a notebook in a page ------------------------------------------------------------------------
@dataclass
class OpenNotebook:
    page: NotebookPage
    server: JupyterServer
    path: str
    kernel: KernelProbe

    @property
    def pw(self) -> Any:
        return self.page.page


_counter = itertools.count(1)


@pytest.fixture
def open_notebook(
    request: pytest.FixtureRequest,
    jupyter_servers: Callable[[str, str], JupyterServer],
    browsers: Callable[[MicWav], Any],
) -> Iterator[Callable[..., OpenNotebook]]:
    """``open_notebook(cells, wav=..., app="lab", comms="perCommTarget")`` → an OpenNotebook.

    ``notebook=path`` opens a copy of an existing notebook (a tutorial) instead of ``cells``.

    Writes a fresh notebook, opens it in a fresh browser context, waits for an idle kernel and
    connects a kernel client to it. Afterwards: the page closes and the kernel is shut down.
    """
    opened: list[tuple[Any, OpenNotebook | None, JupyterServer, str]] = []

    def make(
        cells: list[str] | None = None,
        *,
        wav: MicWav,
        app: str = "lab",
        comms: str = "perCommTarget",
        notebook: Path | None = None,
    ) -> OpenNotebook:
        server = jupyter_servers(app, comms)
        safe = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:60]
        name = f"{safe}-{next(_counter)}.ipynb"
        kernel = IPYKERNEL6 if comms == "ipykernel6" else "python3"
        if notebook is not None:  # a tutorial as shipped, its cells untouched
            shutil.copyfile(notebook, server.root / name)
        else:
            write_notebook(server.root / name, cells or [], kernel=kernel)
        context = browsers(wav).new_context(viewport={"width": 1400, "height": 1100})
        context.grant_permissions(["microphone"])
        page = context.new_page()
        opened.append((context, None, server, name))
        nbp = NotebookPage(page, server, name).open()
        nb = OpenNotebook(nbp, server, name, probe_kernel(server, name))
        opened[-1] = (context, nb, server, name)
        return nb

    yield make

    failed = getattr(request.node, "rep_call", None)
    for context, nb, server, name in opened:
        if nb is not None and failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            stem = ARTIFACTS / f"failed-{Path(name).stem}"
            with contextlib.suppress(Exception):
                nb.pw.screenshot(path=f"{stem}.png", full_page=True)
            with contextlib.suppress(Exception):
                Path(f"{stem}.log").write_text("\n".join(nb.page.console), encoding="utf-8")
        if nb is not None:
            nb.kernel.close()
        with contextlib.suppress(Exception):
            context.close()
        # shut this notebook's kernel down (the server stays for the next test)
        with contextlib.suppress(Exception):
            for s in server.sessions():
                if s.get("path") == name:
                    server.api("DELETE", f"/api/sessions/{s['id']}")
