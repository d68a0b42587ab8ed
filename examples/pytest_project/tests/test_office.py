"""The ticket office's tests: a sweep, Hypothesis, a @given test of our own, and a known bug."""

from __future__ import annotations

from hypothesis import given, settings
from ticketing.scenarios import bug_reissue, scenario

from rabble_sim import RunResult
from rabble_sim.pytest_plugin import Check, Sweep
from rabble_sim.search import fail_with_schedule, runs


def test_every_ticket_goes_to_one_customer(rabble_sweep: Sweep) -> None:
    rabble_sweep(scenario)


def test_every_ticket_goes_to_one_customer_under_hypothesis(rabble_check: Check) -> None:
    rabble_check(scenario)


@settings(max_examples=50)
@given(runs(scenario))
def test_runs_of_our_own(result: RunResult) -> None:
    fail_with_schedule(result)


def test_an_office_that_forgets_reissues_a_ticket(rabble_sweep: Sweep) -> None:
    rabble_sweep(bug_reissue, expect="violation")
