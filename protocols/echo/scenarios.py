"""Echo scenarios: the correct one, the shared-cache bug (each also with generated payloads),
and a fault-free load generator."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rabble_sim import Draw, Faults, Inputs, Liveness, Pid, Scenario, View

from .messages import EchoReply, Say
from .processes import EchoClient, EchoServer, replies_match_requests, restored_first

SERVER = Pid("echo", "server")
NO_FAULTS = Faults()

PAYLOADS = ("a", "b", "c")
"""The payloads a generated input draws from: few, so that two clients' requests of one
number often carry the same payload (and the shared-cache bug hides) and sometimes not."""


def make_say(draw: Draw) -> Say:
    """A generated input: one more request, with a drawn payload (the simplest: ``a``)."""
    return Say(draw.choice(PAYLOADS))


def client_pid(i: int) -> Pid:
    """The pid of client ``i`` (from 1), alone on node ``c<i>``."""
    return Pid("client", f"c{i}")


def every_client_done(clients: Sequence[Pid]) -> Callable[[View], None]:
    """Liveness: every client is up and has a reply to each of its requests.

    It names the clients instead of scanning ``view.processes``: a client whose node is
    down is missing from the view, and must count as not done.
    """

    def every_client_done(view: View) -> None:
        for pid in clients:
            proc = view.processes.get(pid)
            assert proc is not None, f"{pid} is down"
            assert proc.done, f"{pid} has {len(proc.got)} of {proc.total} replies"

    return every_client_done


def _echo(
    name: str,
    clients: int,
    requests: int,
    *,
    per_client: bool = True,
    faults: Faults = NO_FAULTS,
    max_steps: int = 1000,
    checked: bool = True,
    inputs: int = 0,
) -> Scenario:
    """``clients`` clients of ``requests`` requests each, then of up to ``inputs`` more,
    whose payloads are drawn (``make_say``; each client has its own budget)."""
    pids = [client_pid(i) for i in range(1, clients + 1)]

    def start(node: str, durable: dict[Pid, Any] | None) -> list[EchoServer | EchoClient]:
        # A restarted server has an empty cache; a restarted client starts its fixed
        # requests over, numbered above any request it sent for a payload said.
        if node == SERVER.node:
            return [EchoServer(SERVER, per_client)]
        pid = Pid("client", node)
        return [EchoClient(pid, SERVER, requests, first=restored_first(durable, pid))]

    return Scenario(
        name=name,
        # Scenario.nodes has converter=tuple, which mypy cannot type (reported upstream).
        nodes=(SERVER.node, *(pid.node for pid in pids)),
        start=start,
        faults=faults,
        max_steps=max_steps,
        postconditions={EchoReply: [replies_match_requests]} if checked else {},
        liveness=Liveness(every_client_done(pids), within=300) if checked else None,
        inputs=[Inputs(to=[pid], make=make_say, max=inputs) for pid in pids] if inputs else (),
    )


# Messages are dropped and duplicated, and one node at a time (often the server) crashes.
_FAULTS = Faults(drop=0.1, duplicate=0.1, crash=1, crash_rate=0.02, restart_rate=0.1)

scenario = _echo("echo", clients=3, requests=4, faults=_FAULTS, max_steps=300)
"""A server and three clients of four requests each, under drops, duplicates and crashes."""

bug_shared_cache = _echo(
    "echo-shared-cache", clients=3, requests=4, per_client=False, faults=_FAULTS, max_steps=300
)
"""Known bug: the server's reply cache is keyed by ``n`` alone, so clients that send the
same ``n`` share an entry and one of them gets another's payload. No fault is needed."""

scenario_generated = _echo(
    "echo-generated", clients=3, requests=0, inputs=4, faults=_FAULTS, max_steps=300
)
"""``scenario`` with generated inputs: each client sends up to four requests, whose
payloads (and when they are given) the run draws."""

bug_shared_cache_generated = _echo(
    "echo-shared-cache-generated", clients=3, requests=0, inputs=4, per_client=False,
    faults=_FAULTS, max_steps=300,
)  # fmt: skip
"""``bug_shared_cache`` with generated payloads: now it shows only when two clients' requests
of one number carry different payloads, and a shrunk run says so (``a`` against ``b``)."""


def many_clients(clients: int, requests: int) -> Scenario:
    """``clients`` clients of ``requests`` requests each, with no faults and no checks.

    For throughput benchmarks: every step is protocol work, and nothing is checked per
    step. ``max_steps`` leaves room for every request and reply to be delivered.
    """
    return _echo(
        f"echo-many-clients-{clients}x{requests}",
        clients,
        requests,
        max_steps=4 * clients * requests + 100,
        checked=False,
    )
