"""What a process's ``init`` sees and sends at the first start of its cluster.

The one place where the hosts differ by nature (guide, section 9, "What differs"): the
simulator starts every node before any ``init`` runs (section 2), so what ``init`` sends
arrives; a TCP node runs its processes' ``init`` as it starts, before it has joined the
cluster, so what ``init`` sends to another node finds no such node (a dead letter) and a
watch from ``init`` is answered with the node itself. Each test states both, so that a
change on either side shows.
"""

from __future__ import annotations

from rabble_sim import Envelope, Pid
from rabble_sim.core import watch_cluster

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Note, Recorder

A, B = Pid("p", "a"), Pid("q", "b")


class GreetsFromInit(Recorder):
    def on_init(self, output: list[Envelope]) -> None:
        other = B if self.pid == A else A
        output.append(self.send(other, Note(f"hello from {self.pid}")))


@on_hosts()
def test_what_init_sends_to_another_node_arrives_in_the_simulator_only(host: Host) -> None:
    case = Case({A: GreetsFromInit, B: GreetsFromInit})
    out = host.run(case)
    if host.name == "sim":
        assert out.log(A) == [("Note(text='hello from q::b')", "q::b", None)]
        assert out.log(B) == [("Note(text='hello from p::a')", "p::a", None)]
        assert out.dead_letters == 0
        same_everywhere(host, case, out)
    else:
        assert out.log(A) == out.log(B) == []
        assert out.dead_letters == 2, "no node b, no node a, when each init ran"


class WatchesFromInit(Recorder):
    def on_init(self, output: list[Envelope]) -> None:
        output.append(watch_cluster(self.pid))


@on_hosts()
def test_a_watch_from_init_is_answered_with_every_node_in_the_simulator_only(host: Host) -> None:
    case = Case({A: WatchesFromInit, B: WatchesFromInit})
    out = host.run(case)
    for pid in (A, B):
        executor = f"rabble::executor::{pid.node}"
        first, *later = out.log(pid)
        if host.name == "sim":
            assert [first, *later] == [("ClusterStatus(members=('a', 'b'))", executor, None)]
        else:  # itself at first, then every node once they have joined
            assert first == (f"ClusterStatus(members=('{pid.node}',))", executor, None)
            assert later[-1] == ("ClusterStatus(members=('a', 'b'))", executor, None)
    if host.name == "sim":
        same_everywhere(host, case, out)
