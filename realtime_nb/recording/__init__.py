"""Session files: save a session (events, conversation, audio) and read it back without a server.

``s.save("call.rtnb")`` (a :class:`~realtime_nb.RealtimeSession`, a
:class:`~realtime_nb.Session` or the widget) writes one zip; :func:`load` gives back a
read-only :class:`Recording` with the same ``events``, ``conversation``, transcript, tables,
timeline and audio. Modules: ``format`` (the versioned zip layout, writer and reader),
``recording`` (:class:`Recording`). The format and its versioning rule are in
docs/recording.md.

Pure apart from reading and writing the file itself: no clock, no loop, no network.
"""

from __future__ import annotations

from .format import FORMAT_NAME, FORMAT_VERSION, RecordingData, RecordingFormatError
from .recording import Recording, load, snapshot

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Recording",
    "RecordingData",
    "RecordingFormatError",
    "load",
    "snapshot",
]
