"""The space-time diagram: its model against the session, its page, the command, a browser."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest

from protocols.echo.scenarios import scenario as echo
from rabble_sim import CorrelationId, Envelope, Pid, Scenario, message
from rabble_sim.core import GetMetrics, executor_pid
from rabble_sim.debug import DebugSession
from rabble_sim.debug._diagram import Diagram, _lanes, render_diagram
from rabble_sim.debug._diagram_html import ZOOMS
from rabble_sim.schedule import Schedule
from rabble_sim.sim import RandomChooser, run
from tests.sim.cluster import EVERYTHING

from .conftest import ROOT, ROUND_BUG, SHARED_CACHE, WALKTHROUGH, require_tool

GHOST = Pid("ghost", "b")


@message("test.debug.diagram.ping")
@attrs.frozen
class Ping:
    n: int


@attrs.define
class Prober:
    """At start: asks its executor for metrics, pings itself and a pid that never runs."""

    pid: Pid
    got: int = 0

    def init(self, output: list[Envelope]) -> None:
        output.append(Envelope(executor_pid(self.pid.node), self.pid, GetMetrics()))
        output.append(Envelope(self.pid, self.pid, Ping(0)))
        output.append(Envelope(GHOST, self.pid, Ping(1)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.got += 1


PROBE = Scenario(
    name="diagram-probe",
    nodes=("a", "b"),
    start=lambda node, durable: [Prober(Pid("prober", node))],
)


def session_of(scenario: Scenario, reference: str, seed: int, max_steps: int) -> DebugSession:
    result = run(scenario, RandomChooser(seed, scenario.faults), max_steps=max_steps)
    return DebugSession(Schedule.from_run(result, reference), scenario)


@pytest.fixture(scope="module")
def faulty() -> DebugSession:
    """Echo under drops, duplicates (some copies delivered), crashes and restarts."""
    return session_of(echo, "protocols.echo:scenario", seed=0, max_steps=80)


@pytest.fixture(scope="module")
def probe() -> DebugSession:
    return session_of(PROBE, "tests.debug.test_diagram:PROBE", seed=0, max_steps=50)


@pytest.fixture(scope="module")
def sessions(faulty: DebugSession, probe: DebugSession) -> list[DebugSession]:
    files = [DebugSession.open(path) for path in (WALKTHROUGH, ROUND_BUG, SHARED_CACHE)]
    return [*files, faulty, probe]


# -- the model ----------------------------------------------------------------------------


def test_every_delivery_is_one_arrow_from_its_sending_step(sessions: list[DebugSession]) -> None:
    for session in sessions:
        diagram = Diagram.from_session(session)
        lanes = {lane.pid for lane in diagram.lanes}
        deliveries = [step for step in session.steps if step.kind == "deliver"]
        assert [a.step for a in diagram.arrows] == [s.number for s in deliveries]
        for arrow, step in zip(diagram.arrows, deliveries, strict=True):
            assert step.envelope is not None
            assert (arrow.seq, arrow.sender, arrow.receiver) == (
                step.seq,
                step.envelope.from_,
                step.envelope.to,
            )
            assert arrow.sent == session.sender_step(arrow.seq) < arrow.step
            assert {arrow.sender, arrow.receiver} <= lanes
            if not arrow.copy:  # a copy's seq is the duplicate's; it starts at the original
                assert arrow.seq in session.steps[arrow.sent].created


def test_a_lane_per_process_and_per_pid_a_message_reached(
    round_bug: DebugSession, probe: DebugSession
) -> None:
    lanes = Diagram.from_session(round_bug).lanes
    assert [lane.pid for lane in lanes] == list(round_bug.pids)
    assert {lane.role for lane in lanes} == {"process"}

    roles = {lane.pid: lane.role for lane in Diagram.from_session(probe).lanes}
    assert roles == {
        Pid("prober", "a"): "process",
        Pid("prober", "b"): "process",
        GHOST: "never ran",  # a dead letter's receiver
        executor_pid("a"): "executor",  # it answered GetMetrics
        executor_pid("b"): "executor",
    }


def test_marks_for_drops_duplicates_timers_crashes_and_restarts(faulty: DebugSession) -> None:
    diagram = Diagram.from_session(faulty)
    kinds = Counter(step.kind for step in faulty.steps)
    marks = Counter(mark.kind for mark in diagram.marks)
    for kind in ("drop", "duplicate", "timeout", "crash", "restart"):
        assert kinds[kind] > 0, f"the fixture should have a {kind}"
    # One lane per node here, so one crash mark per crash.
    assert {k: marks[k] for k in kinds if k in marks} == {
        k: n for k, n in kinds.items() if k not in ("deliver", "start")
    }
    for mark in diagram.marks:
        step = faulty.steps[mark.step]
        assert mark.kind == step.kind
        if mark.kind == "timeout":  # on the process's lane, never its executor's
            assert step.envelope is not None
            assert mark.pid == step.envelope.to
            assert mark.pid in faulty.pids
        if mark.kind in ("drop", "duplicate"):
            assert mark.seq is not None
            assert mark.sent == faulty.sender_step(mark.seq)
    copies = {seq for s in faulty.steps if s.kind == "duplicate" for seq in s.created}
    assert {a.seq for a in diagram.arrows if a.copy} == copies & {a.seq for a in diagram.arrows}
    assert any(a.copy for a in diagram.arrows)
    crashes = [
        (getattr(s.event, "node", None), s.number) for s in faulty.steps if s.kind == "crash"
    ]
    assert [(span.node, span.start) for span in diagram.outages] == crashes
    assert all(faulty.steps[span.end].kind == "restart" for span in diagram.outages)


def test_partitions_are_bands_until_their_heal(walkthrough: DebugSession) -> None:
    diagram = Diagram.from_session(walkthrough)
    (band,) = diagram.partitions
    assert (band.start, band.end, band.open) == (30, 160, False)
    assert band.groups == (("a",), ("b", "c", "d"))
    assert [(m.kind, m.step) for m in diagram.marks if m.pid is None] == [
        ("partition", 30),
        ("heal", 160),
    ]
    page = parse(render_diagram(walkthrough))
    assert len(page.by_class["wall"]) == 1, "the cut runs between a's lane and b's"
    assert len(page.by_class["band"]) == 1


def test_the_failing_step_is_marked(round_bug: DebugSession) -> None:
    assert round_bug.violation is not None
    diagram = Diagram.from_session(round_bug)
    assert diagram.violation == round_bug.violation
    page = parse(render_diagram(round_bug))
    (line,) = page.by_class["violation"]
    assert line["data-step"] == str(round_bug.violation.step) == str(round_bug.last)
    assert line["data-check"] == round_bug.violation.check
    (row,) = page.by_class["failing"]
    assert row["data-at"] == str(round_bug.violation.step)
    assert "agree_on_smallest" in page.text


# -- the page -----------------------------------------------------------------------------


def test_the_page_draws_the_model(faulty: DebugSession, probe: DebugSession) -> None:
    for session in (faulty, probe):
        diagram = Diagram.from_session(session)
        page = parse(render_diagram(session))
        assert [e["data-pid"] for e in page.by_class["lane"]] == [
            str(lane.pid) for lane in diagram.lanes
        ]
        assert [(e["data-step"], e["data-seq"]) for e in page.by_class["arrow"]] == [
            (str(a.step), str(a.seq)) for a in diagram.arrows
        ]
        for kind in ("drop", "duplicate", "timeout", "crash", "restart"):
            assert len(page.marks(kind)) == sum(m.kind == kind for m in diagram.marks)
        assert len(page.by_class["row"]) == len(session.steps)
        assert page.titles >= len(diagram.arrows) + len(diagram.marks)


def test_a_message_to_oneself_bends_out_of_its_lane(probe: DebugSession) -> None:
    page = parse(render_diagram(probe))
    own = [e for e in page.by_class["arrow"] if e["data-from"] == e["data-to"]]
    assert own, "each prober pings itself"
    assert all(" Q" in path["d"] for path in page.paths_in(own))


def test_the_page_is_self_contained_deterministic_and_escaped() -> None:
    first = render_diagram(DebugSession.open(ROUND_BUG), title="<b>round & round</b>")
    again = render_diagram(DebugSession.open(ROUND_BUG), title="<b>round & round</b>")
    assert first == again
    assert "http://" not in first and "https://" not in first
    assert " src=" not in first and "<link" not in first
    assert "<b>round" not in first
    assert "&lt;b&gt;round &amp; round&lt;/b&gt;" in first


# -- the command ------------------------------------------------------------------------------


def rabble_sim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_writes_the_page_even_for_a_failing_schedule(tmp_path: Path) -> None:
    out = tmp_path / "round.html"
    done = rabble_sim("diagram", str(ROUND_BUG), "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out}: 4 lanes, 236 arrows, 367 steps"
    assert out.read_text(encoding="utf-8") == render_diagram(DebugSession.open(ROUND_BUG))


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["broken.json", "-o", "out.html"], "broken.json: not valid JSON"),
        ([str(ROUND_BUG)], "Missing option '-o'"),
        ([str(ROUND_BUG), "-o", "no/such/dir/out.html"], "cannot write no/such/dir/out.html"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], reason: str) -> None:
    (tmp_path / "broken.json").write_text('{"format": ', encoding="utf-8")
    done = rabble_sim("diagram", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("rabble-sim: error: ")
    assert reason in done.stderr
    assert not (tmp_path / "out.html").exists()


# -- in a browser -------------------------------------------------------------------------------


def chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on ``url``, offline in effect: nothing in the background."""
    return subprocess.run(
        [
            require_tool("chromium"),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def round_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("diagram") / "round.html"
    path.write_text(render_diagram(DebugSession.open(ROUND_BUG)), encoding="utf-8")
    return path


def test_the_browser_sees_a_lane_per_process_and_an_arrow_per_delivery(
    round_page: Path, tmp_path: Path
) -> None:
    done = chromium(round_page.as_uri(), tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr
    dom = parse(done.stdout)
    session = DebugSession.open(ROUND_BUG)
    assert len(dom.by_class["lane"]) == len(Diagram.from_session(session).lanes) == 4
    assert len(dom.by_class["arrow"]) == sum(s.kind == "deliver" for s in session.steps)
    assert len(dom.by_class["violation"]) == 1
    assert len(dom.marks("crash")) == len(dom.marks("restart")) == 4


def test_hover_focus_zoom_and_folding_work_in_the_browser(round_page: Path, tmp_path: Path) -> None:
    # Drive the page's own controls from a script appended after its own, then read the DOM.
    actions = """<script>
    const arrow = document.querySelector("svg .arrow");
    arrow.querySelector(".line").dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
    document.querySelector('.lane-head[data-pid="omega::d"]').click();
    document.getElementById("zoom-out").click();
    document.getElementById("timers").click();
    </script></body>"""
    probed = tmp_path / "probed.html"
    probed.write_text(round_page.read_text(encoding="utf-8").replace("</body>", actions))
    done = chromium(probed.as_uri(), tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr
    dom = parse(done.stdout)
    first = dom.by_class["arrow"][0]
    (info,) = dom.by_id["info"]
    assert "hidden" not in info
    assert dom.text_of["info"] == dom.title_of[id(first)]
    touching_d = [a for a in dom.by_class["arrow"] if "omega::d" in (a["data-from"], a["data-to"])]
    assert [a for a in dom.by_class["arrow"] if "focus" in a["class"].split()] == touching_d
    # Zoomed out one step, timer rows folded: the height counts the other rows only.
    session = DebugSession.open(ROUND_BUG)
    shown = sum(s.kind != "timeout" or s.violation is not None for s in session.steps)
    (svg,) = dom.by_id["diagram"]
    height = ZOOMS[int(svg["data-zoom"]) - 1]
    assert int(float(svg["height"])) == int(svg["data-top"]) + shown * height + int(
        svg["data-bottom"]
    )
    assert {"no-timers", "focusing"} <= set(dom.root_classes)


def test_a_screenshot_of_the_page(round_page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    done = chromium(
        round_page.as_uri(), tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,900"
    )
    assert done.returncode == 0, done.stderr
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1200, 900)
    assert len(png) > 30_000, "a blank page compresses to a few kilobytes"


# -- reading a page ---------------------------------------------------------------------------


class Page(HTMLParser):
    """The elements of a page by class and id, their titles, and the text of the info panel."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.by_class: dict[str, list[dict[str, str]]] = {}
        self.by_id: dict[str, list[dict[str, str]]] = {}
        self.title_of: dict[int, str] = {}
        self.text_of: dict[str, str] = {}
        self.children: dict[int, list[dict[str, str]]] = {}
        self.root_classes: list[str] = []
        self.titles = 0
        self.text = ""
        self._open: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.root_classes = element.get("class", "").split()
        for name in element.get("class", "").split():
            self.by_class.setdefault(name, []).append(element)
        if "id" in element:
            self.by_id.setdefault(element["id"], []).append(element)
        if self._open:
            self.children.setdefault(id(self._open[-1][1]), []).append(element)
        if tag == "title":
            self.titles += 1
        if tag not in ("meta", "input", "br", "link", "img"):  # HTML's void elements
            self._open.append((tag, element))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("meta", "input", "br", "link", "img"):
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        if any(open_tag == tag for open_tag, _ in self._open):
            while self._open.pop()[0] != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.text += data
        if len(self._open) >= 2 and self._open[-1][0] == "title":
            key = id(self._open[-2][1])
            self.title_of[key] = self.title_of.get(key, "") + data
        if self._open and "id" in self._open[-1][1]:
            key = self._open[-1][1]["id"]
            self.text_of[key] = self.text_of.get(key, "") + data

    def marks(self, kind: str) -> list[dict[str, str]]:
        return [e for e in self.by_class.get("mark", []) if kind in e["class"].split()]

    def paths_in(self, elements: list[dict[str, str]]) -> list[dict[str, str]]:
        return [c for e in elements for c in self.children.get(id(e), []) if "d" in c]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def test_lanes_read_numbers_as_numbers() -> None:
    pids = [Pid("client", f"c{i}") for i in (10, 2, 1)] + [Pid("replica", "n1", "g1")]
    names = [str(lane.pid) for lane in _lanes(tuple(pids), [])]
    assert names == ["client::c1", "client::c2", "client::c10", "g1::replica::n1"]


@pytest.fixture(scope="module")
def every_fault() -> DebugSession:
    """The cluster scenario under every fault: one-way cuts, drifts, jumps, disk faults."""
    return session_of(EVERYTHING, "tests.sim.cluster:EVERYTHING", seed=0, max_steps=300)


def test_clock_and_disk_faults_are_marked_on_their_nodes_lanes(every_fault: DebugSession) -> None:
    diagram = Diagram.from_session(every_fault)
    kinds = ("drift", "jump", "lose_disk", "corrupt_disk")
    for step in every_fault.steps:
        if step.kind in kinds:
            pid = getattr(step.event, "pid", None)
            node = pid.node if pid is not None else getattr(step.event, "node", None)
            lanes = {m.pid for m in diagram.marks if m.step == step.number}
            assert lanes and all(lane is not None and lane.node == node for lane in lanes)
    assert {m.kind for m in diagram.marks} >= set(kinds)


def test_a_one_way_cut_is_drawn_apart_from_a_cut_both_ways(every_fault: DebugSession) -> None:
    diagram = Diagram.from_session(every_fault)
    one_way = [band for band in diagram.partitions if band.one_way]
    assert one_way and len(one_way) < len(diagram.partitions)
    page = parse(render_diagram(every_fault))
    assert page.by_class["one-way"], "a one-way cut has walls of its own kind"
    assert len(page.by_class["wall"]) > len(page.by_class["one-way"])
