"""How long the turn timeline takes on a long log (the widget rebuilds it up to twice a second).

Records a real stand-in conversation (VAD turns with mic frames, a barge-in, typed turns) on a
virtual clock, repeats it until the log holds the wanted number of rows, then times
``build_turns`` (whole log), ``assign_turns``, and an incremental ``TurnTracker`` fed only the
new rows. Target: well under 20 ms for 5,000 rows.

    python benchmarks/bench_timeline.py [rows ...]
"""

from __future__ import annotations

import statistics
import sys
import timeit

from realtime_nb import protocol
from realtime_nb.events import EventLog
from realtime_nb.server import Reply
from realtime_nb.synth import utterance
from realtime_nb.testing import MemoryPair
from realtime_nb.timeline import TurnTracker, assign_turns, build_turns


def _responder(ctx) -> Reply:
    return Reply(text="A short answer that goes on for a few words.")


def record_rows(target: int) -> list:
    """A stand-in conversation of at least ``target`` rows (VAD turns, then typed turns)."""
    pair = MemoryPair(audio_speed=1.0, responder=_responder)
    speech = utterance(speech_s=0.8, lead_silence_s=0.2, tail_silence_s=0.8, seed=1)
    log: EventLog = pair.client.events
    turn = 0
    while log.last_seq < target:
        turn += 1
        if turn % 4:
            for i in range(0, len(speech), 960):
                frame = pair.client.append_event(speech[i : i + 960].tobytes())
                if frame is not None:
                    pair.send(frame)
                pair.advance(0.04)
        else:
            pair.request(protocol.item_create(protocol.user_text_item(f"question {turn}")))
            pair.request(protocol.response_create(None))
        pair.run()
    return log.rows[:target]


def _ms(fn, number: int = 20) -> tuple[float, float]:
    runs = [t / number * 1000 for t in timeit.repeat(fn, number=number, repeat=5)]
    return min(runs), statistics.median(runs)


def main(sizes: list[int]) -> None:
    print(f"{'rows':>7} {'turns':>6} {'build_turns':>16} {'assign_turns':>16} {'incremental':>16}")
    for n in sizes:
        rows = record_rows(n)
        turns = len(build_turns(rows))
        build = _ms(lambda rows=rows: build_turns(rows))
        assign = _ms(lambda rows=rows: assign_turns(rows))
        tracker = TurnTracker()
        tracker.feed(rows[:-50])
        tail = rows[-50:]

        def incremental(tracker=tracker, tail=tail) -> None:
            tracker.last_seq = tail[0].seq - 1  # feed the newest 50 rows again, then read
            tracker.feed(tail)
            tracker.timelines()

        inc = _ms(incremental, number=50)
        print(
            f"{n:>7} {turns:>6} {build[0]:>7.2f} / {build[1]:>5.2f} ms"
            f" {assign[0]:>7.2f} / {assign[1]:>5.2f} ms {inc[0]:>7.3f} / {inc[1]:>5.3f} ms"
        )
    print("(min / median per call; incremental = 50 new rows fed, then every turn read)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 5_000, 20_000])
