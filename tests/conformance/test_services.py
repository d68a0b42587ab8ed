"""Services on both hosts: ``ServiceResult`` with the call's cid, ``ServiceFailed`` for a
service nobody registered or one that raises. (That another node's process may not call
them is in ``test_requests``.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rabble_sim import Envelope, Pid
from rabble_sim.core import call_service

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Go, Recorder

A = Pid("p", "a")
EXECUTOR_A = "rabble::executor::a"


def fails(n: int) -> int:
    raise ValueError(f"bad input {n}")


SERVICES: dict[str, Callable[..., Any]] = {
    "double": lambda n: 2 * n,
    "fails": fails,
    "pair": lambda a, b: (a, b),
}


class CallsInTurn(Recorder):
    """Calls each service once its previous call was answered."""

    calls = (("double", (21,)), ("nope", ()), ("fails", (3,)))

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        done = len(self.log)
        if done < len(self.calls):
            service, args = self.calls[done]
            output.append(call_service(self.pid, service, *args, cid=self.cid(done + 1)))


@on_hosts()
def test_a_service_answers_its_result_or_why_it_failed(host: Host) -> None:
    case = Case({A: CallsInTurn}, services=SERVICES)
    out = host.run(case)
    assert out.log(A) == [
        ("ServiceResult(service='double', value=42)", EXECUTOR_A, 1),
        ("ServiceFailed(service='nope', reason=\"no service named 'nope' on a\")", EXECUTOR_A, 2),
        ("ServiceFailed(service='fails', reason=\"ValueError('bad input 3')\")", EXECUTOR_A, 3),
    ]
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


class CallsAtOnce(Recorder):
    """Calls a service four times in one output, and keeps its log in a canonical order:
    a TCP node runs services in a pool of threads, so the answers may come back in any
    order, which the semantics leave open (each is matched to its call by its cid)."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.extend(call_service(self.pid, "double", n, cid=self.cid(n)) for n in range(4))
        self.log.sort(key=str)


@on_hosts()
def test_calls_made_together_are_each_answered_with_their_cid(host: Host) -> None:
    case = Case({A: CallsAtOnce}, services=SERVICES)
    out = host.run(case)
    assert out.log(A) == [
        (f"ServiceResult(service='double', value={2 * n})", EXECUTOR_A, n) for n in range(4)
    ]
    same_everywhere(host, case, out)


class GetsATuple(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(call_service(self.pid, "pair", 1, 2, cid=self.cid(1)))


@on_hosts()
def test_a_service_result_arrives_as_the_wire_would_carry_it(host: Host) -> None:
    case = Case({A: GetsATuple}, services=SERVICES)
    out = host.run(case)
    assert out.log(A) == [("ServiceResult(service='pair', value=[1, 2])", EXECUTOR_A, 1)]
    same_everywhere(host, case, out)
