"""The determinism self-check catches a process that iterates a set of strings."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

Cli = Callable[..., subprocess.CompletedProcess[str]]

GOSSIP = """
import attrs
from rabble_sim import Envelope, Pid, Scenario, message

NODES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]

@message("t.rumour")
@attrs.frozen
class Rumour:
    text: str

@attrs.define
class Gossip:
    pid: Pid
    sort: bool
    heard: list = attrs.Factory(list)

    def init(self, output):
        if self.pid.node == "alpha":
            peers = {n for n in NODES if n != "alpha"}
            for node in (sorted(peers) if self.sort else peers):
                output.append(Envelope(Pid("g", node), self.pid, Rumour("hello")))

    def handle(self, msg, from_, cid, output):
        self.heard.append(msg.text)

def start(sort):
    return lambda node, durable: [Gossip(Pid("g", node), sort)]

scenario = Scenario("gossip", NODES, start(True), max_steps=20)
bug_set_order = Scenario("gossip-set-order", NODES, start(False), max_steps=20)
"""


def test_a_deterministic_scenario_passes(cli: Cli, write_module: Callable[..., Path]) -> None:
    write_module("gossip", GOSSIP)
    done = cli("determinism", "gossip:scenario", "--seeds", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deterministic" in done.stdout


def test_iterating_a_set_of_strings_is_caught_at_its_step(
    cli: Cli, write_module: Callable[..., Path]
) -> None:
    write_module("gossip", GOSSIP)
    done = cli("determinism", "gossip:bug_set_order", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    # The sends happen in init, so the traces part at step 0, in what was sent.
    assert report["step"] == 0
    assert report["left"]["sent"] != report["right"]["sent"]
    human = cli("determinism", "gossip:bug_set_order")
    assert "the traces part at step 0" in human.stdout
    assert "they differ in: sent" in human.stdout


def test_an_unknown_scenario_is_a_usage_error(cli: Cli) -> None:
    done = cli("determinism", "nowhere:scenario")
    assert done.returncode == 2
    assert "no such module" in done.stderr
