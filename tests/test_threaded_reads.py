"""Reading a live session's log and state from the notebook thread while events stream in.

The socket's loop thread appends rows and applies events while a cell reads ``s.events`` and
``s.conversation`` on the main thread; every read API must work at any moment (a reproduced
defect: "deque mutated during iteration" on 397 of 51,603 reads).
"""

from __future__ import annotations

import math
import threading
import time

from realtime_nb import Session
from realtime_nb.server import LocalServer
from realtime_nb.synth import utterance


def test_reads_from_another_thread_never_fail_while_events_stream() -> None:
    errors: list[BaseException] = []
    reads = 0
    with LocalServer(audio_speed=math.inf) as srv, Session(srv.url, max_rows=2_000) as s:
        stop = threading.Event()

        def stream() -> None:
            speech = utterance(speech_s=0.6, lead_silence_s=0.1, tail_silence_s=0.5, seed=3)
            try:
                while not stop.is_set():
                    s.send_audio(speech, 24_000, chunk_ms=20)
                    s.ask("and again", output_modalities=["text"])
            except BaseException as exc:
                errors.append(exc)

        writer = threading.Thread(target=stream, daemon=True)
        writer.start()
        end = time.monotonic() + 3.0
        try:
            while time.monotonic() < end:
                events, conversation = s.events, s.conversation
                try:
                    for row in events:
                        row.summary  # noqa: B018 - reading is the point
                    events.to_records()
                    events.coalesced()
                    events.tail_coalesced(50)
                    events._repr_html_()
                    events.filter(type="input_audio_buffer.append")
                    events.since(max(events.last_seq - 100, 0))
                    events.turns()
                    events.usage()
                    conversation.transcript()
                    for item in list(conversation.items):
                        conversation.item(item.id)
                    s.transcript  # noqa: B018
                    reads += 1
                except Exception as exc:  # what the defect looked like
                    errors.append(exc)
        finally:
            stop.set()
            writer.join(30)
    assert errors == []
    assert reads > 20
