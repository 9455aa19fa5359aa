"""Session files (docs/recording.md): saved and loaded, a session reads the same — events, tables,
transcript, timeline and audio — in the same process, in a fresh one, and from a file written by
an earlier version; damaged and newer files fail with errors that name what is wrong."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import realtime_nb
from realtime_nb.recording import (
    FORMAT_VERSION,
    Recording,
    RecordingFormatError,
    load,
)
from realtime_nb.testing import MemoryPair
from tests.fixtures.recordings import make_v1

FIXTURE = Path(__file__).parent / "fixtures" / "recordings" / "v1-session.rtnb"


@pytest.fixture(scope="module")
def pair() -> MemoryPair:
    """VAD voice turns, a barge-in truncation, a typed turn and a tool round on the stand-in."""
    return make_v1.conversation()


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _timeline_json(turns: list[Any]) -> Any:
    return _json([t.to_dict() for t in turns])


def _audio_items(conv: Any) -> dict[str, np.ndarray]:
    items = [*conv.items, *conv._detached.values()]
    return {i.id: i.audio() for i in items if i.audio().size}


# --- same process ------------------------------------------------------------------------------
def test_a_saved_session_loads_with_identical_rows_tables_timeline_and_audio(
    pair: MemoryPair, tmp_path: Path
) -> None:
    live = pair.client
    cut = next(i for i in live.conversation.items if i.truncated_at_ms is not None)
    played = {cut.id: 300.0}
    path = Recording.from_session(live, played_ms=played).save(tmp_path / "call.rtnb")
    rec = realtime_nb.load(path)

    assert rec.events.to_records() == _json(live.events.to_records())
    assert len(rec.events) == len(live.events) and rec.events.counts == live.events.counts
    assert rec.transcript == live.conversation.transcript()
    assert ("assistant", cut.heard_transcript) in rec.transcript  # the heard part, not all
    assert rec.events.turns_dataframe().equals(live.events.turns_dataframe())
    assert (
        rec.events.to_dataframe()
        .drop(columns="payload")
        .equals(live.events.to_dataframe().drop(columns="payload"))
    )
    assert rec.events.usage_dataframe().equals(live.events.usage_dataframe())
    assert rec.events.totals() == live.events.totals()
    assert _timeline_json(rec.events.timeline()) == _timeline_json(live.events.timeline())
    live_audio = _audio_items(live.conversation)
    assert set(rec.audio_item_ids) == set(live_audio)
    roles = {rec.conversation.item(i).role for i in live_audio}  # type: ignore[union-attr]
    assert roles == {"user", "assistant"}  # both sides are saved
    for item_id, samples in live_audio.items():
        assert rec.item_audio(item_id).tobytes() == samples.tobytes()
    # the timeline of the recording knows what was played and the user's level
    assert rec.played_ms(cut.id) == 300.0
    expected = live.events.timeline(
        played_ms=played, audio_for=lambda i: live.conversation.item(i).audio()
    )
    assert _timeline_json(rec.timeline()) == _timeline_json(expected)
    # items keep their fields
    loaded_cut = rec.conversation.item(cut.id)
    assert loaded_cut is not None and loaded_cut.truncated_at_ms == cut.truncated_at_ms
    call = next(i for i in rec.conversation.items if i.type == "function_call")
    assert (call.name, json.loads(call.arguments or "")) == ("get_weather", {"city": "Paris"})
    assert set(rec.conversation.responses) == set(live.conversation.responses)


def test_from_session_reads_like_the_file_it_would_write(pair: MemoryPair, tmp_path: Path) -> None:
    direct = Recording.from_session(pair.client)
    loaded = load(direct.save(tmp_path / "a.rtnb"))
    assert loaded.events.to_records() == direct.events.to_records()
    assert loaded.manifest == direct.manifest
    assert loaded.transcript == direct.transcript
    # saving the same data twice gives the same bytes (fixed zip dates, sorted nothing random)
    again = direct.save(tmp_path / "b.rtnb")
    assert (tmp_path / "a.rtnb").read_bytes() == again.read_bytes()


def test_the_manifest_says_what_was_saved_and_what_was_not(pair: MemoryPair) -> None:
    m = Recording.from_session(pair.client, endpoint="stand-in").manifest
    assert m["format"] == "realtime-nb-session" and m["format_version"] == FORMAT_VERSION
    assert set(m["written_by"]) == {"realtime_nb", "python", "numpy"}
    assert m["model"] == pair.client.session_config["model"] and m["endpoint"] == "stand-in"
    assert m["session_config"] == _json(pair.client.session_config)
    assert m["counts"]["rows"] == len(pair.client.events)
    assert m["not_included"]["evicted_rows"] == 0
    assert all(e["member"] == f"audio/{e['item_id']}.wav" for e in m["audio"])


def test_evicted_rows_are_counted_and_turns_stay_exact(tmp_path: Path) -> None:
    from realtime_nb.client_protocol import ClientProtocol

    small = MemoryPair(ClientProtocol(max_rows=40), responder=make_v1._responder)
    for text in ("one", "two", "three"):
        small.request(realtime_nb.protocol.item_create(realtime_nb.protocol.user_text_item(text)))
        small.request(realtime_nb.protocol.response_create(None))
        small.run()
    live = small.client.events
    assert live.evicted > 0
    rec = load(Recording.from_session(small.client).save(tmp_path / "s.rtnb"))
    assert rec.manifest["not_included"]["evicted_rows"] == live.evicted
    assert rec.manifest["not_included"]["max_rows"] == 40
    assert len(rec.events) == len(live) and rec.events.evicted == live.evicted
    assert [t.to_dict() for t in rec.events.turns()] == [t.to_dict() for t in live.turns()]
    assert rec.events.totals() == live.totals()


def test_the_key_never_reaches_the_file(tmp_path: Path) -> None:
    from realtime_nb.server import LocalServer

    secret = "sk-test-NEVER-IN-A-FILE-0123456789"
    with (
        LocalServer(audio_speed=math.inf) as srv,
        realtime_nb.Session(srv.url, api_key=secret) as s,
    ):
        s.ask("hi")
        path = s.save(tmp_path / "k.rtnb")
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            assert secret.encode() not in zf.read(name), name
    rec = load(path)
    assert rec.manifest["endpoint"] == "stand-in"
    assert rec.transcript[0] == ("user", "hi")


# --- a file written today loads tomorrow -------------------------------------------------------
#: sha256 of each audio item in tests/fixtures/recordings/v1-session.rtnb, in conversation order
V1_AUDIO = [
    ("user", 11520, "b39d8ea3b6522f1753b77ada7b5a5eef3a9f8c3ad919ca5c6134f014cd3a1403"),
    ("assistant", 23040, "08557aa483c5896e2666393e9eb590169d23933e8b5a14d3643a7e07e1e91e3c"),
    ("user", 16080, "ea9f8d50a66be42350474977db9a2f7678719f140c8117e63991a2e47b1b8b70"),
    ("assistant", 7200, "bffe343c84626e221676c6b055e77d034d2560f2c2e0f649f549897f0197aee0"),
    ("user", 14160, "4ef40fa13b825c5cc9707f0b8623148e3ccd1e631138216014ef0552891e2bba"),
    ("assistant", 23040, "336254144673f1d1aa590900df4e3e7abf795ac5c746a26062868670d230d66b"),
    ("assistant", 7200, "1f5b9fe921fcd3a0f18f5ce3b44424156f74e90149d76546d1e7e81b3af183b0"),
    ("assistant", 8640, "520663ee22e9b137883cdc116a2e4f6cacabb12f7bbd3786dc502e4d358f45f3"),
]


def test_the_committed_format_1_file_still_loads() -> None:
    rec = load(FIXTURE)
    assert rec.manifest["format_version"] == 1
    assert rec.manifest["created"] == "2026-01-01T00:00:00+00:00"
    assert rec.transcript == [
        ("user", ""), ("assistant", "Yes, I see that."),
        ("user", ""), ("assistant", "Yes,"),
        ("user", ""), ("assistant", "Yes, I see that."),
        ("user", "What is the weather in Paris?"), ("assistant", "Okay."),
        ("assistant", "Sunny."),
    ]  # fmt: skip
    turns = rec.turns_dataframe()
    assert list(turns["input"]) == ["speech", "speech", "speech", "text"]
    assert list(turns["interrupted"]) == [False, True, False, False]
    assert list(turns["heard"]) == ["Yes, I see that.", "Yes,", "Yes, I see that.", "Okay. Sunny."]
    assert list(turns["responses"]) == [1, 1, 1, 2]
    assert turns["tools"].iloc[3] == "get_weather(ok)"
    assert turns["truncated_at_ms"].iloc[1] == 300.0
    assert len(rec.events) == 226 and rec.events.counts["response.done"] == 5
    assert rec.events.totals()["total_tokens"] == 672
    audio = [
        (i.role, i.audio().size, hashlib.sha256(i.audio().tobytes()).hexdigest())
        for i in rec.conversation.items
        if i.audio().size
    ]
    assert audio == V1_AUDIO
    cut = rec.conversation.items[3]
    assert rec.played_ms(cut.id) == 300.0 and cut.truncated_at_ms == 300
    assert len(rec.timeline()) == 4


# --- a fresh kernel ----------------------------------------------------------------------------
_SUMMARY = """
def summary(source):
    import hashlib, json
    conv, log = source.conversation, source.events
    return json.dumps({
        "rows": json.loads(json.dumps(log.to_records(), default=str)),
        "transcript": conv.transcript(),
        "turns": log.turns_dataframe().to_json(),
        "timeline": [t.to_dict() for t in log.timeline()],
        "audio": {i.id: hashlib.sha256(i.audio().tobytes()).hexdigest()
                  for i in conv.items if i.audio().size},
    }, default=str, sort_keys=True)
"""

_SAVE = (
    _SUMMARY
    + """
import math, sys
import realtime_nb
from realtime_nb.synth import utterance
with realtime_nb.Session(server_options={"audio_speed": math.inf}, offline=True) as s:
    s.ask("Hello there")
    after = s.events.last_seq
    s.send_audio(utterance(speech_s=0.5, lead_silence_s=0.1, tail_silence_s=0.8, seed=1),
                 sample_rate=24000)
    s.wait_for("response.done", after=after, timeout=30)
    s.save(sys.argv[1])
    print(summary(s))
"""
)

_LOAD = (
    _SUMMARY
    + """
import sys
import realtime_nb
print(summary(realtime_nb.load(sys.argv[1])))
"""
)


def _python(code: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, timeout=90, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_recording_saved_in_one_process_reads_the_same_in_a_fresh_one(tmp_path: Path) -> None:
    path = str(tmp_path / "fresh.rtnb")
    saved = json.loads(_python(_SAVE, path))
    loaded = json.loads(_python(_LOAD, path))
    assert len(saved["audio"]) >= 3 and len(saved["transcript"]) == 4
    assert loaded == saved


# --- errors -----------------------------------------------------------------------------------
def _rewrite(src: Path, dst: Path, change: Any) -> Path:
    """Copy a session file, passing each (name, bytes) through ``change`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return dst


def test_a_newer_format_version_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    def newer(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        m = json.loads(data)
        m["format_version"] = FORMAT_VERSION + 1
        m["written_by"]["realtime_nb"] = "9.0.0"
        return json.dumps(m).encode()

    path = _rewrite(FIXTURE, tmp_path / "newer.rtnb", newer)
    with pytest.raises(RecordingFormatError) as info:
        load(path)
    message = str(info.value)
    assert f"format {FORMAT_VERSION + 1}" in message and "realtime-nb 9.0.0" in message
    assert "pip install -U realtime-nb" in message and str(path) in message


def test_a_missing_member_is_named(tmp_path: Path) -> None:
    path = _rewrite(FIXTURE, tmp_path / "m.rtnb", lambda n, d: None if n == "events.jsonl" else d)
    with pytest.raises(RecordingFormatError, match=re.escape("'events.jsonl' is missing")):
        load(path)
    first_audio = load(FIXTURE).manifest["audio"][0]["member"]
    path = _rewrite(FIXTURE, tmp_path / "a.rtnb", lambda n, d: None if n == first_audio else d)
    with pytest.raises(RecordingFormatError, match=re.escape(f"'{first_audio}' is missing")):
        load(path)


def test_a_damaged_zip_is_refused_with_the_member_named(tmp_path: Path) -> None:
    raw = FIXTURE.read_bytes()
    cut = tmp_path / "cut.rtnb"
    cut.write_bytes(raw[: len(raw) // 2])  # the central directory is gone
    with pytest.raises(RecordingFormatError, match="not a zip archive"):
        load(cut)
    # flip bytes inside one member's compressed data: its CRC no longer matches
    with zipfile.ZipFile(FIXTURE) as zf:
        info = zf.getinfo("conversation.json")
    data = bytearray(raw)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 10, start + 20):
        data[k] ^= 0xFF
    bad = tmp_path / "bad.rtnb"
    bad.write_bytes(bytes(data))
    with pytest.raises(RecordingFormatError, match=re.escape("'conversation.json'")):
        load(bad)
    # a zip that is something else
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(RecordingFormatError, match="not a realtime-nb session file"):
        realtime_nb.recording.format.read(other.getvalue())


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path, pair: MemoryPair) -> None:
    rec = Recording.from_session(pair.client)
    target = tmp_path / "keep.rtnb"
    rec.save(target)
    before = target.read_bytes()
    rec._data.manifest["audio"].append({"item_id": "x", "member": None})  # breaks the writer
    with pytest.raises(AttributeError):
        rec.save(target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.rtnb"]


def test_asking_for_an_unknown_item_says_where_the_items_are() -> None:
    with pytest.raises(realtime_nb.UsageError, match=re.escape("conversation.items")):
        load(FIXTURE).item_audio("item_nope")


def test_the_repr_reads_as_a_summary() -> None:
    rec = load(FIXTURE)
    text = repr(rec)
    assert text.startswith("Recording 'v1-session.rtnb': gpt-realtime")
    assert "via stand-in" in text and "Yes, I see that." in text
    assert "<b>Recording" in rec._repr_html_()


# --- the widget --------------------------------------------------------------------------------
def test_the_widget_saves_what_the_speaker_played(tmp_path: Path) -> None:
    from realtime_nb import bridge
    from tests.test_widget import View, wait_until

    w = realtime_nb.RealtimeWidget(server_options={"audio_speed": math.inf})
    try:
        view = View(w)
        view.ready()
        w.ask("hello")
        item = next(i.id for i in w.conversation.items if i.role == "assistant")
        wait_until(lambda: view.of(bridge.AUDIO), what="the answer's audio")
        report = {"type": bridge.PLAYED, "item_id": item, "samples": 4800, "received": 4800}
        view.msg({**report, "reason": "progress"})
        wait_until(lambda: w.played_ms(item) == 200.0, what="the played report")
        path = w.save(tmp_path / "w.rtnb")
    finally:
        w.close()
    rec = load(path)
    assert rec.played_ms(item) == 200.0
    assert rec.manifest["played_ms"] == {item: 200.0}
    assert rec.transcript[0] == ("user", "hello")
    assert rec.item_audio(item).size > 4800
