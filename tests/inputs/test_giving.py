"""Giving inputs: when they are enabled, what the process receives, what a run records,
and what a broken make or input is."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from rabble_sim import (
    CorrelationId,
    Draw,
    Envelope,
    Faults,
    Inputs,
    Pid,
    RandomChooser,
    Scenario,
    message,
    run,
)
from rabble_sim.core import InvalidDefinition
from rabble_sim.sim import (
    INPUT_SENDER,
    Crash,
    EventNotEnabled,
    Input,
    InputOffer,
    RecordedDraws,
    World,
    recorded,
)

A, B = Pid("p", "a"), Pid("p", "b")


@message("test.inputs.word")
@attrs.frozen
class Word:
    text: str
    times: int = 1


@attrs.define
class Recorder:
    """Records what it receives, and answers every sender (an input's sender too)."""

    pid: Pid
    got: list[tuple[Any, Pid, CorrelationId | None]] = attrs.Factory(list)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.got.append((msg, from_, cid))
        output.append(Envelope(from_, self.pid, Word("thanks")))


@attrs.frozen
class Unregistered:
    n: int


@message("test.inputs.real")
@attrs.frozen
class Real:
    x: float


def make_word(draw: Draw) -> Word:
    return Word(draw.choice(["a", "b", "c"]), draw.integer(1, 3))


def scenario(make: Any = make_word, most: int = 4, **kwargs: Any) -> Scenario:
    return Scenario(
        "inputs",
        ["a", "b"],
        lambda node, durable: [Recorder(Pid("p", node))],
        inputs=Inputs([A, B], make, max=most),
        **kwargs,
    )


def inputs_of(result: Any) -> list[Input]:
    return [e for e in result.events() if isinstance(e, Input)]


def run_watched(scenario: Scenario, seed: int) -> tuple[Any, World]:
    """The run, and its world as the run left it."""
    worlds: list[World] = []
    result = run(scenario, RandomChooser(seed), observers=[worlds.append])
    return result, worlds[-1]


@pytest.mark.parametrize("seed", range(5))
def test_a_run_gives_exactly_max_inputs_each_built_by_make_from_its_draws(seed: int) -> None:
    result, world = run_watched(scenario(), seed)
    assert result.ok
    given = inputs_of(result)
    assert len(given) == 4
    for event in given:
        assert event.to in (A, B)
        assert event.msg == make_word(Draw.replaying(event.draws))
    received = [msg for pid in (A, B) for msg, _, _ in world.processes[pid].got]
    assert sorted(received, key=repr) == sorted((e.msg for e in given), key=repr)


def test_an_input_arrives_from_the_input_sender_and_a_reply_to_it_is_a_dead_letter() -> None:
    result, world = run_watched(scenario(most=1), 0)
    (event,) = inputs_of(result)
    msg, from_, cid = world.processes[event.to].got[0]
    assert (msg, from_, cid) == (event.msg, INPUT_SENDER, None)
    assert str(INPUT_SENDER) == "input::-"
    assert result.dead_letters == 1


def test_inputs_are_offered_only_while_fewer_than_max_were_given_and_only_to_up_nodes() -> None:
    world = World(scenario(most=2, faults=Faults(crash=1)))
    world.start()
    assert world.input_offers() == [InputOffer(0, A), InputOffer(0, B)]
    world.apply(Crash("b"))
    assert world.input_offers() == [InputOffer(0, A)]
    for _ in range(2):
        world.apply(world.make_input(InputOffer(0, A), Draw.replaying([])))
    assert world.inputs_given == [2]
    assert world.input_offers() == []
    with pytest.raises(EventNotEnabled, match=r"all 2 of inputs\[0\] were given"):
        world.apply(Input(A, Word("a"), 0, (0, 0)))
    with pytest.raises(EventNotEnabled, match="is not an event"):
        world.apply(InputOffer(0, A))  # type: ignore[arg-type]
    assert not any(isinstance(e, InputOffer) for e in world.enabled())


def test_a_run_is_made_again_from_its_decisions_inputs_and_all() -> None:
    first = run(scenario(), RandomChooser(7))
    chooser = RandomChooser(7).again(RecordedDraws(first.decisions or []))
    again = run(scenario(), chooser)
    assert again.events() == first.events()
    assert inputs_of(again)


def test_an_exception_in_make_is_an_error_naming_make_and_where() -> None:
    def make_broken(draw: Draw) -> Word:
        raise KeyError("no such word")

    with pytest.raises(InvalidDefinition) as caught:
        run(scenario(make_broken), RandomChooser(0))
    assert str(caught.value).startswith("make_broken (inputs[0]) for p::")
    assert "at step 1 raised KeyError('no such word') (make is part of the test" in str(
        caught.value
    )


@pytest.mark.parametrize(
    "built", [{"not": "a message"}, Unregistered(1), Real(float("inf"))], ids=repr
)
def test_an_input_that_cannot_travel_is_an_error_saying_what_make_built(built: object) -> None:
    def make_wrong(draw: Draw) -> object:
        return built

    with pytest.raises(
        InvalidDefinition, match=r"^make_wrong \(inputs\[0\]\) .* built .*, which is no input"
    ):
        run(scenario(make_wrong), RandomChooser(0))


def test_replay_skips_an_input_today_s_scenario_could_not_give_and_says_why() -> None:
    from rabble_sim.schedule import Schedule, replay

    result = run(scenario(most=2), RandomChooser(3))
    saved = Schedule.from_run(recorded(result), "tests.inputs.test_giving:scenario")
    outcome = replay(saved, scenario(most=1))
    (divergence,) = outcome.divergences
    assert divergence.skipped
    assert divergence.what == "all 1 of inputs[0] were given today"
