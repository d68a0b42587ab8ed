"""The space-time diagram as one HTML page: inline SVG, inline CSS, a little inline script.

Nothing is fetched: no fonts, scripts or images from elsewhere, so the file opens offline
and can be attached to a bug report. Nothing varies between runs either (no clock, no
random ids), so the same schedule always gives the same bytes.

The SVG is laid out here at the default zoom, so the picture stands without the script.
The script lays it out again when the zoom or the folding of timer rows changes: every
element that depends on a row says so in ``data-at`` (a group translated to the row of
that step) or ``data-span`` (a line, path or rect from one step's row to another's).
"""

from __future__ import annotations

import itertools
import textwrap
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._diagram import Arrow, Diagram, Mark

ZOOMS = (3, 6, 10, 16, 24)
"""Row heights in pixels, from the most folded to the roomiest."""
SHORT, USUAL = 60, 16
"""A schedule of ``SHORT`` steps or fewer starts at the roomiest zoom; longer ones at
``USUAL`` pixels a row."""
TOP = 10
"""Room above the first row."""
LABEL_LINE, LABEL_CHARS = 15, 120
"""The failing step's label: pixels a line, and characters at most a line."""
GUTTER = 56
"""The column of step numbers, left of the lanes."""
SUMMARY_WIDTH, SUMMARY_CHARS = 680, 102
"""The column of step summaries, right of the lanes (11px monospace: ~6.6px a char)."""
CHAR_WIDTH = 6.6
PALETTE = 8
"""Arrows take their sender lane's colour, one of eight (``c0`` to ``c7`` in the CSS)."""

GLYPHS = {
    "timeout": '<circle class="sym" r="4.5"/><path class="hand" d="M0,-2.6 V0 H2.2"/>',
    "drop": '<path class="sym" d="M-4,-4 L4,4 M4,-4 L-4,4"/>',
    "duplicate": (
        '<rect class="sym" x="-5" y="-5" width="7" height="7"/>'
        '<rect class="sym" x="-2" y="-2" width="7" height="7"/>'
    ),
    "crash": '<circle class="sym" r="6"/><path class="x" d="M-3,-3 L3,3 M3,-3 L-3,3"/>',
    "restart": '<path class="sym" d="M-4,-5 L5,0 L-4,5 Z"/>',
}
KEYS = (
    ("delivered", "delivered"),
    ("copy", "a duplicate's copy"),
    ("drop", "dropped"),
    ("duplicate", "duplicated"),
    ("timeout", "timer fired"),
    ("crash", "crash"),
    ("restart", "restart"),
    ("partition", "partition"),
    ("heal", "heal"),
    ("outage", "node down"),
)


class _Layout:
    """Where things go at the default zoom: x of each lane, y of each step's row."""

    def __init__(self, diagram: Diagram) -> None:
        longest = max((len(str(lane.pid)) for lane in diagram.lanes), default=8)
        # Wide enough for the longest pid under its lane, even so that lanes sit on
        # whole pixels.
        self.lane_width = 2 * (max(120, min(220, int(longest * 7.2) + 28)) // 2)
        self.x = {
            lane.pid: GUTTER + i * self.lane_width + self.lane_width // 2
            for i, lane in enumerate(diagram.lanes)
        }
        self.colour = {
            lane.pid: "cx" if lane.role == "executor" else f"c{i % PALETTE}"
            for i, lane in enumerate(diagram.lanes)
        }
        self.lanes_end = GUTTER + len(diagram.lanes) * self.lane_width
        self.summary_x = self.lanes_end + 14
        self.width = self.summary_x + SUMMARY_WIDTH
        self.zoom = len(ZOOMS) - 1 if diagram.last <= SHORT else ZOOMS.index(USUAL)
        self.row = ZOOMS[self.zoom]
        room = (self.width - GUTTER - 40) / CHAR_WIDTH
        self.label = _label(diagram, min(LABEL_CHARS, int(room)))
        # Below the last row: room for the failing step's label, which hangs under it.
        self.bottom = 30 + LABEL_LINE * len(self.label)
        self.height = TOP + len(diagram.rows) * self.row + self.bottom
        self.bend = self.lane_width * 2 // 5

    def y(self, step: int) -> int:
        return TOP + step * self.row + self.row // 2

    def at(self, step: int, x: float = 0) -> str:
        return (
            f'data-at="{step}" data-x="{_num(x)}" transform="translate({_num(x)},{self.y(step)})"'
        )

    def span_line(self, start: int, end: int) -> str:
        return f'data-span="{start} {end}" y1="{self.y(start)}" y2="{self.y(end)}"'

    def span_rect(self, start: int, end: int) -> str:
        top = self.y(start) - self.row // 2
        height = self.y(end) - self.y(start) + self.row
        return f'data-span="{start} {end}" y="{top}" height="{height}"'

    def path(self, x1: int, start: int, x2: int, end: int) -> str:
        y1, y2 = self.y(start), self.y(end)
        if x1 == x2:  # a message to oneself bends out instead of running down its lane
            d = f"M{x1},{y1} Q{x1 + self.bend},{_num((y1 + y2) / 2)} {x2},{y2}"
        else:
            d = f"M{x1},{y1} L{x2},{y2}"
        return f'data-span="{start} {end}" data-x="{x1} {x2}" d="{d}"'


def page(diagram: Diagram) -> str:
    """The whole HTML page of ``diagram``."""
    layout = _Layout(diagram)
    title = escape(diagram.title)
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}: space-time diagram</title>",
            f"<style>{CSS}</style></head>",
            "<body>",
            _header(diagram, layout),
            '<main id="scroll">',
            _lane_heads(diagram, layout),
            _svg(diagram, layout),
            "</main>",
            '<aside id="info" hidden></aside>',
            f"<script>{SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )


def _header(diagram: Diagram, layout: _Layout) -> str:
    facts = [f"scenario <code>{escape(diagram.scenario)}</code>"]
    if diagram.seed is not None:
        facts.append(f"seed {diagram.seed}")
    facts += [
        f"{len(diagram.rows) - 1} steps",
        f"{len(diagram.lanes)} lanes",
        f"{len(diagram.arrows)} messages delivered",
    ]
    if diagram.liveness_from is not None:
        facts.append(f"liveness phase from step {diagram.liveness_from}")
    lines = [
        '<header class="bar">',
        f"<h1>{escape(diagram.title)}</h1>",
        f'<p class="facts">{" · ".join(facts)}</p>',
    ]
    v = diagram.violation
    if v is not None:
        lines.append(
            f'<p class="failed">✗ failed at step {v.step}: {escape(str(v))} '
            '<button id="to-failure" type="button">go to the failing step</button></p>'
        )
    else:
        lines.append('<p class="passed">✓ no check failed</p>')
    if diagram.divergences:
        listed = escape("\n".join(diagram.divergences))
        lines.append(
            f'<p class="diverged" title="{listed}">⚠ today\'s code parted from the file '
            f"{len(diagram.divergences)} time(s): the diagram shows what ran</p>"
        )
    # The keys' classes are the kinds' names, never "arrow", "mark" or "lane": those count.
    keys = "".join(
        f'<span><svg class="key {kind}" width="26" height="14" viewBox="-13 -7 26 14">'
        f"{_key(kind)}</svg>{label}</span>"
        for kind, label in KEYS
    )
    lines += [
        '<div class="tools">',
        '<span>zoom <button id="zoom-out" type="button" title="fold rows">&minus;</button>'
        '<button id="zoom-in" type="button" title="unfold rows">+</button> '
        f'<span id="zoom-level">{ZOOMS[layout.zoom]}px a row</span></span>',
        '<label><input id="timers" type="checkbox" checked> timer firings</label>',
        f'<span class="legend">{keys}</span>',
        "</div>",
        "</header>",
    ]
    return "\n".join(lines)


def _key(kind: str) -> str:
    if kind in GLYPHS:
        return GLYPHS[kind]
    if kind in ("delivered", "copy"):
        return (
            '<path class="line c0" d="M-11,0 H7"/><path class="head" d="M5,-3.5 L11,0 L5,3.5 Z"/>'
        )
    if kind == "outage":
        return '<line class="outage" x1="0" x2="0" y1="-7" y2="7"/>'
    return '<line x1="-12" x2="12" y1="0" y2="0"/>'  # partition, heal


def _lane_heads(diagram: Diagram, layout: _Layout) -> str:
    # Two lines high when a lane needs its role under its name.
    tall = " tall" if any(lane.role != "process" for lane in diagram.lanes) else ""
    heads = [f'<div class="lane-heads{tall}" style="width:{layout.width}px">']
    heads.append('<span class="col-head" style="left:8px">step</span>')
    for lane in diagram.lanes:
        role = "" if lane.role == "process" else f"<small>{escape(lane.role)}</small>"
        pid = escape(str(lane.pid))
        heads.append(
            f'<div class="lane-head" data-pid="{pid}" style="left:{layout.x[lane.pid]}px" '
            f'title="{pid}: click to light up its messages">{pid}{role}</div>'
        )
    heads.append(f'<span class="col-head" style="left:{layout.summary_x}px">event</span>')
    heads.append("</div>")
    return "".join(heads)


def _svg(diagram: Diagram, layout: _Layout) -> str:
    markers = "".join(
        f'<marker id="head-{c}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path class="head {c}" d="M0,0 L10,5 L0,10 Z"/></marker>'
        for c in (*(f"c{i}" for i in range(PALETTE)), "cx")
    )
    parts = [
        f'<svg id="diagram" width="{layout.width}" height="{layout.height}" '
        f'data-zooms="{" ".join(map(str, ZOOMS))}" data-zoom="{layout.zoom}" '
        f'data-top="{TOP}" data-bottom="{layout.bottom}" data-last="{diagram.last}" '
        f'data-bend="{layout.bend}">',
        f"<defs>{markers}</defs>",
        '<g class="rows">',
        *_rows(diagram, layout),
        "</g>",
        *_spans(diagram, layout),
        '<g class="lanes">',
        *_lanes(diagram, layout),
        "</g>",
        '<g class="arrows">',
        *(_arrow(arrow, layout) for arrow in diagram.arrows),
        "</g>",
        '<g class="marks">',
        *(_mark(mark, diagram, layout) for mark in diagram.marks),
        "</g>",
        *_violation(diagram, layout),
        "</svg>",
    ]
    return "\n".join(parts)


def _rows(diagram: Diagram, layout: _Layout) -> list[str]:
    failing = diagram.violation.step if diagram.violation is not None else None
    rows = []
    for row in diagram.rows:
        classes = ["row", f"k-{row.kind}"]
        if row.number % 10 == 0:
            classes.append("tens")
        if row.number == failing:
            classes.append("failing")
        summary = row.summary
        shown = summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1] + "…"
        phase = " (liveness phase)" if row.liveness else ""
        rows.append(
            f'<g class="{" ".join(classes)}" {layout.at(row.number)}>'
            f"<title>step {row.number}{phase}: {escape(summary)}</title>"
            f'<rect x="0" y="{-layout.row // 2}" width="{layout.width}" height="{layout.row}"/>'
            f'<text class="no" x="{GUTTER - 10}" y="0">{row.number}</text>'
            f'<text class="what" x="{layout.summary_x}" y="0">{escape(shown)}</text></g>'
        )
    return rows


def _spans(diagram: Diagram, layout: _Layout) -> list[str]:
    """The liveness phase and each partition, as bands across the lanes."""
    lanes = f'x="{GUTTER}" width="{layout.lanes_end - GUTTER}"'
    bands = []
    if diagram.liveness_from is not None:
        span = layout.span_rect(diagram.liveness_from, diagram.last)
        bands.append(f'<rect class="liveness" {lanes} {span}/>')
    for partition in diagram.partitions:
        bands.append(
            f'<rect class="band" {lanes} {layout.span_rect(partition.start, partition.end)}/>'
        )
        cut = layout.span_line(partition.start, partition.end)
        bands.extend(
            f'<line class="wall" x1="{x}" x2="{x}" {cut}/>'
            for x in _walls(diagram, layout, partition.groups)
        )
    return bands


def _walls(diagram: Diagram, layout: _Layout, groups: tuple[tuple[str, ...], ...]) -> list[int]:
    """Where a partition cuts between neighbouring lanes: their nodes are on either side."""
    side = {node: i for i, group in enumerate(groups) for node in group}
    lanes = diagram.lanes
    return [
        layout.x[a.pid] + layout.lane_width // 2
        for a, b in itertools.pairwise(lanes)
        if side.get(a.pid.node) != side.get(b.pid.node)
    ]


def _lanes(diagram: Diagram, layout: _Layout) -> list[str]:
    lanes = []
    for lane in diagram.lanes:
        x = layout.x[lane.pid]
        downs = "".join(
            f'<line class="outage" x1="{x}" x2="{x}" {layout.span_line(span.start, span.end)}>'
            f"<title>{escape(span.label)} from step {span.start}"
            f"{' to the end' if span.open else f' until step {span.end}'}</title></line>"
            for span in diagram.outages
            if span.node == lane.pid.node
        )
        pid = escape(str(lane.pid))
        lanes.append(
            f'<g class="lane {lane.role.replace(" ", "-")}" data-pid="{pid}">'
            f"<title>{pid} ({escape(lane.role)})</title>"
            f'<line x1="{x}" x2="{x}" {layout.span_line(0, diagram.last)}/>{downs}</g>'
        )
    return lanes


def _arrow(arrow: Arrow, layout: _Layout) -> str:
    x1, x2 = layout.x[arrow.sender], layout.x[arrow.receiver]
    colour = layout.colour[arrow.sender]
    path = layout.path(x1, arrow.sent, x2, arrow.step)
    copy = " (the copy a duplicate made)" if arrow.copy else ""
    return (
        f'<g class="arrow{" copy" if arrow.copy else ""}" data-step="{arrow.step}" '
        f'data-seq="{arrow.seq}" data-sent="{arrow.sent}" '
        f'data-from="{escape(str(arrow.sender))}" data-to="{escape(str(arrow.receiver))}">'
        f"<title>step {arrow.step}: {escape(arrow.summary)}\nsent at step {arrow.sent}{copy}"
        f"</title>"
        f'<path class="hit" {path}/>'
        f'<path class="line {colour}" marker-end="url(#head-{colour})" {path}/></g>'
    )


def _mark(mark: Mark, diagram: Diagram, layout: _Layout) -> str:
    attributes = f'class="mark {mark.kind}" data-step="{mark.step}"'
    if mark.seq is not None:
        attributes += f' data-seq="{mark.seq}"'
    if mark.pid is not None:
        attributes += f' data-pid="{escape(str(mark.pid))}"'
    title = f"step {mark.step}: {escape(mark.summary)}"
    if mark.pid is None:  # a partition or a heal: a cut across every lane
        end = next((s for s in diagram.partitions if s.start == mark.step), None)
        if end is not None:
            title += f"\nuntil step {end.end}" + (" (the end)" if end.open else "")
        return (
            f"<g {attributes}><title>{title}</title><g {layout.at(mark.step)}>"
            f'<line x1="{GUTTER}" x2="{layout.lanes_end}" y1="0" y2="0"/>'
            f'<text x="{GUTTER + 4}" y="-7">{escape(mark.summary)}</text></g></g>'
        )
    x = _mark_x(mark, layout)
    trail = ""
    if mark.sent is not None:
        title += f"\nsent at step {mark.sent}"
        if mark.pid in layout.x:
            start = layout.x[mark.pid]
            trail = (
                f'<line class="trail" x1="{start}" x2="{_num(x)}" '
                f"{layout.span_line(mark.sent, mark.step)}/>"
            )
    return (
        f"<g {attributes}><title>{title}</title>{trail}"
        f"<g {layout.at(mark.step, x)}>{GLYPHS[mark.kind]}</g></g>"
    )


def _mark_x(mark: Mark, layout: _Layout) -> float:
    """A timer or a crash sits on its lane; a drop or a duplicate, on the way from the
    sender's lane to the receiver's (a lane that does not exist is left out)."""
    ends = [layout.x[pid] for pid in (mark.pid, mark.peer) if pid is not None and pid in layout.x]
    if not ends:
        return GUTTER + 8
    if mark.peer is not None and mark.peer == mark.pid:
        return ends[0] + layout.lane_width / 4
    return sum(ends) / len(ends)


def _label(diagram: Diagram, chars: int) -> list[str]:
    """The failing step's label, wrapped (at most four lines: the title has the rest)."""
    v = diagram.violation
    if v is None:
        return []
    return textwrap.wrap(f"✗ step {v.step}: {v}", chars, max_lines=4, placeholder=" …")


def _violation(diagram: Diagram, layout: _Layout) -> list[str]:
    """A line under the failing step's row, and the check's name and message below it."""
    v = diagram.violation
    if v is None:
        return []
    step = min(v.step, diagram.last)
    width = int(max(len(line) for line in layout.label) * CHAR_WIDTH) + 20
    height = LABEL_LINE * len(layout.label) + 8
    texts = "".join(
        f'<text x="{GUTTER + 10}" y="{14 + LABEL_LINE // 2 + i * LABEL_LINE}">{escape(line)}</text>'
        for i, line in enumerate(layout.label)
    )
    return [
        f'<g class="violation" data-step="{v.step}" data-check="{escape(v.check)}" '
        f"{layout.at(step)}><title>step {v.step}: {escape(str(v))}</title>"
        f'<g data-below="" transform="translate(0,{layout.row // 2})">'
        f'<line x1="0" x2="{layout.width}" y1="0" y2="0"/>'
        f'<rect x="{GUTTER}" y="10" width="{width}" height="{height}" rx="3"/>{texts}</g></g>'
    ]


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


CSS = """
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body { display: flex; flex-direction: column; color: #1d2330;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
header.bar { flex: none; padding: 8px 14px 6px; background: #f5f6f8;
  border-bottom: 1px solid #d5d9e0; }
h1 { font-size: 16px; margin: 0 0 2px; }
header p { margin: 2px 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.failed { color: #b00020; font-weight: 600; }
.passed { color: #1a7a35; }
.diverged { color: #8a5a00; }
.tools { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; margin-top: 4px; }
button { font: inherit; padding: 0 8px; margin-right: 2px; }
#zoom-level { color: #6b7385; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 12px; color: #4a5262; }
.legend > span { display: inline-flex; align-items: center; gap: 3px; }
main { flex: 1; overflow: auto; position: relative; }
.lane-heads { position: sticky; top: 0; z-index: 2; height: 24px; background: #fff;
  border-bottom: 1px solid #d5d9e0; }
.lane-heads.tall { height: 36px; }
.lane-head { position: absolute; top: 3px; transform: translateX(-50%); cursor: pointer;
  font: 600 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  white-space: nowrap; text-align: center; padding: 0 5px; border-radius: 3px; }
.lane-head small { display: block; font-weight: 400; font-size: 10px; color: #6b7385; }
.lane-head.focused { background: #ffef9e; }
.col-head { position: absolute; top: 3px; font-size: 11px; color: #6b7385; }
#info { position: fixed; right: 14px; bottom: 14px; z-index: 3; max-width: min(620px, 70vw);
  padding: 8px 10px; background: #fffdf3; border: 1px solid #d9cf9c; border-radius: 4px;
  box-shadow: 0 2px 10px rgba(0, 0, 0, .15); white-space: pre-wrap; word-break: break-word;
  font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
svg { display: block; }
svg text { font: 11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  dominant-baseline: central; }
.row rect { fill: transparent; }
.row.tens rect { fill: #f7f8fa; }
.row:hover rect { fill: #e9f0ff; }
.row.failing rect { fill: #ffe1e5; }
.row .no { fill: #8a92a3; text-anchor: end; }
.row .what { fill: #303746; }
.row.k-timeout .what { fill: #7d8597; }
.row.k-drop .what, .row.k-crash .what { fill: #b00020; }
.row.k-partition .what, .row.k-heal .what { fill: #7b3a96; }
.liveness { fill: rgba(40, 160, 80, .07); pointer-events: none; }
.band { fill: rgba(142, 68, 173, .10); pointer-events: none; }
.lane line { stroke: #c3c8d2; stroke-width: 1; }
line.outage { stroke: #b00020; stroke-width: 4; stroke-dasharray: 2 3; opacity: .45; }
.lane.never-ran line { stroke-dasharray: 1 4; }
path { fill: none; }
.arrow .line { stroke-width: 1.4; }
.arrow.copy .line { stroke-dasharray: 5 3; }
.arrow .hit { stroke: transparent; stroke-width: 9; }
.arrow:hover .line { stroke-width: 2.8; }
.focusing .arrow:not(.focus) { opacity: .08; }
.trail { stroke: #99a0ad; stroke-width: 1; stroke-dasharray: 2 3; }
.c0 { stroke: #0072b2; } .c1 { stroke: #d55e00; } .c2 { stroke: #009e73; }
.c3 { stroke: #cc79a7; } .c4 { stroke: #e69f00; } .c5 { stroke: #56b4e9; }
.c6 { stroke: #7a5195; } .c7 { stroke: #8c6d31; } .cx { stroke: #8a92a3; }
.head { stroke: none; }
.head.c0 { fill: #0072b2; } .head.c1 { fill: #d55e00; } .head.c2 { fill: #009e73; }
.head.c3 { fill: #cc79a7; } .head.c4 { fill: #e69f00; } .head.c5 { fill: #56b4e9; }
.head.c6 { fill: #7a5195; } .head.c7 { fill: #8c6d31; } .head.cx { fill: #8a92a3; }
.key .head { fill: #0072b2; }
.key.copy .line { stroke-dasharray: 4 2; }
.key.outage line { stroke-width: 4; }
.timeout .sym { fill: #fff; stroke: #2e8b57; stroke-width: 1.4; }
.timeout .hand { stroke: #2e8b57; stroke-width: 1.2; }
.drop .sym { stroke: #d0021b; stroke-width: 2.4; }
.duplicate .sym { fill: #fff; stroke: #d08a00; stroke-width: 1.6; }
.crash .sym { fill: #b00020; }
.crash .x { stroke: #fff; stroke-width: 1.8; }
.restart .sym { fill: #1a8a3a; }
.wall { stroke: #8e44ad; stroke-width: 2; stroke-dasharray: 4 3; opacity: .7; }
.partition line, .heal line { stroke-width: 1.6; stroke-dasharray: 6 4; }
.partition line { stroke: #8e44ad; } .heal line { stroke: #1a8a3a; }
.partition text { fill: #7b3a96; } .heal text { fill: #1a7a35; }
.mark text, .violation text { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.violation line { stroke: #d0021b; stroke-width: 2; }
.violation rect { fill: #fff0f2; stroke: #d0021b; }
.violation text { fill: #b00020; font-weight: 600; stroke: none; }
.tight svg text { font-size: 9px; }
.dense .row .what, .dense .row:not(.tens) .no, .dense .mark text { display: none; }
.no-timers .row.k-timeout:not(.failing), .no-timers .mark.timeout { display: none; }
"""

SCRIPT = """
(() => {
  "use strict";
  const svg = document.getElementById("diagram");
  const root = document.documentElement;
  const info = document.getElementById("info");
  const zooms = svg.dataset.zooms.split(" ").map(Number);
  const top = Number(svg.dataset.top), bottom = Number(svg.dataset.bottom);
  const last = Number(svg.dataset.last), bend = Number(svg.dataset.bend);
  const timerBox = document.getElementById("timers");
  const foldable = new Set(Array.from(
    svg.querySelectorAll(".row.k-timeout:not(.failing)"), (row) => Number(row.dataset.at)));
  let zoom = Number(svg.dataset.zoom), focus = "";

  function path(x1, y1, x2, y2) {
    return x1 === x2 ? `M${x1},${y1} Q${x1 + bend},${(y1 + y2) / 2} ${x2},${y2}`
                     : `M${x1},${y1} L${x2},${y2}`;
  }

  function layout() {
    const h = zooms[zoom], folded = !timerBox.checked, ys = [];
    let slot = 0;
    for (let n = 0; n <= last; n++) {
      // A folded row takes no height: what it holds sits on the line between its
      // neighbours, so arrows sent by a folded timer firing still start somewhere true.
      ys.push(folded && foldable.has(n) ? top + slot * h : top + slot++ * h + h / 2);
    }
    for (const el of svg.querySelectorAll("[data-at]")) {
      el.setAttribute("transform", `translate(${el.dataset.x},${ys[el.dataset.at]})`);
    }
    for (const el of svg.querySelectorAll("[data-span]")) {
      const [a, b] = el.dataset.span.split(" ").map(Number);
      if (el.tagName === "rect") {
        el.setAttribute("y", ys[a] - h / 2);
        el.setAttribute("height", ys[b] - ys[a] + h);
      } else if (el.tagName === "line") {
        el.setAttribute("y1", ys[a]);
        el.setAttribute("y2", ys[b]);
      } else {
        const [x1, x2] = el.dataset.x.split(" ").map(Number);
        el.setAttribute("d", path(x1, ys[a], x2, ys[b]));
      }
    }
    for (const el of svg.querySelectorAll("[data-below]")) {
      el.setAttribute("transform", `translate(0,${h / 2})`);
    }
    for (const bg of svg.querySelectorAll(".row > rect")) {
      bg.setAttribute("y", -h / 2);
      bg.setAttribute("height", h);
    }
    svg.setAttribute("height", top + slot * h + bottom);
    root.classList.toggle("dense", h < 10);
    root.classList.toggle("tight", h === 10);
    root.classList.toggle("no-timers", folded);
    document.getElementById("zoom-level").textContent = `${h}px a row`;
  }

  document.getElementById("zoom-out").addEventListener("click", () => {
    zoom = Math.max(0, zoom - 1);
    layout();
  });
  document.getElementById("zoom-in").addEventListener("click", () => {
    zoom = Math.min(zooms.length - 1, zoom + 1);
    layout();
  });
  timerBox.addEventListener("change", layout);

  const failure = svg.querySelector(".violation");
  const toFailure = document.getElementById("to-failure");
  if (failure && toFailure) {
    toFailure.addEventListener("click", () => failure.scrollIntoView({block: "center"}));
  }

  // The panel shows what the tooltip shows, and keeps it until the pointer finds another
  // (or a click closes it).
  info.addEventListener("click", () => { info.hidden = true; });
  svg.addEventListener("mouseover", (event) => {
    const el = event.target.closest(".arrow, .mark, .violation, .lane, .row");
    const title = el && el.querySelector(":scope > title");
    if (title) {
      info.textContent = title.textContent;
      info.hidden = false;
    }
  });

  // A click on a lane's name lights up the messages to and from it; a second undoes it.
  for (const head of document.querySelectorAll(".lane-head")) {
    head.addEventListener("click", () => {
      focus = focus === head.dataset.pid ? "" : head.dataset.pid;
      root.classList.toggle("focusing", focus !== "");
      for (const other of document.querySelectorAll(".lane-head")) {
        other.classList.toggle("focused", other.dataset.pid === focus);
      }
      for (const arrow of svg.querySelectorAll(".arrow")) {
        arrow.classList.toggle("focus", arrow.dataset.from === focus || arrow.dataset.to === focus);
      }
    });
  }

  // The address's fragment sets the first view: #zoom=0 (to 4), timers=off, step=N.
  const options = new URLSearchParams(location.hash.slice(1));
  if (options.has("zoom") || options.has("timers")) {
    const asked = Number(options.get("zoom") ?? zoom);
    if (Number.isInteger(asked)) zoom = Math.min(zooms.length - 1, Math.max(0, asked));
    timerBox.checked = options.get("timers") !== "off";
    layout();
  }
  const row = svg.querySelector(`.row[data-at="${Number(options.get("step"))}"]`);
  if (row) row.scrollIntoView({block: "center"});
})();
"""
