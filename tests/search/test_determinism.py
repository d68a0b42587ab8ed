"""The determinism self-check as a library function: the same runs under two hash seeds,
or the first step where they part, with both sides."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rabble_sim import run
from rabble_sim.core import UsageError
from rabble_sim.schedule import load_scenario
from rabble_sim.search import check_determinism, chooser_for

# Nothing is sent: only the order a process keeps in its state depends on the hash seed.
SET_ORDER_STATE = """
import attrs
from rabble_sim import Pid, Scenario

NAMES = [f"node-{i}" for i in range(20)]

@attrs.define
class Collector:
    pid: Pid
    order: list = attrs.Factory(list)

    def init(self, output):
        self.order = list(set(NAMES))

    def handle(self, msg, from_, cid, output):
        pass

scenario = Scenario("collector", ["a"], lambda node, durable: [Collector(Pid("c", node))])
"""

# Importing the module fails under one hash seed only.
FAILS_UNDER_SEED_2 = """
import os
if os.environ.get("PYTHONHASHSEED") == "2":
    raise RuntimeError("no runs under this seed")
from protocols.omega import scenario
"""


def module_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    """Write module ``name`` in a folder on this interpreter's path, and work elsewhere:
    the check must import it from where this interpreter did."""
    folder = tmp_path / "protocol"
    folder.mkdir()
    (folder / f"{name}.py").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.chdir(tmp_path)


def test_a_deterministic_scenario_passes_with_the_digests_a_run_here_gives() -> None:
    reference = "protocols.echo:scenario"
    report = check_determinism(reference, range(2), strategy="random")
    assert report.ok and report.difference is None
    assert report.seeds == 2 and report.hash_seeds == ("1", "2")
    scenario = load_scenario(reference)
    here = {s: run(scenario, chooser_for("random", scenario, s)).trace.digest() for s in (0, 1)}
    assert report.digests == here


def test_process_states_that_depend_on_set_order_are_caught_where_they_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module_elsewhere(tmp_path, monkeypatch, "set_order_state", SET_ORDER_STATE)
    report = check_determinism("set_order_state:scenario", range(3))
    assert not report.ok
    difference = report.difference
    assert difference is not None
    assert (difference.seed, difference.step) == (0, 0), "the first seed, at its start"
    assert difference.parts == ("states",), "the same events and messages"
    assert difference.left is not None and difference.right is not None
    assert difference.left["states"] != difference.right["states"]


def test_a_run_that_cannot_be_made_under_one_hash_seed_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)  # the module loads here first
    module_elsewhere(tmp_path, monkeypatch, "fails_under_seed_2", FAILS_UNDER_SEED_2)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    with pytest.raises(UsageError, match=r"PYTHONHASHSEED=2 failed: .*no runs under this seed"):
        check_determinism("fails_under_seed_2:scenario")


def test_bad_arguments_are_refused_before_any_run() -> None:
    with pytest.raises(UsageError, match="no such module"):
        check_determinism("nowhere:scenario")
    with pytest.raises(UsageError, match="unknown strategy 'fifo'"):
        check_determinism("protocols.echo:scenario", strategy="fifo")
    with pytest.raises(UsageError, match="must differ"):
        check_determinism("protocols.echo:scenario", hash_seeds=("3", "3"))
