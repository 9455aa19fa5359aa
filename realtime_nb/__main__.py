"""``python -m realtime_nb demo``: a short voice and text conversation, offline by default.

It starts the local stand-in server in-process (unless ``--url`` or an API key is given), holds
a text turn, a server-VAD voice turn and a push-to-talk turn with generated speech-like audio,
prints the event table and a turn summary, and writes every turn's audio to WAV files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from .audio import SAMPLE_RATE, write_wav
from .models import DEFAULT_MODEL
from .synth import utterance


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    limit = shutil.get_terminal_size((140, 40)).columns
    last = max(10, limit - sum(widths[:-1]) - 2 * (len(widths) - 1))
    widths[-1] = min(widths[-1], last)

    def fmt(cells: list[str]) -> str:
        return "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([fmt(headers), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)])


_ARROW = {"client": "→", "server": "←", "local": "•"}


def event_table(session: Any) -> str:
    rows = [
        [
            str(r.first_seq),
            f"{r.t:7.3f}",
            _ARROW.get(r.direction, "?"),
            r.type,
            f"{r.size}",
            r.summary.removeprefix(r.type).strip(),  # the type has its own column
        ]
        for r in session.events.coalesced()
    ]
    return _table(rows, ["seq", "t (s)", "", "type", "bytes", "summary"])


def turn_table(session: Any) -> str:
    rows = []
    for turn in session.events.turns():

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.0f}"

        rows.append(
            [
                turn.response_id,
                turn.status or "-",
                ms(turn.created_ms),
                ms(turn.first_audio_ms),
                ms(turn.total_ms),
            ]
        )
    return _table(rows, ["response", "status", "stop→created ms", "→first audio ms", "total ms"])


def run_demo(args: argparse.Namespace) -> int:
    from .sync import Session

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {}
    if args.url is None and not os.environ.get("OPENAI_API_KEY"):
        options["server_options"] = {"responder": "echo", "audio_speed": 20.0}
    with Session(args.url, model=args.model, **options) as s:
        where = "the offline stand-in" if s.offline else s.async_session.endpoint.display_url
        print(f"Connected to {where} (session {s.session_config.get('id')})\n")
        s.update_session(
            instructions="You are a friendly demo voice.",
            audio={"output": {"voice": "alloy"}},
        )

        print("1. Text turn: ask('Hello! What can you do?')")
        r1 = s.ask("Hello! What can you do?")
        print(f"   ← {r1.status}: {r1.transcript or r1.text!r} ({r1.audio_ms:.0f} ms of audio)")
        r1.save_wav(out / "turn1_assistant.wav")

        print("2. Voice turn with server VAD: 1.6 s of speech-like audio, then silence")
        speech = utterance(speech_s=1.6, lead_silence_s=0.3, tail_silence_s=0.9, seed=1)
        write_wav(out / "turn2_user.wav", speech, SAMPLE_RATE)
        mark = s.events.last_seq
        s.send_audio(speech, SAMPLE_RATE, realtime=False)
        done = s.wait_for("response.done", timeout=30, after=mark)
        r2 = s.async_session.response(done["response"]["id"])
        print(f"   ← {r2.status}: {r2.transcript!r} ({r2.audio_ms:.0f} ms of audio)")
        r2.save_wav(out / "turn2_assistant.wav")

        print("3. Push-to-talk turn: turn_detection=None, commit, response.create")
        s.update_session(audio={"input": {"turn_detection": None}})
        s.clear_audio()  # drop the silence the VAD turn left in the input buffer
        speech3 = utterance(speech_s=1.0, lead_silence_s=0.1, tail_silence_s=0.1, seed=2)
        write_wav(out / "turn3_user.wav", speech3, SAMPLE_RATE)
        s.send_audio(speech3, SAMPLE_RATE)
        item_id = s.commit()
        r3 = s.ask(None)
        print(f"   user item {item_id} → {r3.status}: {r3.transcript!r}")
        r3.save_wav(out / "turn3_assistant.wav")

        print("\nEvent table (audio runs coalesced):\n")
        print(event_table(s))
        print("\nTurns:\n")
        print(turn_table(s))
        usage = s.events.usage()
        total = sum(u.cost_usd or 0 for u in usage)
        tokens = sum(u.total_tokens or 0 for u in usage)
        print(
            f"\nUsage: {tokens} tokens over {len(usage)} responses, ≈ ${total:.4f} at list prices"
        )
        print("\nTranscript:")
        for item in s.conversation.items:
            if item.type != "message":
                continue
            said = item.heard_transcript or item.transcript or item.text
            if not said and item.audio_ms:
                said = f"(audio, {item.audio_ms / 1000:.1f} s, no transcription configured)"
            print(f"  {item.role:>9}: {said}")
        print(f"\nWAV files written to {out.resolve()}/")
        wire = s.events.bytes_by_direction
        print(
            f"{len(s.events)} events logged; {wire['client']} bytes sent, {wire['server']} received"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m realtime_nb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a short offline conversation and print the events")
    demo.add_argument("--url", default=None, help="a Realtime server URL (default: the stand-in)")
    demo.add_argument("--model", default=DEFAULT_MODEL)
    demo.add_argument("--out", default="demo-output", help="folder for the WAV files")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
