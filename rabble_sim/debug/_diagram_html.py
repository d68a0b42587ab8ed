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

import functools
import itertools
import textwrap
from html import escape
from importlib import resources
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
    # A node's clock: a dial whose hand points ahead (drift) or jumps (jump).
    "drift": '<circle class="sym" r="5"/><path class="hand" d="M0,0 L3,-3"/>',
    "jump": '<circle class="sym" r="5"/><path class="hand" d="M0,0 L4,0 M2,-2 L4,0 L2,2"/>',
    # A node's disk: a platter, emptied (lost) or cracked (corrupted).
    "lose_disk": '<rect class="sym" x="-5" y="-4" width="10" height="8"/>',
    "corrupt_disk": (
        '<rect class="sym" x="-5" y="-4" width="10" height="8"/><path class="x" d="M-3,-3 L3,3"/>'
    ),
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
    ("drift", "clock drifts"),
    ("jump", "clock jumps"),
    ("lose_disk", "disk lost"),
    ("corrupt_disk", "record corrupted"),
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


def diagram_page(diagram: Diagram) -> str:
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
            f"<style>{_asset('diagram.css')}</style></head>",
            "<body>",
            _header(diagram, layout),
            '<main id="scroll">',
            _lane_heads(diagram, layout),
            _svg(diagram, layout),
            "</main>",
            '<aside id="info" hidden></aside>',
            f"<script>{_asset('diagram.js')}</script>",
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
        wall = "wall one-way" if partition.one_way else "wall"
        bands.extend(
            f'<line class="{wall}" x1="{x}" x2="{x}" {cut}><title>{escape(partition.label)}'
            "</title></line>"
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


@functools.cache
def _asset(name: str) -> str:
    """The page's stylesheet or script, shipped beside this module and inlined, so that
    the page needs nothing else."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
