"""Scenario references: MODULE:NAME, and MODULE:FACTORY(args) for scenarios built by a
function (parametrized ones), with errors that say what to write."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from rabble_sim.core import UsageError
from rabble_sim.schedule import load_scenario

FACTORIES = """
from rabble_sim import Pid, Scenario

def make(nodes, name="made"):
    return Scenario(name, [f"n{i}" for i in range(nodes)], lambda node, durable: [])

def broken(n):
    raise ValueError("no such size")

def not_one():
    return 42
"""


@pytest.fixture
def factories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "factories_mod.py").write_text(textwrap.dedent(FACTORIES))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "factories_mod", raising=False)
    return "factories_mod"


def test_a_factory_reference_builds_the_scenario_with_its_literal_arguments(
    factories: str,
) -> None:
    scenario = load_scenario(f"{factories}:make(3, name='three')")
    assert scenario.name == "three" and scenario.nodes == ("n0", "n1", "n2")
    assert load_scenario(f"{factories}:make(2)").nodes == ("n0", "n1")


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ("make(size)", "its arguments Python literals"),
        ("make(1)(2)", "not a call of a name"),
        ("make(**{'nodes': 1})", "no \\*\\*arguments"),
        ("broken(1)", r"the factory raised ValueError\('no such size'\)"),
        ("not_one()", "built int, not a Scenario"),
        ("nowhere(1)", "nowhere does not exist"),
    ],
)
def test_a_bad_factory_reference_says_what_is_wrong(
    factories: str, call: str, problem: str
) -> None:
    with pytest.raises(UsageError, match=problem):
        load_scenario(f"{factories}:{call}")
