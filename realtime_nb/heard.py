"""What part of a transcript was heard when its audio was cut: one rule for client and server.

A barge-in truncates an assistant item at ``audio_end_ms``; the transcript must be cut to match
(the API does so on its side; the client's conversation and the stand-in must agree with each
other, or the "heard vs generated" view and the server's ``response.done`` would differ). The
rule: keep the same fraction of the characters as of the audio, rounded down, then back to the
end of the last whole word.

Pure.
"""

from __future__ import annotations


def heard_prefix(transcript: str, fraction: float) -> str:
    """The start of ``transcript`` covering ``fraction`` of it, cut back to a word boundary."""
    if fraction >= 1.0:
        return transcript
    n = int(len(transcript) * max(fraction, 0.0))
    if n < len(transcript) and not transcript[n].isspace():
        while n > 0 and not transcript[n - 1].isspace():
            n -= 1
    return transcript[:n].rstrip()


__all__ = ["heard_prefix"]
