"""The space-time diagram of a schedule: lanes, arrows and marks, computed from a session.

``Diagram.from_session`` turns a replayed schedule into frozen values (a lane per process,
an arrow per delivered message, a mark per drop, duplicate, timer firing, crash, restart,
partition and heal, the partitions and node outages as spans, and the failing step);
``render_diagram`` writes them as one self-contained HTML page (``_diagram_html``).

The page draws time down, one row per step, and lanes as columns whose headers stay in
view while it scrolls both ways. For large schedules it offers:

* zoom buttons (``-`` and ``+``), from 3 to 24 pixels a row; below 10 the row text is
  hidden but for every tenth step number, so a thousand steps fit a few screens;
* a "timer firings" switch that folds away the rows of timer firings (not the failing
  step's): what a folded firing sent starts on the line where its row was;
* a click on a lane's name to light up only the arrows to and from that process;
* a button that scrolls to the failing step.

The address's fragment sets the first view: ``#zoom=0`` (0 to 4), ``timers=off`` and
``step=N`` (scrolled into view), as in ``#zoom=1&timers=off&step=367``.
Hovering an arrow or a mark shows what it is in a panel, and in the browser's tooltip.
"""

from __future__ import annotations

import attrs

from ..core import Pid, executor_pid
from ..sim import Violation
from ._diagram_html import diagram_page
from ._session import DebugSession
from ._step import reading_order


@attrs.frozen
class Lane:
    """A column of the diagram: one pid. ``role`` says why it is there: ``"process"`` (it
    ran), ``"executor"`` (a node's executor that answered with a message) or ``"never
    ran"`` (a message was delivered to it, as a dead letter)."""

    pid: Pid
    role: str = "process"


@attrs.frozen
class Row:
    """One step of the schedule, as the row the diagram gives it."""

    number: int
    kind: str
    summary: str
    liveness: bool


@attrs.frozen
class Arrow:
    """Message ``seq``, sent by ``sender`` at step ``sent`` and delivered to ``receiver``
    at step ``step``; ``copy`` when it is the copy a duplicate made."""

    seq: int
    sent: int
    step: int
    sender: Pid
    receiver: Pid
    summary: str
    copy: bool = False


@attrs.frozen
class Mark:
    """Something other than a delivery that happened at ``step``.

    ``pid`` is the lane it sits on: the process whose timer fired, each process of a node
    that crashed or restarted, the sender of a dropped or duplicated message (whose
    receiver is ``peer``); None for a partition or a heal, which cross every lane.
    ``sent`` is the step that sent a dropped or duplicated message.
    """

    kind: str
    step: int
    summary: str
    pid: Pid | None = None
    peer: Pid | None = None
    sent: int | None = None
    seq: int | None = None


@attrs.frozen
class Span:
    """Steps ``start`` to ``end``: a partition (``node`` None) into ``groups`` of nodes
    until its heal, or a node down from its crash until its restart. ``open`` when the
    schedule ends first."""

    start: int
    end: int
    label: str
    node: str | None = None
    open: bool = False
    groups: tuple[tuple[str, ...], ...] = ()
    one_way: bool = False
    """A cut of the links into the first group only: it is heard, but hears no one."""


@attrs.frozen
class Diagram:
    """Everything the page draws, computed once from a replayed schedule."""

    title: str
    scenario: str
    seed: int | None
    rows: tuple[Row, ...]
    lanes: tuple[Lane, ...]
    arrows: tuple[Arrow, ...]
    marks: tuple[Mark, ...]
    partitions: tuple[Span, ...]
    outages: tuple[Span, ...]
    violation: Violation | None
    liveness_from: int | None
    divergences: tuple[str, ...] = ()

    @property
    def last(self) -> int:
        return len(self.rows) - 1

    @classmethod
    def from_session(cls, session: DebugSession, *, title: str = "") -> Diagram:
        """The diagram of the schedule ``session`` replayed (its divergences included)."""
        steps = session.steps
        copies = {seq for step in steps if step.kind == "duplicate" for seq in step.created}
        arrows = []
        for step in steps:
            if step.kind == "deliver" and step.envelope is not None and step.seq is not None:
                env = step.envelope
                sent = session.sender_step(step.seq)
                arrows.append(
                    Arrow(
                        step.seq,
                        step.number if sent is None else sent,
                        step.number,
                        env.from_,
                        env.to,
                        step.summary,
                        step.seq in copies,
                    )
                )
        lanes = _lanes(session.pids, arrows)
        liveness_from = next((step.number for step in steps if step.liveness), None)
        return cls(
            title=title or session.schedule.scenario,
            scenario=session.schedule.scenario,
            seed=session.schedule.seed,
            rows=tuple(Row(s.number, s.kind, s.summary, s.liveness) for s in steps),
            lanes=lanes,
            arrows=tuple(arrows),
            marks=_marks(session, lanes),
            partitions=_partitions(session),
            outages=_outages(session),
            violation=session.violation,
            liveness_from=liveness_from,
            divergences=tuple(str(d) for d in session.divergences),
        )


def render_diagram(session: DebugSession, *, title: str = "") -> str:
    """The complete HTML page of ``session``'s space-time diagram (see the module's
    docstring for what it offers). The same schedule always gives the same bytes."""
    return diagram_page(Diagram.from_session(session, title=title))


def _lanes(pids: tuple[Pid, ...], arrows: list[Arrow]) -> tuple[Lane, ...]:
    # A pid that never ran gets a lane only when a message reached it (or came from it):
    # executors answer requests, and dead letters are worth seeing where they land.
    roles = dict.fromkeys(pids, "process")
    for arrow in arrows:
        for pid in (arrow.sender, arrow.receiver):
            if pid not in roles:
                roles[pid] = "executor" if pid == executor_pid(pid.node) else "never ran"
    return tuple(Lane(pid, roles[pid]) for pid in sorted(roles, key=reading_order))


def _marks(session: DebugSession, lanes: tuple[Lane, ...]) -> tuple[Mark, ...]:
    marks: list[Mark] = []
    for step in session.steps:
        event, env, kind = step.event, step.envelope, step.kind
        if kind in ("drop", "duplicate") and env is not None and step.seq is not None:
            sent = session.sender_step(step.seq)
            marks.append(Mark(kind, step.number, step.summary, env.from_, env.to, sent, step.seq))
        elif kind == "timeout" and env is not None:
            # The envelope of a firing comes from the node's executor: the mark belongs
            # on the lane of the process whose timer it was.
            marks.append(Mark(kind, step.number, step.summary, env.to, seq=step.seq))
        elif kind in ("crash", "restart", "drift", "jump", "lose_disk", "corrupt_disk"):
            pid = getattr(event, "pid", None)
            node = pid.node if pid is not None else getattr(event, "node", None)
            marks.extend(
                Mark(kind, step.number, step.summary, lane.pid)
                for lane in lanes
                if lane.pid.node == node
            )
        elif kind in ("partition", "heal"):
            marks.append(Mark(kind, step.number, step.summary))
    return tuple(marks)


def _partitions(session: DebugSession) -> tuple[Span, ...]:
    """Each partition until the heal (or the next partition) that ends it."""
    spans: list[Span] = []
    start: Span | None = None
    for step in session.steps:
        if step.kind in ("partition", "heal") and start is not None:
            spans.append(attrs.evolve(start, end=step.number, open=False))
            start = None
        if step.kind == "partition":
            groups = getattr(step.event, "groups", ())
            one_way = getattr(step.event, "one_way", False)
            start = Span(
                step.number, session.last, step.summary, open=True, groups=groups, one_way=one_way
            )
    if start is not None:
        spans.append(start)
    return tuple(spans)


def _outages(session: DebugSession) -> tuple[Span, ...]:
    """Each node's time down: from a crash to its restart."""
    spans: list[Span] = []
    down: dict[str, int] = {}
    for step in session.steps:
        node = getattr(step.event, "node", None)
        if step.kind == "crash" and isinstance(node, str):
            down.setdefault(node, step.number)
        elif step.kind == "restart" and isinstance(node, str) and node in down:
            start = down.pop(node)
            spans.append(Span(start, step.number, f"node {node} down", node))
    spans.extend(
        Span(start, session.last, f"node {node} down", node, open=True)
        for node, start in down.items()
    )
    return tuple(sorted(spans, key=lambda span: (span.start, span.node or "")))
