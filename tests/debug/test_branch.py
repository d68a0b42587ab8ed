"""Branching: the events enabled at a step, taking another one than the schedule did, and
the branch saved as a schedule that replays like any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from rabble_sim.core import UsageError
from rabble_sim.debug import DebugSession, EnabledEvent
from rabble_sim.schedule import Schedule, load, load_scenario, replay
from rabble_sim.sim import Crash, Deliver, FireTimer, Input, envelope_summary

C1_REQUEST = 'deliver #0 client::c1 -> echo::server: echo.request(n=1, payload="client::c1/1")'
"""Client c1's first request, which the shared-cache schedule leaves in flight to the end."""


def enabled_where(session: DebugSession, summary: str) -> EnabledEvent:
    return next(e for e in session.enabled() if e.summary.startswith(summary))


def test_enabled_lists_what_the_schedule_does_next_among_everything_else(
    shared_cache: DebugSession,
) -> None:
    shared_cache.goto(1)
    enabled = shared_cache.enabled()
    assert [e.number for e in enabled] == list(range(len(enabled)))
    (taken,) = [e for e in enabled if e.taken]
    following = shared_cache.steps[2]
    assert (taken.event, taken.summary) == (following.event, following.summary)
    assert enabled[0].summary == C1_REQUEST, "the oldest message first"
    kinds = [type(e.event) for e in enabled]
    # Deliveries, then the next timer, then the faults the scenario allows.
    assert kinds.index(FireTimer) > max(i for i, k in enumerate(kinds) if k is Deliver)
    assert [e.summary for e in enabled if isinstance(e.event, Crash)] == [
        "crash server",
        "crash c1",
        "crash c2",
        "crash c3",
    ]
    assert "timeout #1 at client::c1 (cid client::c1/1)" in [e.summary for e in enabled]


def test_take_makes_the_session_the_branch_and_goes_to_its_new_step(
    shared_cache: DebugSession,
) -> None:
    before = [step.summary for step in shared_cache.steps]
    shared_cache.goto(1)
    step = shared_cache.take(enabled_where(shared_cache, C1_REQUEST).number)
    assert step.number == shared_cache.step == shared_cache.last == 2
    assert step.summary == C1_REQUEST
    assert [s.summary for s in shared_cache.steps] == [*before[:2], C1_REQUEST]
    assert shared_cache.branched_at == 1
    assert shared_cache.violation is None, "the schedule's violation was on the other way"
    # The server answered c1 from the entry c2's request left in the shared cache.
    assert [envelope_summary(env) for env in step.sent] == [
        'echo::server -> client::c1: echo.reply(n=1, payload="client::c2/1") (cid client::c1/1)'
    ]
    shared_cache.goto(0)
    assert shared_cache.steps[2].summary == C1_REQUEST, "going back keeps the branch"


def test_a_branch_that_reaches_the_bug_another_way_reports_its_violation(
    shared_cache: DebugSession,
) -> None:
    shared_cache.goto(1)
    shared_cache.take(enabled_where(shared_cache, C1_REQUEST).number)
    reply = enabled_where(shared_cache, "deliver #7 echo::server -> client::c1")
    shared_cache.take(reply.number)
    violation = shared_cache.violation
    assert violation is not None and violation.step == shared_cache.step == 3
    assert violation.check == "postcondition replies_match_requests"
    assert violation.message.startswith(
        "client::c1 accepted [EchoReply(n=1, payload='client::c2/1')]"
    )
    assert shared_cache.current.violation == violation
    assert shared_cache.branched_at == 1, "where it first left the schedule opened"


def test_taking_what_the_schedule_does_next_is_a_step_forward(shared_cache: DebugSession) -> None:
    schedule = shared_cache.schedule
    shared_cache.goto(1)
    (taken,) = [e for e in shared_cache.enabled() if e.taken]
    assert shared_cache.take(taken.number).number == 2
    assert shared_cache.schedule is schedule and shared_cache.last == 3
    assert shared_cache.branched_at is None


def test_nothing_is_taken_past_the_failure_or_out_of_range(shared_cache: DebugSession) -> None:
    shared_cache.goto(shared_cache.last)
    with pytest.raises(UsageError, match=r"step 3 failed \(postcondition replies_match_requests\)"):
        shared_cache.enabled()
    with pytest.raises(UsageError, match="the run ends there"):
        shared_cache.take(0)
    shared_cache.goto(1)
    count = len(shared_cache.enabled())
    with pytest.raises(UsageError, match=f"there is no enabled event {count}: they are 0 to"):
        shared_cache.take(count)
    assert shared_cache.step == 1 and shared_cache.last == 3, "a refusal changes nothing"


def test_the_saved_branch_replays_and_reproduces_its_violation(
    shared_cache: DebugSession, tmp_path: Path
) -> None:
    shared_cache.goto(1)
    shared_cache.take(enabled_where(shared_cache, C1_REQUEST).number)
    shared_cache.take(enabled_where(shared_cache, "deliver #7 echo::server -> client::c1").number)
    path = shared_cache.save(tmp_path / "branch.json")
    saved = load(path)
    assert saved.scenario == "protocols.echo:bug_shared_cache"
    assert [e["summary"] for e in saved.events] == [s.summary for s in shared_cache.steps[1:]]
    outcome = replay(saved, load_scenario(saved.scenario))
    assert outcome.reproduces(saved) and outcome.divergences == ()
    assert outcome.violation is not None and outcome.violation.step == 3
    # A folder gets the file named by its digest, as a search saves a failure.
    assert shared_cache.save(tmp_path) == tmp_path / f"{saved.digest}.json"
    again = DebugSession.open(path)
    assert [s.summary for s in again.steps] == [s.summary for s in shared_cache.steps]


def test_a_branch_in_the_liveness_phase_is_saved_without_one(
    round_bug: DebugSession, tmp_path: Path
) -> None:
    original = [step.summary for step in round_bug.steps]
    round_bug.add_breakpoint("kind crash")
    round_bug.goto(200)
    assert round_bug.current.liveness
    partition = round_bug.enabled()[-1]  # the faults come last
    assert partition.summary == "partition a, d | b, c" and not partition.taken
    round_bug.take(partition.number)
    assert round_bug.current.summary == "partition a, d | b, c"
    assert [s.summary for s in round_bug.steps[:201]] == original[:201]
    assert not any(step.liveness for step in round_bug.steps), "a branch has no liveness phase"
    assert round_bug.continue_back().step == 66, "breakpoints carry over to the branch"
    saved = load(round_bug.save(tmp_path / "branch.json"))
    assert (saved.seed, saved.liveness_from, saved.violation) == (None, None, None)
    outcome = replay(saved, round_bug.scenario)
    assert outcome.violation is None and outcome.fits


def test_inputs_are_offered_as_each_message_make_can_build(tmp_path: Path) -> None:
    """A scenario with generated inputs: every payload ``make`` can draw is an event of its
    own, and the one taken is in the saved schedule as it was given."""
    reference = "protocols.echo:scenario_generated"
    session = DebugSession(Schedule(reference, ()), load_scenario(reference))
    inputs = [e for e in session.enabled() if isinstance(e.event, Input)]
    to_c1 = [e.summary for e in inputs if e.summary.startswith("input -> client::c1:")]
    assert to_c1 == [f'input -> client::c1: echo.say(payload="{p}")' for p in "abc"]
    chosen = next(e for e in inputs if e.summary == to_c1[2])
    step = session.take(chosen.number)
    assert step.kind == "input" and step.summary == to_c1[2]
    assert session.steps[1].sent, "the client sent its request for the payload given"
    saved = load(session.save(tmp_path / "input.json"))
    assert saved.events[0]["msg"] == {"echo.say": {"payload": "c"}}
    assert replay(saved, session.scenario).divergences == ()
