"""The event log as an HTML table for notebooks (the newest coalesced rows)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from .summaries import printable

if TYPE_CHECKING:
    from .log import EventLog

#: Coalesced rows shown by the HTML repr.
HTML_ROWS = 200

_ARROWS: dict[str, str] = {"client": "→", "server": "←", "local": "•"}
_DIR_COLORS: dict[str, str] = {"client": "#3b82f6", "server": "#16a34a", "local": "#8b8b8b"}


def _short_id(value: str) -> str:
    return value if len(value) <= 14 else f"{value[:9]}…{value[-4:]}"


def _human_bytes(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def render_html(log: EventLog) -> str:
    """The log as an HTML table: counts per direction, then the newest coalesced rows."""
    esc = html.escape
    parts = [
        f"{_ARROWS[d]} {d} {log.rows_by_direction.get(d, 0):,}"
        f" ({_human_bytes(log.bytes_by_direction.get(d, 0))})"
        for d in ("client", "server", "local")
    ]
    header = f"<b>EventLog</b> · {log._seq:,} rows · " + " · ".join(parts)
    if log.evicted:
        header += f" · {log.evicted:,} oldest evicted"
    shown = log.tail_coalesced(HTML_ROWS)
    t0 = log._t0 or 0.0
    cell = "padding:1px 6px;border-bottom:1px solid rgba(128,128,128,.25);vertical-align:top"
    body: list[str] = []
    for d in shown:
        seq = str(d.first_seq) if d.count == 1 else f"{d.first_seq}–{d.last_seq}"
        color = _DIR_COLORS.get(d.direction, "inherit")
        type_style = "color:#dc2626;" if "error" in d.type else ""
        ids = " ".join(_short_id(x) for x in (d.item_id, d.response_id) if x)
        title = " ".join(x for x in (d.item_id, d.response_id) if x)
        body.append(
            f'<tr><td style="{cell};text-align:right">{esc(seq)}</td>'
            f'<td style="{cell};text-align:right">{d.t - t0:.3f}</td>'
            f'<td style="{cell};color:{color}" title="{esc(d.direction)}">'
            f"{_ARROWS.get(d.direction, '?')}</td>"
            f'<td style="{cell};{type_style}">{esc(d.type)}</td>'
            f'<td style="{cell};opacity:.75" title="{esc(title)}">{esc(ids)}</td>'
            f'<td style="{cell}">{esc(d.summary)}</td>'
            f'<td style="{cell};text-align:right">{d.size:,}</td></tr>'
        )
    heads = ("seq", "t (s)", "", "type", "item / response", "summary", "bytes")
    head = "".join(f'<th style="{cell};text-align:left;font-weight:600">{h}</th>' for h in heads)
    note = ""
    if shown and shown[0].first_seq > (log.evicted + 1):
        note = f'<div style="opacity:.7">last {len(shown)} display rows shown</div>'
    return printable(
        '<div style="font-family:var(--jp-code-font-family,ui-monospace,monospace);'
        'font-size:12px;color:inherit;background:transparent">'
        f'<div style="margin:2px 0 4px">{header}</div>{note}'
        '<table style="border-collapse:collapse;color:inherit;background:transparent">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
