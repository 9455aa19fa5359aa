"""Render the timeline figures in docs/ from a real stand-in conversation.

The conversation runs on the stand-in's own state machine joined to the client protocol in
memory (``realtime_nb.testing.MemoryPair``), on a virtual clock with audio paced in real time:
two voice turns (the second cut by a barge-in after 600 ms of playback, as the widget's
truncate would), the barge-in's own turn (with a stray ``response.cancel`` that the server
refuses), and a typed question answered through a tool round (``get_weather``, 300 ms in the
function). The stand-in "thinks" 450 ms before each response's first output
(``think_s``), standing in for a model's time to first audio; the VAD's silence wait is real.

    python benchmarks/render_timeline_figures.py   # docs/timeline-turns.png, docs/timeline.png
"""

from __future__ import annotations

import json
from pathlib import Path

from realtime_nb import protocol
from realtime_nb.server import Reply
from realtime_nb.synth import utterance
from realtime_nb.testing import MemoryPair

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _responder(ctx) -> Reply:
    if ctx.items and ctx.items[-1].get("type") == "function_call_output":
        return Reply(text="It is sunny in Paris, twenty degrees.")
    if "weather" in (ctx.last_user_text or ""):
        return Reply(text="Let me check.", function_calls=[("get_weather", {"city": "Paris"})])
    return Reply(text="Here is a fairly long answer that goes on for a while, long enough to cut.")


def _speak(pair: MemoryPair, speech_s: float, tail_s: float, seed: int) -> None:
    samples = utterance(speech_s=speech_s, lead_silence_s=0.2, tail_silence_s=tail_s, seed=seed)
    for i in range(0, len(samples), 960):
        frame = pair.client.append_event(samples[i : i + 960].tobytes())
        if frame is not None:
            pair.send(frame)
        pair.advance(0.04)


def record() -> MemoryPair:
    """The conversation described in the module docstring."""
    pair = MemoryPair(audio_speed=1.0, responder=_responder, think_s=0.45)
    _speak(pair, 1.2, 0.8, seed=1)
    pair.run()
    _speak(pair, 0.9, 0.6, seed=2)
    for _ in range(16):  # the answer starts after the model's think time, then plays a while
        pair.advance(0.04)  # small steps: events carry the time they were due
    _speak(pair, 0.7, 0.0, seed=3)  # barge-in while the answer plays
    cut = [i for i in pair.client.conversation.items if i.role == "assistant"][-1]
    pair.request(protocol.item_truncate(cut.id, 600, 0))
    _speak(pair, 0.0, 0.6, seed=4)
    pair.run()
    pair.request(protocol.response_cancel())  # nothing is running: the server says so
    off = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
    pair.request(protocol.session_update(off))
    pair.request(protocol.item_create(protocol.user_text_item("What is the weather in Paris?")))
    pair.request(protocol.response_create(None))
    pair.run()
    call = next(i for i in pair.client.conversation.items if i.type == "function_call")
    ids = {"call_id": call.call_id, "name": call.name}
    pair.client.local("local.tool_call", {**ids, "arguments": call.arguments}, pair.now, pair.now)
    pair.advance(0.3)
    output = json.dumps({"temperature_c": 20, "sky": "sunny"})
    pair.client.local("local.tool_result", {**ids, "status": "ok", "output": output}, pair.now,
                      pair.now)  # fmt: skip
    pair.request(protocol.item_create(protocol.function_call_output_item(call.call_id, output)))
    pair.request(protocol.response_create(None))
    pair.run()
    return pair


def main() -> None:
    pair = record()
    conv = pair.client.conversation

    def audio_for(item_id: str):
        item = conv.item(item_id)
        return item.audio() if item is not None else None

    log = pair.client.events
    log.plot_turns(audio_for=audio_for).savefig(DOCS / "timeline-turns.png", dpi=110)
    log.plot_timeline(audio_for=audio_for).savefig(DOCS / "timeline.png", dpi=110)
    print(log.turns_dataframe().drop(columns=["generated"]).to_string())
    print(f"wrote {DOCS / 'timeline-turns.png'} and {DOCS / 'timeline.png'}")


if __name__ == "__main__":
    main()
