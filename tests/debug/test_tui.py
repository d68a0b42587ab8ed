"""The terminal debugger, driven by key through Textual's Pilot on an 80x24 screen."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from rabble_sim.core import Pid, UsageError
from rabble_sim.debug import DebugSession, diff
from rabble_sim.debug._tui import DebuggerApp, Details
from rabble_sim.debug._tui_panels import EventList, Processes
from rabble_sim.debug._tui_screens import EnabledEvents, Prompt
from rabble_sim.debug._tui_text import CHANGED, old_value
from rabble_sim.schedule import Schedule, load, replay
from rabble_sim.search import sweep

from .conftest import SCHEDULES

CRASHES = [8, 11, 64, 66]
"""The crash steps of the round-not-persisted schedule."""


class Recording(DebuggerApp):
    """The app, keeping every notification it shows, with its severity."""

    def __init__(self, session: DebugSession, **kwargs: Any) -> None:
        super().__init__(session, "round-not-persisted.json", **kwargs)
        self.said: list[tuple[str, str]] = []

    def notify(self, message: str, **kwargs: Any) -> None:
        self.said.append((message, kwargs.get("severity", "information")))
        super().notify(message, **kwargs)


Script = Callable[[Pilot[None]], Awaitable[None]]


def drive(app: DebuggerApp, script: Script, size: tuple[int, int] = (80, 24)) -> None:
    """Run ``app`` headless at ``size`` and play ``script`` against it."""

    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(run())


def shown(app: DebuggerApp, selector: str) -> str:
    content = app.query_one(selector, Static).content
    return content.plain if isinstance(content, Text) else str(content)


def test_n_and_p_and_the_arrows_step_forward_and_back(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("n", "n", "n")
        assert round_bug.step == 3
        await pilot.press("p")
        assert round_bug.step == 2
        await pilot.press("right", "right", "left")
        assert round_bug.step == 3
        assert "step 3/367" in shown(app, "#where")
        assert app.query_one(EventList).current == 3
        await pilot.press("p", "p", "p", "p")  # not before the start
        assert round_bug.step == 0
        assert isinstance(app.focused, Details)  # so the up and down keys scroll it

    drive(app, script)


def test_g_goes_to_the_step_typed(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("g", "1", "0", "enter")
        assert round_bug.step == 10
        assert app.query_one("#step", Static).border_title == "step 10 · timeout"
        assert "timeout #15 at omega::c" in shown(app, "#step")
        events = app.query_one(EventList)
        assert events.current == 10
        assert events.scroll_offset.y <= 10 < events.scroll_offset.y + events.size.height

    drive(app, script)


def test_a_bad_step_number_is_a_notification_and_does_not_move(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("n", "g", "x", "y", "enter")
        await pilot.press("g", "9", "9", "9", "enter")
        await pilot.press("g", "escape")
        assert round_bug.step == 1
        assert app.said == [
            ("not a step number: 'xy' (the steps are 0 to 367)", "error"),
            ("there is no step 999: the steps are 0 to 367", "error"),
        ]
        assert app.screen is app.screen_stack[0]  # every prompt closed

    drive(app, script)


def test_a_crash_breakpoint_stops_continue_at_each_crash(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("b", *"kind", "space", *"crash", "enter")
        assert [str(bp) for bp in round_bug.breakpoints] == ["kind crash"]
        assert app.query_one(EventList).marked == set(CRASHES)
        assert "1 breakpoint" in shown(app, "#status")
        await pilot.press("c")
        assert round_bug.step == CRASHES[0]
        assert "omega::a  down" in app.query_one(Processes).heading_of(Pid("omega", "a")).plain
        await pilot.press("c")
        assert round_bug.step == CRASHES[1]
        await pilot.press("C")
        assert round_bug.step == CRASHES[0]
        assert ("step 8: kind crash", "information") in app.said

    drive(app, script)


def test_a_breakpoint_is_removed_by_its_number(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("b", *"node", "space", "d", "enter")
        await pilot.press("b", *"kind", "space", *"restart", "enter")
        await pilot.press("b", "minus", "1", "enter")
        assert [str(bp) for bp in round_bug.breakpoints] == ["kind restart"]
        await pilot.press("b", "minus", "7", "enter")
        assert app.said[-1] == ("there is no breakpoint 7 (1 to 1)", "error")
        assert len(round_bug.breakpoints) == 1

    drive(app, script)


def test_a_bad_breakpoint_is_a_notification(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("b", *"kind", "space", *"nap", "enter")
        assert round_bug.breakpoints == []
        message, severity = app.said[-1]
        assert severity == "error"
        assert message.startswith("unknown event kind 'nap'")

    drive(app, script)


def test_continue_with_no_breakpoint_runs_to_the_violation(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        violation = app.query_one("#violation", Static)
        assert not violation.display
        assert "violation at step 367" in shown(app, "#status")
        await pilot.press("c")
        assert round_bug.step == round_bug.last == 367
        assert violation.display
        assert "liveness agree_on_smallest" in shown(app, "#violation")
        assert "instead of 'a'" in shown(app, "#violation")
        assert "violation at this step" in shown(app, "#status")
        assert "liveness phase" in shown(app, "#where")
        await pilot.press("C")
        assert round_bug.step == 0
        assert not violation.display

    drive(app, script)


def test_an_invariant_violation_shows_its_traceback(shared_cache: DebugSession) -> None:
    app = Recording(shared_cache)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("end")
        assert "postcondition replies_match_requests" in shown(app, "#violation")
        assert "Traceback" in shown(app, "#traceback")
        assert app.query_one("#traceback", Static).display

    drive(app, script)


def test_slash_searches_and_n_and_p_find_the_next_and_previous_match(
    round_bug: DebugSession,
) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("N")
        assert app.said[-1] == ("nothing searched yet: press / first", "warning")
        await pilot.press("slash", *"CRASH", "enter")
        assert round_bug.step == CRASHES[0]
        await pilot.press("N")
        assert round_bug.step == CRASHES[1]
        await pilot.press("P")
        assert round_bug.step == CRASHES[0]
        await pilot.press("slash", *"no such thing", "enter")
        assert round_bug.step == CRASHES[0]
        assert app.said[-1] == ("no step after 8 mentions 'no such thing'", "warning")

    drive(app, script)


def test_the_fields_a_step_changed_are_highlighted(round_bug: DebugSession) -> None:
    app = Recording(round_bug, start_at=10)
    changed = {change.path for change in round_bug.diff("omega::c")}
    assert {"leader", "round", "period"} <= changed

    async def script(pilot: Pilot[None]) -> None:
        processes = app.query_one(Processes)
        assert "4 changed" in processes.heading_of(Pid("omega", "c")).plain
        fields = processes.fields_of(Pid("omega", "c"))
        assert 'leader="b" (was "c")' in fields.plain
        assert _styles_over(fields, '●leader="b"') == {CHANGED}
        assert _styles_over(fields, "round=2") == {CHANGED}
        assert CHANGED not in _styles_over(fields, "delta=20")
        untouched = processes.fields_of(Pid("omega", "b"))
        assert "●" not in untouched.plain
        assert "changed" not in processes.heading_of(Pid("omega", "b")).plain
        await pilot.press("n")  # omega::d crashes at step 11
        assert "down" in processes.heading_of(Pid("omega", "d")).plain

    drive(app, script)


def test_a_change_inside_a_field_shows_the_whole_old_value(round_bug: DebugSession) -> None:
    app = Recording(round_bug, start_at=75)

    async def script(pilot: Pilot[None]) -> None:
        fields = app.query_one(Processes).fields_of(Pid("omega", "b"))
        assert '●candidates=["a","c","d"] (was ["c","d"])' in fields.plain
        await pilot.press("g", *"65", "enter")  # null is an old value like any other
        fields = app.query_one(Processes).fields_of(Pid("omega", "d"))
        assert '●leader="d" (was null)' in fields.plain

    drive(app, script)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ([1, 2, 3], [1]),
        ([1], list(range(1, 13))),
        ({"a": {"b": 1}, "c": 2}, {"a": {"b": 2}}),
        ({"a": [1, {"x": 1}]}, {"a": [2, {"x": 3}, 5]}),
        ({"echo.request": {"n": 1}}, {"echo.request": {"n": 2}}),
        ({"x.y": 1}, {}),
        (None, {"n": 1}),
    ],
)
def test_old_values_are_rebuilt_from_the_changes(before: Any, after: Any) -> None:
    changes = diff({"f": before}, {"f": after})
    assert old_value("f", after, changes) == before


def test_keys_holding_dots_are_told_apart_from_nested_keys() -> None:
    before = {"a.b": {"c": 1}, "a": {"b": 2}}
    after = {"a.b": {"c": 5}, "a": {"b": 3}}
    assert old_value("f", after, diff({"f": before}, {"f": after})) == before


def _styles_over(text: Text, needle: str) -> set[Any]:
    """The styles of every span that covers part of ``needle`` in ``text``."""
    start = text.plain.index(needle)
    end = start + len(needle)
    return {span.style for span in text.spans if span.start < end and span.end > start}


def test_the_network_shows_messages_and_timers_and_marks_what_is_new(
    round_bug: DebugSession,
) -> None:
    app = Recording(round_bug, start_at=10)

    async def script(pilot: Pilot[None]) -> None:
        title = app.query_one("#network", Static).border_title
        assert title == "in flight 16 · timers 4 · now 220 ms"
        network = shown(app, "#network")
        assert "#29 c → a  omega.heartbeat(round=2)  new" in network
        assert "#4  a → b  omega.heartbeat(round=1)\n" in network
        assert "timer c  due 360 (+140)  new" in network

    drive(app, script)


def test_the_history_shows_each_operation_its_answer_and_what_still_waits() -> None:
    app = Recording(DebugSession.open(SCHEDULES / "vr" / "view-change.json"), start_at=146)

    async def script(pilot: Pilot[None]) -> None:
        history = app.query_one("#history", Static)
        assert history.has_class("shown") and history.border_title == (
            "history · 7 operations · 2 waiting"
        )
        lines = shown(app, "#history").splitlines()
        assert lines[0] == 'g1::client::c1 #1 ["put","g1/x","a"]  → "ok"  (step 39)'
        assert lines[4] == 'g1::client::c1 #3 ["get","g1/x"]  → "ac"  (step 146)  new'
        assert lines[6] == 'g1::client::c1 #4 ["cas","g1/x","a","b"]  waiting  new'
        assert 'c2 #3 ["add","g1/s","m"]  waiting' in lines[5]
        await pilot.press("n")
        assert 'c2 #3 ["add","g1/s","m"]  → true  (step 147)  new' in shown(app, "#history")

    drive(app, script)


def test_no_history_panel_without_clients(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        assert not app.query_one("#history", Static).has_class("shown")

    drive(app, script)


def test_clicking_a_step_goes_there(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.click(EventList, offset=(6, 5))  # row 4 inside the border: step 4
        assert round_bug.step == 4

    drive(app, script)


def test_q_quits(round_bug: DebugSession) -> None:
    app = Recording(round_bug)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    drive(app, script)


def test_start_at_a_step_that_does_not_exist_is_refused(round_bug: DebugSession) -> None:
    with pytest.raises(UsageError, match="no step 400"):
        DebuggerApp(round_bug, "x.json", start_at=400)


def test_an_input_step_shows_its_target_and_message(tmp_path: Path) -> None:
    from protocols import sets

    report = sweep(sets.bug_add_twice, range(300))
    assert report.failure is not None
    path = Schedule.from_run(report.failure, "protocols.sets:bug_add_twice").save(tmp_path)
    session = DebugSession.open(path)
    app = Recording(session)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("n")  # step 1 gives an input
        assert "input  → client::" in shown(app, "#step")
        assert "sets.add(" in shown(app, "#step")
        for _ in range(len(session.steps)):
            await pilot.press("n")  # every step renders, inputs and all
        assert session.step == len(session.steps) - 1

    drive(app, script)


def test_e_lists_the_enabled_events_and_enter_takes_the_one_highlighted(
    shared_cache: DebugSession,
) -> None:
    app = Recording(shared_cache)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("n", "e")
        assert isinstance(app.screen, EnabledEvents)
        options = app.screen.query_one(OptionList)
        assert options.option_count == len(shared_cache.enabled()) == 14
        assert options.highlighted == 1, "the schedule's next step, highlighted"
        assert "← next in the schedule" in str(options.get_option_at_index(1).prompt)
        await pilot.press("up", "enter")  # c1's request, which the schedule leaves in flight
        assert app.screen is app.screen_stack[0]
        assert (shared_cache.step, shared_cache.last) == (2, 2)
        assert "step 2/2  branched at step 1" in shown(app, "#where")
        assert "deliver #0  client::c1 → echo::server" in shown(app, "#step")
        assert app.query_one(EventList).virtual_size.height == 3
        assert app.said[-1] == (
            "branched at step 1: 2 steps now (s saves the branch)",
            "information",
        )
        await pilot.press("e", "down", "down", "enter")  # the server's reply to c1: the bug
        assert shared_cache.last == 3
        assert app.query_one("#violation", Static).display
        assert "client::c1 accepted" in shown(app, "#violation")
        assert "violation at this step" in shown(app, "#status")

    drive(app, script)


def test_e_at_the_failing_step_says_why_and_escape_takes_nothing(
    shared_cache: DebugSession,
) -> None:
    app = Recording(shared_cache)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("end", "e")
        assert app.screen is app.screen_stack[0]
        message, severity = app.said[-1]
        assert severity == "error" and message.startswith("step 3 failed (postcondition")
        await pilot.press("home", "e", "escape")
        assert app.screen is app.screen_stack[0]
        assert shared_cache.step == 0 and shared_cache.branched_at is None

    drive(app, script)


def test_s_saves_the_branch_as_a_schedule_that_replays(
    shared_cache: DebugSession, tmp_path: Path
) -> None:
    app = Recording(shared_cache)
    path = tmp_path / "branch.json"

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("n", "e", "up", "enter", "e", "down", "down", "enter", "s")
        assert isinstance(app.screen, Prompt)
        assert app.screen.title_text == "save the branch"
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        assert app.said[-1] == (f"saved to {path}: rabble-sim replay {path}", "information")

    drive(app, script)
    saved = load(path)
    assert replay(saved, shared_cache.scenario).reproduces(saved)
    assert [event["summary"] for event in saved.events] == [
        step.summary for step in shared_cache.steps[1:]
    ]
