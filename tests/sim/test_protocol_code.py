"""Protocol code can never end a run by raising, nor hang it: whatever it does is a
violation at its step; only a real Ctrl-C stops a run, saying where it was."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from rabble_sim import (
    CorrelationId,
    Envelope,
    Liveness,
    Pid,
    RandomChooser,
    Scenario,
    View,
    message,
    run,
)
from rabble_sim.core import ServiceFailed, SpawnFailed, call_service, spawn
from rabble_sim.sim import STEP_TIMEOUT, Interrupted, RunResult

P = Pid("p", "n")


@message("test.protocol_code.tick")
@attrs.frozen
class Tick:
    n: int


class Stop(BaseException):
    """What no protocol should raise, and some do."""


@attrs.define
class Ticker:
    """Sends itself ticks 0, 1, 2, ...; on tick ``at`` it runs ``act``."""

    pid: Pid
    at: int
    act: Callable[[], Any]
    seen: int = 0

    def init(self, output: list[Envelope]) -> None:
        output.append(Envelope(self.pid, self.pid, Tick(0)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Tick):
            self.seen = msg.n
            if msg.n == self.at:
                self.act()
            output.append(Envelope(self.pid, self.pid, Tick(msg.n + 1)))


def ticker(act: Callable[[], Any], at: int = 3, **kwargs: Any) -> Scenario:
    return Scenario(
        "ticker", ["n"], lambda node, durable: [Ticker(Pid("p", node), at, act)], max_steps=20,
        **kwargs,
    )  # fmt: skip


def one_run(scenario: Scenario, **kwargs: Any) -> RunResult:
    return run(scenario, RandomChooser(0), **kwargs)


def raiser(error: BaseException) -> Callable[..., Any]:
    def act(*args: Any) -> Any:
        raise error

    return act


EXITS = [SystemExit(0), SystemExit(7), KeyboardInterrupt(), GeneratorExit(), Stop()]


@pytest.mark.parametrize("error", EXITS, ids=repr)
def test_anything_raised_in_handle_is_a_violation_at_its_step(error: BaseException) -> None:
    result = one_run(ticker(raiser(error)))
    v = result.violation
    assert v is not None and v.step == 4, "tick 3 is the fourth delivery"
    assert v.check == "exception in handle of p::n"
    assert v.message == f"{error!r} while handling Tick"
    assert v.traceback is not None and type(error).__name__ in v.traceback


@pytest.mark.parametrize("error", EXITS, ids=repr)
def test_anything_raised_by_a_check_is_a_violation_of_that_check(error: BaseException) -> None:
    def never_fails_unless(view: View) -> None:
        if view.step == 2:
            raise error

    result = one_run(ticker(lambda: None, invariants=[never_fails_unless]))
    assert result.violation is not None
    assert (result.violation.check, result.violation.step) == ("never_fails_unless", 2)
    assert f"raised {error!r}" in result.violation.message


def test_anything_raised_by_init_start_a_liveness_or_a_history_check_is_a_violation() -> None:
    @attrs.define
    class BadInit(Ticker):
        def init(self, output: list[Envelope]) -> None:
            raise SystemExit(0)

    bad_init = Scenario("x", ["n"], lambda node, durable: [BadInit(P, 9, lambda: None)])
    assert one_run(bad_init).violation.check == "exception in init of p::n"  # type: ignore[union-attr]

    def start(node: str, durable: Any) -> list[Any]:
        raise SystemExit(0)

    bad_start = Scenario("x", ["n"], start)
    assert one_run(bad_start).violation.check == "exception in start('n')"  # type: ignore[union-attr]

    def alive(view: View) -> None:
        raise SystemExit(0)

    bad_liveness = ticker(lambda: None, liveness=Liveness(alive, within=3))
    assert "liveness" in one_run(bad_liveness).violation.check  # type: ignore[union-attr]

    def history(events: Any) -> None:
        raise KeyboardInterrupt

    bad_history = ticker(lambda: None, history=history)
    assert one_run(bad_history).violation.check == "history history"  # type: ignore[union-attr]


@attrs.define
class Asker:
    """Asks its executor for a spawn and a service call at start."""

    pid: Pid
    answers: list[str] = attrs.Factory(list)

    def init(self, output: list[Envelope]) -> None:
        output.append(spawn(self.pid, self.pid.node, "worker", "w", None, CorrelationId(self.pid)))
        output.append(call_service(self.pid, "digest", 1, cid=CorrelationId(self.pid, 2)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.answers.append(type(msg).__name__)


def asker(factory: Callable[..., Any], service: Callable[..., Any]) -> Scenario:
    return Scenario(
        "asker", ["n"], lambda node, durable: [Asker(Pid("a", node))],
        factories={"worker": factory}, services={"digest": service},
    )  # fmt: skip


def test_an_exception_in_a_factory_or_service_is_its_answer_but_an_exit_is_a_violation() -> None:
    answered = one_run(asker(raiser(ValueError("no")), raiser(OSError("disk"))))
    assert answered.ok
    delivered = {type(env.msg) for _, env, _ in answered.trace if env is not None}
    assert delivered == {SpawnFailed, ServiceFailed}, "told, as over TCP"
    exiting_factory = one_run(asker(raiser(SystemExit(0)), lambda x: x))
    v = exiting_factory.violation
    assert v is not None and v.step == 0
    assert v.check == "exception in factory 'worker' for w::n" and "SystemExit(0)" in v.message
    exiting_service = one_run(asker(lambda pid, arg: None, raiser(KeyboardInterrupt())))
    assert exiting_service.violation is not None
    assert exiting_service.violation.check == "exception in service 'digest' for a::n"


def test_a_handle_that_never_returns_is_a_step_timeout_naming_what_ran() -> None:
    def spin() -> None:
        while True:
            pass

    started = time.monotonic()
    result = one_run(ticker(spin), step_timeout=0.3)
    assert time.monotonic() - started < 5
    v = result.violation
    assert v is not None and (v.check, v.step) == (STEP_TIMEOUT, 4)
    assert v.message == "handle of p::n on Tick ran for more than 0.3 s"
    assert v.traceback is not None and "spin" in v.traceback, "where it was stuck"


def test_a_blocking_call_and_a_hanging_check_are_step_timeouts_too() -> None:
    blocked = one_run(ticker(lambda: threading.Event().wait()), step_timeout=0.3)
    assert blocked.violation is not None and blocked.violation.check == STEP_TIMEOUT

    def stuck(view: View) -> None:
        if view.step == 2:
            time.sleep(60)

    hanging = one_run(ticker(lambda: None, invariants=[stuck]), step_timeout=0.3)
    v = hanging.violation
    assert v is not None and (v.check, v.step) == (STEP_TIMEOUT, 2)
    assert v.message == "the check stuck ran for more than 0.3 s"


def test_a_run_in_another_thread_is_watched_as_well() -> None:
    def spin() -> None:
        while True:
            pass

    results: list[RunResult] = []
    thread = threading.Thread(
        target=lambda: results.append(one_run(ticker(spin), step_timeout=0.3))
    )
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert results[0].violation is not None and results[0].violation.check == STEP_TIMEOUT


def test_slow_steps_under_the_limit_and_no_limit_at_all_pass() -> None:
    assert one_run(ticker(lambda: time.sleep(0.05)), step_timeout=1.0).ok
    assert one_run(ticker(lambda: time.sleep(0.05)), step_timeout=None).ok


def test_a_real_ctrl_c_stops_the_run_and_says_where_it_was() -> None:
    def ctrl_c_then_wait() -> None:
        os.kill(os.getpid(), signal.SIGINT)  # as the terminal does on Ctrl-C
        time.sleep(10)

    with pytest.raises(Interrupted) as caught:
        run(ticker(ctrl_c_then_wait), RandomChooser(0), seed=42)
    assert (caught.value.seed, caught.value.step) == (42, 4)
    assert str(caught.value) == "interrupted at step 4 of seed 42, in handle of p::n on Tick"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "handler restored"
