"""Turn timelines as matplotlib figures, for tutorials, saved notebooks and docs.

matplotlib is imported inside the functions (optional: ``pip install 'realtime-nb[plot]'``).
The figures are plain: they only draw, return the Figure, and never show or save it (a
notebook shows a returned Figure; ``fig.savefig(...)`` writes it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import UsageError
from .model import TurnTimeline

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Lanes from top to bottom: name → y centre.
LANES: dict[str, float] = {"you": 3.0, "model": 2.0, "audio": 1.0, "tools": 0.0}
_H = 0.5  # bar height
_C = {
    "speech": "#93c5fd",
    "level": "#1d4ed8",
    "response": "#16a34a",
    "cancelled": "#dc2626",
    "received": "#bbf7d0",
    "played": "#15803d",
    "cut": "#dc2626",
    "ok": "#0d9488",
    "error": "#dc2626",
    "pending": "#9ca3af",
    "mark": "#374151",
    "shade": "#f3f4f6",
}


def new_figure(width: float, height: float) -> Figure:
    """A figure pyplot does not keep (a notebook shows the returned figure once, not twice)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(
            "matplotlib is needed for figures: pip install 'realtime-nb[plot]'"
        ) from None
    fig = plt.figure(figsize=(width, height), layout="constrained")
    plt.close(fig)  # still drawable and savable; pyplot just forgets it
    return fig


def _clip(text: str | None, n: int = 48) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


def turn_title(turn: TurnTimeline) -> str:
    """One line saying what the turn was and how long each stage took."""
    said = _clip(turn.user_text) if turn.user_text else (turn.input_kind or "no input")
    lat = turn.latency_ms
    bits = [
        f"turn {turn.turn}: {said!r}" if turn.user_text else f"turn {turn.turn}: ({said})",
        f"speech end→created {_ms(lat.get('speech_end_to_created'))}",
        f"→first audio {_ms(lat.get('created_to_first_audio'))}",
    ]
    cut = next((r.truncated_at_ms for r in turn.responses if r.truncated_at_ms is not None), None)
    if cut is not None:
        bits.append(f"cut at {cut:,.0f} ms")
    if turn.errors:
        bits.append(f"{len(turn.errors)} error{'s' if len(turn.errors) > 1 else ''}")
    return " · ".join(bits)


def draw_turn(ax: Axes, turn: TurnTimeline, t0: float = 0.0, *, labels: bool = True) -> None:
    """Draw one turn's lanes on ``ax`` (x: seconds since ``t0``)."""
    end_of_turn = turn.end - t0
    you, model, audio, tools = (LANES[k] for k in ("you", "model", "audio", "tools"))
    # you: speech spans, level envelope, VAD marks
    for start, stop in turn.speech:
        stop_x = (stop if stop is not None else turn.end) - t0
        ax.barh(you, stop_x - (start - t0), left=start - t0, height=_H, color=_C["speech"],
                alpha=0.6, linewidth=0)  # fmt: skip
    if turn.level:
        peak = max(v for _, v in turn.level) or 1.0
        xs = [t - t0 for t, _ in turn.level]
        ys = [v / peak * _H * 0.9 for _, v in turn.level]
        ax.fill_between(xs, [you - y for y in ys], [you + y for y in ys], color=_C["level"],
                        alpha=0.8, linewidth=0)  # fmt: skip
    for mark in turn.marks:
        x = mark.t - t0
        if mark.kind == "speech_started":
            ax.plot([x], [you + _H * 0.75], marker="v", color=_C["mark"], markersize=6)
        elif mark.kind == "speech_stopped":
            ax.plot([x], [you + _H * 0.75], marker="v", color=_C["mark"], markersize=6,
                    markerfacecolor="white")  # fmt: skip
            if labels:
                ax.annotate("speech stopped", (x, you + _H * 0.75), xytext=(3, 4),
                            textcoords="offset points", fontsize=7, color=_C["mark"])  # fmt: skip
        elif mark.kind == "committed":
            ax.plot([x, x], [you - _H / 2, you + _H / 2], color=_C["mark"], linewidth=1)
        elif mark.kind == "error":
            ax.plot([x], [model + _H * 0.9], marker="X", color=_C["error"], markersize=9)
            if labels:
                ax.annotate(mark.label, (x, model + _H * 0.9), xytext=(5, 0),
                            textcoords="offset points", fontsize=7, color=_C["error"],
                            va="center")  # fmt: skip
    # model: response spans with the first audio; audio: received vs played, the cut
    for r in turn.responses:
        if r.start is None:
            continue
        x0 = r.start - t0
        x1 = (r.end - t0) if r.end is not None else end_of_turn
        color = _C["cancelled"] if r.status in ("cancelled", "failed") else _C["response"]
        ax.barh(model, max(x1 - x0, 0.004), left=x0, height=_H, color=color, alpha=0.35,
                edgecolor=color, linewidth=1)  # fmt: skip
        if labels and r.status not in (None, "completed"):
            ax.annotate(r.status, (x1, model), xytext=(3, 0), textcoords="offset points",
                        fontsize=7, color=color, va="center")  # fmt: skip
        if r.first_audio is None:
            continue
        fa = r.first_audio - t0
        ax.plot([fa], [model], marker="o", color=_C["played"], markersize=5)
        ax.barh(audio, r.audio_received_ms / 1000, left=fa, height=_H, color=_C["received"],
                linewidth=0)  # fmt: skip
        if r.audio_played_ms is not None:
            ax.barh(audio, r.audio_played_ms / 1000, left=fa, height=_H * 0.6,
                    color=_C["played"], linewidth=0)  # fmt: skip
        if r.truncated_at_ms is not None:
            cx = fa + r.truncated_at_ms / 1000
            ax.plot([cx, cx], [audio - _H * 0.8, audio + _H * 0.8], color=_C["cut"], linewidth=2)
            if labels:
                ax.annotate(f"✂ cut at {r.truncated_at_ms:,.0f} ms", (cx, audio + _H * 0.8),
                            xytext=(3, 1), textcoords="offset points", fontsize=7,
                            color=_C["cut"])  # fmt: skip
    # tools: one span per call
    for tool in turn.tools:
        x0 = tool.start - t0
        x1 = (tool.end - t0) if tool.end is not None else end_of_turn
        color = _C[tool.status]
        ax.barh(tools, max(x1 - x0, 0.004), left=x0, height=_H, color=color, alpha=0.8,
                linewidth=0)  # fmt: skip
        if labels:
            name = f"{tool.name or 'tool'} ({tool.status})"
            ax.annotate(name, (x1, tools), xytext=(3, 0), textcoords="offset points",
                        fontsize=7, color=color, va="center")  # fmt: skip


def _style(ax: Axes) -> None:
    ax.set_yticks(list(LANES.values()), list(LANES))
    ax.set_ylim(-0.6, 3.75)
    ax.grid(axis="x", color="#e5e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)


def plot_turns(
    turns: Sequence[TurnTimeline],
    t0: float = 0.0,
    *,
    last: int | None = 8,
    width: float = 11.0,
) -> Figure:
    """One panel of lanes per turn (the last ``last`` turns; None: all), x in session seconds."""
    shown = list(turns)[-last:] if last else list(turns)
    fig = new_figure(width, 0.6 + 1.9 * max(len(shown), 1))
    if not shown:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no turns yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    axes = fig.subplots(len(shown), 1, squeeze=False)[:, 0]
    for ax, turn in zip(axes, shown, strict=True):
        draw_turn(ax, turn, t0)
        _style(ax)
        span = max(turn.end - turn.start, 0.5)
        ax.set_xlim(turn.start - t0 - 0.05 * span, turn.end - t0 + 0.18 * span)
        ax.set_title(turn_title(turn), loc="left", fontsize=9)
    axes[-1].set_xlabel("seconds since the session started")
    return fig


def plot_timeline(turns: Sequence[TurnTimeline], t0: float = 0.0, *, width: float = 14.0) -> Figure:
    """The whole session on one axis: the same lanes, turns shaded and numbered."""
    fig = new_figure(width, 3.2)
    ax = fig.add_subplot()
    for i, turn in enumerate(turns):
        if i % 2 == 0:
            ax.axvspan(turn.start - t0, turn.end - t0, color=_C["shade"], zorder=0)
        ax.text(turn.start - t0, 3.62, f"{turn.turn}", fontsize=8, fontweight="bold",
                va="center")  # fmt: skip
        draw_turn(ax, turn, t0, labels=False)
    _style(ax)
    if turns:
        ax.set_xlim(min(t.start for t in turns) - t0 - 0.2, max(t.end for t in turns) - t0 + 0.2)
    ax.set_xlabel("seconds since the session started (turn numbers on top)")
    return fig
