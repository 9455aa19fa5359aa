"""The main job: `python -m realtime_nb demo` runs offline, prints the tables, writes the WAVs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from realtime_nb.audio import read_wav


def test_demo_runs_offline_and_writes_audio(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "realtime_nb", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "Connected to the offline stand-in" in text
    assert text.count("← completed") == 2 and "→ completed" in text
    for needle in ("input_audio_buffer.speech_stopped", "response.done", "rate_limits.updated"):
        assert needle in text
    assert "Usage:" in text and "Turns:" in text
    names = sorted(p.name for p in out.glob("*.wav"))
    assert names == [
        "turn1_assistant.wav",
        "turn2_assistant.wav",
        "turn2_user.wav",
        "turn3_assistant.wav",
        "turn3_user.wav",
    ]
    user, rate = read_wav(out / "turn3_user.wav")
    answer, rate2 = read_wav(out / "turn3_assistant.wav")
    assert rate == rate2 == 24_000
    # the echo stand-in answers a push-to-talk turn with exactly the committed audio
    assert len(answer) == len(user)
