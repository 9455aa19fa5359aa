"""The session file: a versioned zip of the log, the conversation and its audio (docs/recording.md).

Layout of format 1 (``.rtnb``, any name works):

- ``manifest.json``: ``format: "realtime-nb-session"``, ``format_version``, who wrote it
  (realtime-nb, Python, numpy versions), when, the model, the endpoint kind (never a URL with
  a key, never a header), the session config, counts, what is *not* included, and the list of
  audio members with the ms the speaker played per item when the widget knew it.
- ``events.jsonl``: every kept log row, one JSON object a line, payload as logged (audio
  already replaced by its ``{audio_bytes, ms}`` marker).
- ``events_state.json``: what the log keeps outside its rows (counts, byte totals, per-response
  timings and usage), so turns, usage and totals stay exact when rows were evicted.
- ``conversation.json``: the conversation's items and responses, without audio.
- ``audio/<item_id>.wav``: each item's audio, user and assistant, PCM16 mono 24 kHz WAV.

Versioning: ``format_version`` is a major number. A reader reads its own version and every
older one, and refuses a newer one with :class:`RecordingFormatError` saying which realtime-nb
can read it; additions that old readers can ignore (new keys, new members) keep the number.

Pure apart from the file itself: no clock (the creation time is passed in), no network.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..audio import read_wav, wav_bytes
from ..errors import AudioFormatError, RealtimeError
from ..protocol import SAMPLE_RATE

FORMAT_NAME = "realtime-nb-session"
#: The newest format this realtime-nb writes and reads (it reads every older one too).
FORMAT_VERSION = 1
#: Oldest realtime-nb release that writes each format version (for the "upgrade" message).
WRITTEN_SINCE = {1: "0.1.0"}

MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
EVENTS_STATE = "events_state.json"
CONVERSATION = "conversation.json"
AUDIO_DIR = "audio/"

_SAFE_ID = re.compile(r"[A-Za-z0-9_.-]{1,120}")
#: Zip entries carry a date; a fixed one keeps files written from the same data identical.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class RecordingFormatError(RealtimeError, ValueError):
    """A session file that cannot be read: not a session file, damaged, or from a newer version.

    The message names the file and the member at fault, and what to do (upgrade realtime-nb,
    or save the session again).
    """


@dataclass(slots=True)
class RecordingData:
    """Everything a session file holds, in memory: what :func:`write` stores and :func:`read`
    gives back. ``audio`` maps item id → PCM16 24 kHz bytes."""

    manifest: dict[str, Any]
    records: list[dict[str, Any]]
    events_state: dict[str, Any]
    conversation: dict[str, Any]
    audio: dict[str, bytes] = field(default_factory=dict)


def audio_member(item_id: str, index: int) -> str:
    """The zip member for an item's audio: its id when that is a safe file name."""
    name = item_id if _SAFE_ID.fullmatch(item_id) and item_id not in (".", "..") else None
    return f"{AUDIO_DIR}{name or f'item-{index}'}.wav"


def _json(value: Any) -> bytes:
    # ensure_ascii keeps lone surrogates (a cut emoji in a delta) as escapes: exact round trip
    return json.dumps(value, ensure_ascii=True, default=str, separators=(",", ":")).encode()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write_zip(data: RecordingData, target: IO[bytes]) -> None:
    """Write the session file's zip to an open binary file."""
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr(_entry(MANIFEST), json.dumps(data.manifest, indent=1, default=str))
        events = io.BytesIO()
        for record in data.records:
            events.write(_json(record))
            events.write(b"\n")
        zf.writestr(_entry(EVENTS), events.getvalue())
        zf.writestr(_entry(EVENTS_STATE), _json(data.events_state))
        zf.writestr(_entry(CONVERSATION), _json(data.conversation))
        for entry in data.manifest.get("audio", ()):
            pcm = data.audio.get(entry["item_id"], b"")
            samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2)
            # level 1: nearly the ratio of level 6 on speech (10-40 %) at several times the speed
            zf.writestr(_entry(entry["member"]), wav_bytes(samples, SAMPLE_RATE), compresslevel=1)


def write(data: RecordingData, path: str | os.PathLike[str]) -> Path:
    """Write a session file atomically (a temporary file beside it, then a rename).

    A crash or a full disk leaves either the old file or none, never half a file.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write_zip(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def read(source: str | os.PathLike[str] | bytes | IO[bytes]) -> RecordingData:
    """Read a session file (a path, its bytes, or an open binary file).

    Raises:
        RecordingFormatError: not a zip or not a session file, a newer ``format_version``, a
            missing or damaged member (named in the message).
        FileNotFoundError: no such file.
    """
    label = str(source) if isinstance(source, str | os.PathLike) else "the session file"
    handle: Any = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        zf = zipfile.ZipFile(handle)
    except zipfile.BadZipFile as exc:
        raise RecordingFormatError(
            f"{label} is not a realtime-nb session file (it is not a zip archive: {exc}). "
            "Save the session again with s.save(path)."
        ) from None
    with zf:
        if MANIFEST not in zf.namelist():
            raise RecordingFormatError(
                f"{label} is a zip archive but not a realtime-nb session file (it has no "
                f"{MANIFEST}). Session files are written by s.save(path)."
            )
        manifest = _read_json(zf, MANIFEST, label)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise RecordingFormatError(
                f"{label} is a zip archive but not a realtime-nb session file: its {MANIFEST} "
                f"does not say format={FORMAT_NAME!r}."
            )
        version = manifest.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise RecordingFormatError(
                f"{label}: {MANIFEST} has no valid format_version ({version!r})."
            )
        if version > FORMAT_VERSION:
            by = _written_by(manifest)
            raise RecordingFormatError(
                f"{label} uses session format {version}{by}; this realtime-nb reads format "
                f"{FORMAT_VERSION} and older. Upgrade to read it: pip install -U realtime-nb."
            )
        records = _read_jsonl(zf, EVENTS, label)
        events_state = _read_json(zf, EVENTS_STATE, label)
        conversation = _read_json(zf, CONVERSATION, label)
        if not isinstance(events_state, dict) or not isinstance(conversation, dict):
            raise RecordingFormatError(
                f"{label}: {EVENTS_STATE} and {CONVERSATION} must each hold a JSON object."
            )
        audio: dict[str, bytes] = {}
        for entry in manifest.get("audio") or ():
            member = entry.get("member") if isinstance(entry, dict) else None
            item_id = entry.get("item_id") if isinstance(entry, dict) else None
            if not isinstance(member, str) or not isinstance(item_id, str):
                raise RecordingFormatError(f"{label}: a {MANIFEST} audio entry is malformed.")
            audio[item_id] = _read_audio(zf, member, label)
    return RecordingData(manifest, records, events_state, conversation, audio)


def _written_by(manifest: dict[str, Any]) -> str:
    writer = manifest.get("written_by")
    version = writer.get("realtime_nb") if isinstance(writer, dict) else None
    return f" (written by realtime-nb {version})" if isinstance(version, str) else ""


def _member(zf: zipfile.ZipFile, name: str, label: str) -> bytes:
    try:
        return zf.read(name)
    except KeyError:
        raise RecordingFormatError(
            f"{label} is incomplete: the member {name!r} is missing. The file was cut short "
            "or edited; save the session again."
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise RecordingFormatError(
            f"{label} is damaged: the member {name!r} cannot be read ({exc}). "
            "Save the session again."
        ) from None


def _read_json(zf: zipfile.ZipFile, name: str, label: str) -> Any:
    raw = _member(zf, name, label)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordingFormatError(
            f"{label} is damaged: {name!r} is not valid JSON ({exc})."
        ) from None


def _read_jsonl(zf: zipfile.ZipFile, name: str, label: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for number, line in enumerate(_member(zf, name, label).splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecordingFormatError(
                f"{label} is damaged: line {number} of {name!r} is not valid JSON ({exc})."
            ) from None
        if not isinstance(record, dict) or not {"seq", "t", "wall", "type"} <= record.keys():
            raise RecordingFormatError(
                f"{label}: line {number} of {name!r} is not an event row (seq, t, wall, type)."
            )
        out.append(record)
    return out


def _read_audio(zf: zipfile.ZipFile, name: str, label: str) -> bytes:
    raw = _member(zf, name, label)
    try:
        samples, rate = read_wav(raw)
    except AudioFormatError as exc:
        raise RecordingFormatError(f"{label} is damaged: {name!r} is not a WAV ({exc}).") from None
    if rate != SAMPLE_RATE or samples.ndim != 1 or samples.dtype != np.int16:
        raise RecordingFormatError(
            f"{label}: {name!r} is {rate} Hz {samples.dtype} with shape {samples.shape}; "
            f"session files hold mono 16-bit {SAMPLE_RATE} Hz audio."
        )
    return samples.astype("<i2", copy=False).tobytes()
