"""A replay widget (``RealtimeWidget.replay``) driven as its comm drives it: no session at all.

As in test_widget.py, each test sends the comm messages a view would send and records what the
widget sends back (the instance's ``send``: the transport boundary). Behind it everything is
real: the recording read from a file (the committed format-1 file, or one a stand-in session
saved in this process), the shared loop thread, the replay clock and the row and turn feeds.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import realtime_nb
from realtime_nb import bridge
from realtime_nb.client_protocol import transcript_entries
from realtime_nb.errors import UsageError
from realtime_nb.recording import Recording, RecordingFormatError
from realtime_nb.widget import RealtimeWidget

FIXTURE = Path(__file__).parent / "fixtures" / "recordings" / "v1-session.rtnb"
TIMEOUT = 10.0


def wait_until(predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


class View:
    """Plays the browser: sends comm messages into the widget and records what it sends."""

    def __init__(self, widget: RealtimeWidget) -> None:
        self.w = widget
        self.sent: list[tuple[float, dict[str, Any], list[bytes]]] = []
        self._lock = threading.Lock()
        self.ready_at = 0.0
        widget.send = self._record  # the transport boundary

    def _record(self, content: dict[str, Any], buffers: list[Any] | None = None) -> None:
        with self._lock:
            self.sent.append((time.monotonic(), content, [bytes(b) for b in buffers or ()]))

    def msg(self, content: dict[str, Any], buffers: list[Any] | None = None) -> None:
        data = {"method": "custom", "content": content}
        self.w._handle_msg({"content": {"data": data}, "buffers": buffers or []})

    def ready(self) -> None:
        self.ready_at = time.monotonic()
        self.msg({"type": bridge.READY, "version": bridge.PROTOCOL_VERSION, "view_id": "v1"})

    def command(self, name: str, **args: Any) -> None:
        self.msg({"type": bridge.COMMAND, "name": name, "args": args})

    def of(self, type_: str) -> list[tuple[float, dict[str, Any], list[bytes]]]:
        with self._lock:
            return [(t, c, b) for t, c, b in self.sent if c.get("type") == type_]

    def row_seqs(self) -> list[int]:
        """Every event seq the table rows cover (a row stands for ``seq``..``last``)."""
        rows = [row for _, c, _ in self.of(bridge.ROWS) for row in c["rows"]]
        return sorted({seq for row in rows for seq in range(row["seq"], row["last"] + 1)})


@pytest.fixture
def replay() -> Iterator[Callable[..., tuple[RealtimeWidget, View]]]:
    made: list[RealtimeWidget] = []

    def factory(source: Any = FIXTURE, **kwargs: Any) -> tuple[RealtimeWidget, View]:
        w = RealtimeWidget.replay(source, **kwargs)
        made.append(w)
        return w, View(w)

    yield factory
    for w in made:
        w.close()


@pytest.fixture(scope="module")
def recording() -> Recording:
    return realtime_nb.load(FIXTURE)


def display_seqs(rec: Recording) -> list[int]:
    """Every row's seq in the recording."""
    return [r.seq for r in rec.events.rows]


# --- what reaches the views ---------------------------------------------------------------------
def test_at_full_speed_every_row_the_turns_and_the_transcript_reach_the_view(
    replay: Callable[..., tuple[RealtimeWidget, View]], recording: Recording
) -> None:
    w, view = replay(speed=math.inf)
    assert w.status == "replay" and w.replay_source == FIXTURE.name
    assert w.session_config == {
        k: v for k, v in recording.session_config.items() if k in w.session_config
    }
    view.ready()
    expected = display_seqs(recording)
    wait_until(lambda: view.row_seqs() == expected, what="every table row")
    turns = wait_until(
        lambda: [
            c for _, c, _ in view.of(bridge.TURNS) if len(c["turns"]) == len(recording.timeline())
        ],
        what="the whole turn timeline",
    )
    assert [t["turn"] for t in turns[-1]["turns"]] == [t.turn for t in recording.timeline()]
    wait_until(lambda: w.stats.get("replay_done"), what="the replay's end")
    want = [(e["role"], e["text"]) for e in transcript_entries(recording.conversation)]
    wait_until(lambda: [(e["role"], e["text"]) for e in w._transcript] == want, what="transcript")
    assert all(isinstance(e["turn"], int) for e in w._transcript if e["role"] != "tool")
    # the rows carry their turn, as on a live widget
    rows = [row for _, c, _ in view.of(bridge.ROWS) for row in c["rows"]]
    assert {row["turn"] for row in rows} >= {t.turn for t in recording.timeline()}
    # Python reads the recording itself
    assert w.events is recording.events or len(w.events) == len(recording.events)
    assert w.transcript == recording.transcript
    first = recording.audio_item_ids[0]
    assert (w.item_audio(first) == recording.item_audio(first)).all()


def test_at_speed_4_the_rows_come_at_a_quarter_of_their_recorded_times(
    replay: Callable[..., tuple[RealtimeWidget, View]], recording: Recording
) -> None:
    w, view = replay(speed=4)
    lengths: list[int] = []
    w.observe(lambda change: lengths.append(len(change["new"])), "_transcript")
    time.sleep(0.3)
    assert view.of(bridge.ROWS) == [], "nothing is sent before a view is ready"
    view.ready()
    wait_until(lambda: w.stats.get("replay_done"), what="the replay's end")
    wait_until(lambda: view.row_seqs() == display_seqs(recording), what="all rows")
    t_of = {r.seq: r.t for r in recording.events.rows}
    t0 = recording.events.rows[0].t
    duration = recording.events.rows[-1].t - t0
    batches = [(at, c["rows"]) for at, c, _ in view.of(bridge.ROWS) if c["rows"]]
    assert len(batches) >= 5, "the rows came in one burst, not at their pace"
    for at, rows in batches:  # never before its time (a busy machine only makes them later)
        for row in rows:
            assert (t_of[row["seq"]] - t0) / 4 <= at - view.ready_at + 0.02, row
    last = batches[-1][0] - view.ready_at
    assert last >= duration / 4 - 0.1, f"all rows within {last:.2f} s of a {duration:.2f} s call"
    # the transcript grew with the rows, and ends with every entry
    assert lengths and lengths[0] < lengths[-1] == len(transcript_entries(recording.conversation))


def test_set_speed_all_sends_the_rest_at_once(
    replay: Callable[..., tuple[RealtimeWidget, View]], recording: Recording
) -> None:
    w, view = replay(speed=0.05)  # two minutes for the six-second call
    view.ready()
    wait_until(lambda: view.row_seqs(), what="the first rows")
    assert not w.stats.get("replay_done")
    view.command("set_speed", speed=None)
    wait_until(lambda: w.stats.get("replay_done"), what="the rest at once")
    assert math.isinf(w.speed)
    assert view.row_seqs() == display_seqs(recording)
    # the synced value: null for "all", a number otherwise
    to_json = w.trait_metadata("speed", "to_json")
    assert to_json(w.speed, w) is None
    view.command("set_speed", speed=2)
    wait_until(lambda: w.speed == 2.0, what="speed 2")
    assert to_json(w.speed, w) == 2.0


# --- audio ----------------------------------------------------------------------------------------
def audio_of(view: View, item_id: str, after: int = 0) -> list[tuple[dict[str, Any], bytes]]:
    return [(c, b[0]) for _, c, b in view.of(bridge.AUDIO)[after:] if c["item_id"] == item_id]


def test_play_item_sends_exactly_the_items_pcm_user_and_assistant(
    replay: Callable[..., tuple[RealtimeWidget, View]], recording: Recording
) -> None:
    w, view = replay(speed=math.inf)
    view.ready()
    roles = {e["item_id"]: e["role"] for e in recording.manifest["audio"]}
    user = next(i for i in recording.audio_item_ids if roles[i] == "user")
    assistant = next(i for i in recording.audio_item_ids if roles[i] == "assistant")
    for item_id in (user, assistant):
        before = len(view.of(bridge.AUDIO))
        view.command("play_item", item_id=item_id)
        want = recording.item_audio(item_id).astype("<i2").tobytes()
        chunks = wait_until(
            lambda item_id=item_id, before=before, want=want: (
                (c := audio_of(view, item_id, before))
                and sum(len(b) for _, b in c) == len(want)
                and c
            ),
            what=f"the audio of {item_id}",
        )
        assert b"".join(b for _, b in chunks) == want
        assert chunks[0][0].get("restart") is True
        assert not any(c.get("restart") for c, _ in chunks[1:])
        assert len(view.of(bridge.AUDIO)) - before == len(chunks), "another item's audio was sent"
    # from Python, the same; twice in a row restarts each time
    before = len(view.of(bridge.AUDIO))
    w.play(assistant)
    w.play(assistant)
    chunks = audio_of(view, assistant, before)
    assert [c.get("restart") is True for c, _ in chunks].count(True) == 2
    assert sum(len(b) for _, b in chunks) == 2 * recording.item_audio(assistant).size * 2
    with pytest.raises(UsageError, match="replay_items"):
        w.play("item_nope")
    assert set(w.replay_items) == set(recording.audio_item_ids)


def test_played_reports_are_counted_and_never_interrupt(
    replay: Callable[..., tuple[RealtimeWidget, View]], recording: Recording
) -> None:
    w, view = replay(speed=math.inf)
    view.ready()
    item_id = recording.audio_item_ids[1]
    w.play(item_id)
    view.msg(
        {"type": bridge.PLAYED, "item_id": item_id, "samples": 2400, "received": 4800,
         "reason": "interrupted", "t_first": None}
    )  # fmt: skip
    wait_until(lambda: w.stats.get("played", {}).get(item_id) == 2400, what="the played count")
    view.command("stop_audio")
    wait_until(lambda: view.of(bridge.FLUSH), what="a flush")
    assert w.error == ""
    assert len(w.events) == len(recording.events), "a replay writes nothing to the recording"


# --- no session -----------------------------------------------------------------------------------
def test_what_needs_a_session_says_this_is_a_replay(
    replay: Callable[..., tuple[RealtimeWidget, View]],
) -> None:
    w, view = replay(speed=math.inf)
    view.ready()
    for call in (
        lambda: w.ask("hi"),
        lambda: w.send_text("hi"),
        lambda: w.update_session(instructions="x"),
        lambda: w.reconnect(),
    ):
        with pytest.raises(UsageError, match="replay"):
            call()
    assert w.server is None
    view.command("send_text", text="hello")
    wait_until(lambda: "replay" in w.error, what="the banner")
    view.msg({"type": bridge.UPDATE_SESSION, "session": {"instructions": "x"}})
    wait_until(lambda: w.settings_errors.get("_"), what="the panel's refusal")
    view.msg({"type": bridge.PTT, "action": "press"})
    wait_until(lambda: "microphone" in w.error, what="no microphone")


def test_get_event_reads_the_recording(
    replay: Callable[..., tuple[RealtimeWidget, View]], recording: Recording
) -> None:
    _, view = replay(speed=math.inf)
    view.ready()
    row = next(r for r in recording.events.rows if r.type == "response.done")
    view.msg({"type": bridge.GET_EVENT, "request_id": 7, "seq": row.seq})
    _, reply, _ = wait_until(lambda: view.of(bridge.EVENT_JSON), what="the event")[0]
    assert reply["error"] is None and reply["payload"]["type"] == "response.done"


def test_bad_speed_and_bad_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="above 0"):
        RealtimeWidget.replay(FIXTURE, speed=0)
    bad = tmp_path / "not.rtnb"
    bad.write_bytes(b"not a zip")
    with pytest.raises(RecordingFormatError):
        RealtimeWidget.replay(bad)


def test_closing_leaves_a_record_and_the_loop_free(
    replay: Callable[..., tuple[RealtimeWidget, View]], recording: Recording
) -> None:
    w, view = replay(speed=math.inf)
    view.ready()
    w.close()
    assert w.status == "closed"
    html = w.snapshot_html()
    assert "replay of" in html and FIXTURE.name in html
    assert FIXTURE.name in repr(w)
    w.close()  # twice is fine


def test_a_recording_saved_in_this_process_replays(tmp_path: Path) -> None:
    path = tmp_path / "call.rtnb"
    with realtime_nb.Session(server_options={"audio_speed": math.inf}) as s:
        s.ask("What is the capital of France?")
        s.save(path)
    w = RealtimeWidget.replay(path, speed=math.inf)
    try:
        view = View(w)
        view.ready()
        wait_until(lambda: w.stats.get("replay_done"), what="the replay's end")
        wait_until(lambda: len(w._transcript) == 2, what="both messages")
        assert [e["role"] for e in w._transcript] == ["user", "assistant"]
        assert "France" in w._transcript[0]["text"]
    finally:
        w.close()


_NO_SOCKET = textwrap.dedent(
    """
    import gc, json, math, socket, sys, time
    import websockets

    def tripwire(*a, **k):
        raise AssertionError("a replay opened a connection")

    websockets.connect = tripwire
    socket.socket.connect = tripwire
    socket.create_connection = tripwire

    from realtime_nb import bridge
    from realtime_nb.widget import RealtimeWidget

    w = RealtimeWidget.replay(sys.argv[1], speed=math.inf)
    sent = []
    w.send = lambda content, buffers=None: sent.append(content["type"])
    data = {"method": "custom", "content": {"type": "ready", "version": bridge.PROTOCOL_VERSION}}
    w._handle_msg({"content": {"data": data}, "buffers": []})
    deadline = time.monotonic() + 10
    while not w.stats.get("replay_done") and time.monotonic() < deadline:
        time.sleep(0.02)
    w.play(w.replay_items[0])
    from websockets.asyncio.client import ClientConnection
    print(json.dumps({
        "done": w.stats.get("replay_done"),
        "audio": sent.count("audio"),
        "rows": sent.count("rows"),
        "server_imported": "realtime_nb.server" in sys.modules,
        "connections": sum(isinstance(o, ClientConnection) for o in gc.get_objects()),
        "error": w.error,
    }))
    w.close()
    """
)


def test_no_socket_is_opened_and_the_stand_in_never_starts() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _NO_SOCKET, str(FIXTURE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts["done"] is True and facts["rows"] >= 1 and facts["audio"] >= 1
    assert facts["server_imported"] is False
    assert facts["connections"] == 0
    assert facts["error"] == ""
