"""The two hosts a conformance case runs on, and the checks that tie them together.

``@on_hosts()`` runs a test once with the simulator and once with real nodes (``host``);
a divergence is marked on the host that breaks the expectation (or on both, when the
simulator is the one the guide says is wrong and TCP then differs from it), with
``xfail(strict=True)`` so that the mark must go once the hosts agree.
``same_everywhere`` is the promise itself: whatever the test asserts, the run gave the
same states, dead letters, durable data and histories as the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from .case import Case, Host, Outcome
from .sim_host import SimHost
from .tcp_host import TcpHost

SIM = SimHost()
TCP = TcpHost()
Test = TypeVar("Test", bound=Callable[..., Any])


def on_hosts(
    *, sim: pytest.MarkDecorator | None = None, tcp: pytest.MarkDecorator | None = None
) -> Callable[[Test], Test]:
    """Parametrize ``host`` over both hosts, with ``sim`` or ``tcp`` as that host's mark."""
    return pytest.mark.parametrize(
        "host",
        [
            pytest.param(SIM, id="sim", marks=() if sim is None else sim),
            pytest.param(TCP, id="tcp", marks=() if tcp is None else tcp),
        ],
    )


def same_everywhere(host: Host, case: Case, outcome: Outcome) -> None:
    """``outcome`` (of ``case`` on ``host``) is what a fresh simulated run gives: on the
    TCP host that is the conformance itself, on the simulator its determinism."""
    reference = SIM.run(case)
    assert outcome.states == reference.states, f"process states differ on {host.name}"
    assert outcome.dead_letters == reference.dead_letters, f"dead letters differ on {host.name}"
    assert outcome.durable == reference.durable, f"durable data differs on {host.name}"
    assert outcome.history == reference.history, f"histories differ on {host.name}"
