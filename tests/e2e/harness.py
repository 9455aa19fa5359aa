"""Machinery shared by the browser tests (``tests/e2e``) and ``benchmarks/bench_browser.py``.

- :func:`make_mic_wav`: a fake-microphone WAV from espeak-ng speech (sox: 48 kHz mono, padded),
  with the exact speech spans measured, and a 24 kHz reference copy for comparisons.
- :class:`JupyterServer`: ``jupyter lab`` or ``jupyter notebook`` (Notebook 7) on a free
  loopback port, no token, its own config and runtime dirs (the data path, where the anywidget
  and ipywidgets lab extensions live, is left alone), the news toast off and the
  ``commsOverSubshells`` setting under test. Stopping it kills its process group and every
  kernel it started (found by a tag in their environment), so nothing is left behind.
- :func:`launch_chromium`: headless Chromium with the fake microphone.
- :class:`NotebookPage`: open a notebook, accept the kernel dialog, run cells through
  ``window.jupyterapp`` and wait on their output.
- :class:`KernelProbe`: a ``BlockingKernelClient`` on the notebook's kernel that runs snippets
  and returns what they print as JSON.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"

#: Threshold used to find speech in the generated WAVs (the stand-in VAD's default, -40 dBFS).
VOICED_DBFS = -40.0


def chromium_args(wav: Path | str | None) -> list[str]:
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
    ]
    if wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={wav}%noloop")
    return args


def launch_chromium(playwright: Any, wav: Path | str | None) -> Any:
    """Headless Chromium (the system one; never ``playwright install``) with a fake mic."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=chromium_args(wav)
    )


# --- fake microphone ------------------------------------------------------------------------------
@dataclass(frozen=True)
class MicWav:
    """A fake-microphone file: ``utterances`` are (start, end) seconds of speech in the file."""

    path: Path
    ref24: Path  # the same audio at 24 kHz mono int16 (what the widget should send)
    utterances: list[tuple[float, float]]
    duration_s: float

    @property
    def speech_s(self) -> float:
        return sum(e - s for s, e in self.utterances)

    def reference(self) -> np.ndarray:
        return read_wav(self.ref24)[1]


def read_wav(path: Path | str) -> tuple[int, np.ndarray]:
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return rate, data


def voiced_frames(pcm: np.ndarray, rate: int, dbfs: float = VOICED_DBFS) -> np.ndarray:
    """Per 10 ms frame: is its RMS at or above ``dbfs``?"""
    f = rate // 100
    n = len(pcm) // f
    if n == 0:
        return np.zeros(0, dtype=bool)
    x = pcm[: n * f].astype(np.float64).reshape(n, f) / 32768.0
    return np.sqrt((x * x).mean(axis=1)) >= 10 ** (dbfs / 20)


def voiced_span(pcm: np.ndarray, rate: int, dbfs: float = VOICED_DBFS) -> tuple[float, float]:
    """(start, end) seconds of the first to the last voiced 10 ms frame; (0, 0) when silent."""
    v = np.flatnonzero(voiced_frames(pcm, rate, dbfs))
    if len(v) == 0:
        return 0.0, 0.0
    return v[0] / 100, (v[-1] + 1) / 100


def make_mic_wav(
    out_dir: Path,
    texts: list[str],
    *,
    name: str = "mic",
    gap_s: float = 1.2,
    lead_s: float = 0.5,
    tail_s: float = 3.0,
) -> MicWav:
    """espeak-ng speech → sox 48 kHz mono, ``lead_s`` silence first, ``gap_s`` between
    utterances and ``tail_s`` after; each utterance is trimmed to its voiced span first."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (apt-get install espeak-ng sox).")
    out_dir.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    spans: list[tuple[float, float]] = []
    t = lead_s
    for i, text in enumerate(texts):
        raw = out_dir / f"{name}-raw{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(raw), text], check=True)
        rate, pcm = read_wav(raw)
        start, end = voiced_span(pcm, rate)
        length = end - start
        part = out_dir / f"{name}-part{i}.wav"
        after = gap_s if i < len(texts) - 1 else 0.0
        convert = ["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(part)]
        effects = ["trim", f"{start:.3f}", f"{length:.3f}", "pad", "0", f"{after:.3f}"]
        subprocess.run([*convert, *effects], check=True)
        # measure what sox wrote (resampling smears the edges by a few samples)
        prate, ppcm = read_wav(part)
        s, e = voiced_span(ppcm, prate)
        spans.append((t + s, t + e))
        t += len(ppcm) / prate
        parts.append(part)
    path = out_dir / f"{name}.wav"
    pad = ["pad", f"{lead_s:.3f}", f"{tail_s:.3f}"]
    subprocess.run(["sox", *map(str, parts), "-c", "1", "-b", "16", str(path), *pad], check=True)
    ref24 = out_dir / f"{name}-24k.wav"
    subprocess.run(["sox", str(path), "-r", "24000", str(ref24)], check=True)
    rate, pcm = read_wav(path)
    return MicWav(path=path, ref24=ref24, utterances=spans, duration_s=len(pcm) / rate)


def best_lag_correlation(
    received: np.ndarray, reference: np.ndarray, rate: int = 24_000
) -> tuple[float, float]:
    """Normalised cross-correlation of the reference's speech against the received stream.

    Returns (peak correlation in [-1, 1], offset in seconds of the reference's start within
    ``received``). Uses the voiced part of the reference only, via FFT.
    """
    s, e = voiced_span(reference, rate)
    ref = reference[int(s * rate) : int(e * rate)].astype(np.float64)
    rec = received.astype(np.float64)
    if len(rec) < len(ref) or len(ref) == 0:
        return 0.0, 0.0
    n = 1 << int(np.ceil(np.log2(len(rec) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(rec, n) * np.conj(np.fft.rfft(ref, n)), n)[
        : len(rec) - len(ref) + 1
    ]
    # energy of each window of rec
    c = np.concatenate([[0.0], np.cumsum(rec * rec)])
    win = c[len(ref) :] - c[: len(rec) - len(ref) + 1]
    denom = np.sqrt(np.maximum(win, 1e-9) * float(ref @ ref))
    ncc = corr / denom
    k = int(np.argmax(ncc))
    return float(ncc[k]), (k / rate) - s


def segment_lags(
    received: np.ndarray, reference: np.ndarray, rate: int = 24_000, window_s: float = 0.1
) -> list[tuple[float, float, float]]:
    """Where each ``window_s`` piece of the reference's speech is in ``received``.

    Returns (time in the reference, lag in s relative to the first piece, correlation) per
    piece: a lag that changes along the utterance means samples were lost or inserted.
    """
    s, e = voiced_span(reference, rate)
    _, offset = best_lag_correlation(received, reference, rate)
    base = offset + s  # where the speech starts in received
    out: list[tuple[float, float, float]] = []
    win = int(window_s * rate)
    search = int(0.2 * rate)
    for start in range(int(s * rate), int(e * rate) - win, win):
        ref = reference[start : start + win].astype(np.float64)
        if float(ref @ ref) == 0:
            continue
        center = int(base * rate) + (start - int(s * rate))
        lo, hi = max(center - search, 0), min(center + search + win, len(received))
        seg = received[lo:hi].astype(np.float64)
        if len(seg) < win:
            break
        corr = np.correlate(seg, ref, mode="valid")
        c = np.concatenate([[0.0], np.cumsum(seg * seg)])
        energy = c[win:] - c[: len(seg) - win + 1]
        ncc = corr / np.sqrt(np.maximum(energy, 1e-9) * float(ref @ ref))
        k = int(np.argmax(ncc))
        out.append((start / rate, (lo + k - center) / rate, float(ncc[k])))
    return out


def write_wav(path: Path, pcm: np.ndarray, rate: int = 24_000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(pcm, dtype=np.int16).tobytes())
    return path


# --- Jupyter server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


#: The kernelspec of the other supported ipykernel major (6.x: comms always on the main thread).
IPYKERNEL6 = "rtnb-ipykernel6"
IPYKERNEL6_PIN = "ipykernel>=6.29,<7"


def ipykernel6_jupyter_path() -> Path:
    """A ``share/jupyter`` dir with a kernelspec running ipykernel 6 in *this* environment.

    Made from ``sys.executable`` (a venv's own python, not the base interpreter), with only
    ``ipykernel<7`` and what it needs installed from PyPI; a ``.pth`` file then puts this checkout
    and the running environment's site-packages after its own, so the kernel gets ipykernel 6
    with this checkout's realtime_nb and this environment's numpy, websockets … A venv with
    ``--system-site-packages`` would see the *base* interpreter's packages instead, which is
    wrong whenever the tests run in a virtualenv. Made once per (interpreter, environment,
    checkout, pin), in a directory named by their hash, under a file lock so two pytest
    processes cannot race; about 10 s the first time.
    """
    repo = REPO
    key = "\n".join([sys.executable, sys.prefix, str(repo), IPYKERNEL6_PIN])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    base = Path(tempfile.gettempdir()) / f"rtnb-ipykernel6-{digest}"
    venv, share = base / "venv", base / "share" / "jupyter"
    spec = share / "kernels" / IPYKERNEL6 / "kernel.json"
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if spec.exists():
            return share
        if venv.exists():
            shutil.rmtree(venv)  # a half-made one from an interrupted run
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "-q", IPYKERNEL6_PIN], check=True)
        inner = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        outer = [p for p in site.getsitepackages() if Path(p).is_dir()]
        if site.ENABLE_USER_SITE and Path(site.getusersitepackages()).is_dir():
            outer.append(site.getusersitepackages())
        lines = [str(repo)] + [f"import site; site.addsitedir({p!r})" for p in outer]
        (Path(inner) / "rtnb-outer-env.pth").write_text("\n".join(lines) + "\n")
        # away from the checkout and without PYTHONPATH: the .pth alone must find this checkout
        check = subprocess.run(
            [str(python), "-c", "import ipykernel, realtime_nb; print(ipykernel.__version__, "
             "realtime_nb.__file__)"],
            capture_output=True, text=True, check=True, cwd=base,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        ).stdout.split()  # fmt: skip
        if not check[0].startswith("6.") or not check[1].startswith(str(repo)):
            raise RuntimeError(f"the ipykernel 6 env is wrong: {check} (repo {repo})")
        subprocess.run(
            [str(python), "-m", "ipykernel", "install", "--prefix", str(base),
             "--name", IPYKERNEL6, "--display-name", "Python 3 (ipykernel 6)"],
            check=True,
        )  # fmt: skip
    return share


def write_notebook(path: Path, cells: list[str], kernel: str = "python3") -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": kernel,
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@dataclass
class JupyterServer:
    """A Jupyter server of its own for the tests (``app``: ``lab`` or ``notebook``)."""

    app: str = "lab"
    comms: str = "perCommTarget"  # commsOverSubshells: "perCommTarget" | "disabled", or
    # "ipykernel6": notebooks run on an ipykernel 6 kernel (no subshells: comms on the main thread)
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rtnb-e2e-")))
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    tag: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def config_dir(self) -> Path:
        return self.base / "config"

    @property
    def runtime_dir(self) -> Path:
        return self.base / "runtime"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.base / f"jupyter-{self.app}.log"

    def _write_settings(self) -> None:
        settings = self.config_dir / "lab" / "user-settings"
        _write_json(
            settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
            {"fetchNews": "false", "checkForUpdates": False},
        )
        apputils = settings / "@jupyterlab" / "apputils-extension"
        mode = "perCommTarget" if self.comms == "ipykernel6" else self.comms
        _write_json(apputils / "kernels-settings.jupyterlab-settings", {"commsOverSubshells": mode})
        # widget state is saved with the notebook (the security test looks for secrets in it)
        _write_json(
            settings / "@jupyter-widgets" / "jupyterlab-manager" / "plugin.jupyterlab-settings",
            {"saveState": True},
        )

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(
            JUPYTER_CONFIG_DIR=str(self.config_dir),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            RTNB_E2E_TAG=self.tag,
            PYTHONUNBUFFERED="1",
        )
        if self.comms == "ipykernel6":
            env["JUPYTER_PATH"] = os.pathsep.join(
                p for p in (str(ipykernel6_jupyter_path()), env.get("JUPYTER_PATH", "")) if p
            )
        # the kernel must import this checkout of realtime_nb
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        return env

    def start(self, timeout: float = 90) -> JupyterServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        self._write_settings()
        self.port = free_port()
        expose = (
            "--LabApp.expose_app_in_browser=True"
            if self.app == "lab"
            else "--JupyterNotebookApp.expose_app_in_browser=True"
        )
        cmd = [
            sys.executable, "-m", "jupyter", self.app, "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
            "--IdentityProvider.token=", "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={self.root}",
            expose,
        ]  # fmt: skip
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.api("GET", "/api/status") is not None:
                    return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"jupyter {self.app} did not start in {timeout}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def api(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    # --- kernels ---
    def sessions(self) -> list[dict[str, Any]]:
        return self.api("GET", "/api/sessions")

    def kernel_id_for(self, nb_path: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for s in self.sessions():
                if s.get("path") == nb_path and s.get("kernel"):
                    return s["kernel"]["id"]
            time.sleep(0.2)
        raise TimeoutError(f"no kernel session for {nb_path}: {self.sessions()}")

    def connection_file(self, kernel_id: str) -> Path:
        return self.runtime_dir / f"kernel-{kernel_id}.json"

    def restart_kernel(self, kernel_id: str) -> None:
        self.api("POST", f"/api/kernels/{kernel_id}/restart", {}, timeout=60)

    def shutdown_all_kernels(self) -> None:
        with contextlib.suppress(Exception):
            for s in self.sessions():
                with contextlib.suppress(Exception):
                    self.api("DELETE", f"/api/sessions/{s['id']}")
        with contextlib.suppress(Exception):
            for k in self.api("GET", "/api/kernels"):
                with contextlib.suppress(Exception):
                    self.api("DELETE", f"/api/kernels/{k['id']}")

    def tagged_pids(self) -> list[int]:
        """Processes carrying this server's tag in their environment (server and kernels)."""
        needle = f"RTNB_E2E_TAG={self.tag}".encode()
        pids = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit() or int(d.name) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if needle in (d / "environ").read_bytes().split(b"\0"):
                    pids.append(int(d.name))
        return pids

    def stop(self) -> None:
        if self.proc is None:
            return
        self.shutdown_all_kernels()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        # kernels run in sessions of their own: end any left, by pid
        deadline = time.monotonic() + 5
        while (left := self.tagged_pids()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> JupyterServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


# --- the page -------------------------------------------------------------------------------------
class NotebookPage:
    """A notebook opened in JupyterLab (``/lab/workspaces/<fresh>/tree/…``) or Notebook 7."""

    def __init__(self, page: Any, server: JupyterServer, nb_path: str) -> None:
        self.page = page
        self.server = server
        self.nb_path = nb_path
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    def open(self, timeout: float = 60) -> NotebookPage:
        if self.server.app == "lab":
            ws = "w" + uuid.uuid4().hex[:8]  # a fresh workspace: nothing else reopens
            url = f"{self.server.url}/lab/workspaces/{ws}/tree/{self.nb_path}"
        else:
            url = f"{self.server.url}/notebooks/{self.nb_path}"
        self.page.goto(url, timeout=timeout * 1000)
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.content"
            " && window.jupyterapp.shell.currentWidget.content.widgets"
            " && window.jupyterapp.shell.currentWidget.content.widgets.length > 0",
            timeout=timeout * 1000,
        )
        self.wait_kernel_idle(timeout)
        return self

    def _accept_dialog(self) -> None:
        dialog = self.page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count():
            with contextlib.suppress(Exception):
                dialog.first.click(timeout=2000)

    def wait_kernel_idle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._accept_dialog()
            status = self.page.evaluate(
                "() => { const p = window.jupyterapp.shell.currentWidget;"
                " const k = p && p.sessionContext && p.sessionContext.session"
                " && p.sessionContext.session.kernel; return k ? k.status : null; }"
            )
            if status == "idle":
                return
            time.sleep(0.2)
        raise TimeoutError(f"kernel not idle after {timeout}s")

    def run_cell(self, index: int) -> None:
        """Start running cell ``index`` (returns at once; wait on its output)."""
        self.page.evaluate(
            """(i) => {
                const app = window.jupyterapp;
                const panel = app.shell.currentWidget;
                const nb = panel.content;
                nb.deselectAll();
                nb.activeCellIndex = i;
                app.commands.execute('notebook:run-cell');
            }""",
            index,
        )

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def cell_text(self, index: int) -> str:
        return self.cell(index).locator(".jp-OutputArea").inner_text()

    def wait_output(self, index: int, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.cell_text(index)
            if text in out:
                return out
            if "Traceback" in out or "Error" in out.split("\n")[0]:
                raise AssertionError(f"cell {index} failed:\n{out}")
            time.sleep(0.1)
        raise TimeoutError(f"cell {index}: no {text!r} after {timeout}s:\n{self.cell_text(index)}")

    def run_and_wait(self, index: int, text: str, timeout: float = 60) -> str:
        self.run_cell(index)
        return self.wait_output(index, text, timeout)

    def save(self) -> None:
        self.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")

    def rtnb_stats(self, view: int = 0) -> dict[str, Any] | None:
        return self.page.evaluate(
            "(i) => (window.__rtnb && window.__rtnb.views && window.__rtnb.views[i])"
            " ? window.__rtnb.views[i].stats() : null",
            view,
        )

    def dom_rows(self) -> list[dict[str, Any]]:
        return self.page.evaluate(
            """() => [...document.querySelectorAll('[data-rtnb=row]')].map(r => ({
                seq: Number(r.dataset.seq), last: Number(r.dataset.last), n: Number(r.dataset.n),
                type: r.dataset.type, dir: r.dataset.dir,
                turn: r.dataset.turn ? Number(r.dataset.turn) : null, hidden: r.hidden}))"""
        )


def poll(
    fn: Callable[[], Any],
    timeout: float,
    interval: float = 0.2,
    what: str = "condition",
    until: Callable[[Any], Any] | None = None,
) -> Any:
    """Call ``fn`` until its value is truthy (or ``until(value)`` is); return that value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = fn()
        if until(last) if until is not None else last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


# --- the kernel -----------------------------------------------------------------------------------
class KernelProbe:
    """Run snippets in the notebook's kernel (the notebook's variables are visible)."""

    MARK = "@@RTNB-JSON@@"

    def __init__(self, connection_file: Path) -> None:
        # jupyter_client's blocking client runs coroutines with run_sync, which misbehaves in
        # the thread of Playwright's sync API (its loop counts as running there): the client
        # lives on a thread of its own and every call goes through it.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-probe")
        self.kc: Any = self._pool.submit(self._connect, connection_file).result(90)

    @staticmethod
    def _connect(connection_file: Path) -> Any:
        from jupyter_client import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=str(connection_file))
        kc.load_connection_file()
        kc.start_channels()
        # not kc.wait_for_ready(): it drains IOPub until a 0.2 s lull, which never comes while
        # a widget streams (status and comm messages go to every client). Ready means: the
        # shell answers kernel_info AND its busy/idle status reaches our IOPub subscription
        # (a SUB socket misses what is published before it has joined).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            msg_id = kc.kernel_info()
            t_end = min(deadline, time.monotonic() + 3)
            replied = seen = False
            while time.monotonic() < t_end and not (replied and seen):
                with contextlib.suppress(Exception):
                    if not replied:
                        reply = kc.get_shell_msg(timeout=0.1)
                        replied = reply["parent_header"].get("msg_id") == msg_id
                with contextlib.suppress(Exception):
                    msg = kc.get_iopub_msg(timeout=0.1)
                    seen = seen or msg["parent_header"].get("msg_id") == msg_id
            if replied and seen:
                return kc
        raise TimeoutError("the kernel did not answer kernel_info (shell and IOPub) in 60 s")

    def run(self, code: str, timeout: float = 60) -> str:
        return self._pool.submit(self._run, code, timeout).result(timeout + 30)

    def _run(self, code: str, timeout: float) -> str:
        out: list[str] = []
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            t = msg["msg_type"]
            c = msg["content"]
            if t == "stream":
                out.append(c["text"])
            elif t == "error":
                errors.append("\n".join(c.get("traceback") or [c.get("evalue", "")]))

        reply = self.kc.execute_interactive(
            code, timeout=timeout, output_hook=hook, store_history=False
        )
        if errors or reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel snippet failed:\n{code}\n{''.join(errors)}")
        return "".join(out)

    def json(self, code: str, timeout: float = 60) -> Any:
        """Run ``code`` whose last line is an expression; return its value through JSON."""
        lines = code.strip().splitlines()
        body, last = lines[:-1], lines[-1]
        src = "\n".join(
            [*body, "import json as _j", f"print({self.MARK!r} + _j.dumps({last}, default=str))"]
        )
        text = self.run(src, timeout)
        for line in text.splitlines():
            if line.startswith(self.MARK):
                return json.loads(line[len(self.MARK) :])
        raise RuntimeError(f"no JSON from:\n{src}\n---\n{text}")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._pool.submit(self.kc.stop_channels).result(10)
        self._pool.shutdown(wait=False)


def probe_kernel(server: JupyterServer, nb_path: str) -> KernelProbe:
    """A :class:`KernelProbe` on the kernel of the notebook at ``nb_path`` (close it after)."""
    kid = server.kernel_id_for(nb_path)
    cf = server.connection_file(kid)
    poll(cf.exists, 30, what=f"connection file {cf}")
    return KernelProbe(cf)
