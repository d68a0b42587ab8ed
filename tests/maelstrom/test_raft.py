"""``protocols.raft:maelstrom``, the lin-kv node on Raft, driven as Maelstrom drives it."""

from __future__ import annotations

import time
from typing import Any

from .driver import Maelstrom

RAFT = "protocols.raft:maelstrom"


def served(cluster: Maelstrom, node: str, body: dict[str, Any], client: str = "c1") -> Any:
    """The reply to ``body``, asked again while the node knows no leader yet (error 11,
    definite: nothing happened), as a Maelstrom client would."""
    deadline = time.monotonic() + 10
    while True:
        reply = cluster.request(node, body, client=client)
        if reply["type"] != "error" or reply["code"] != 11 or time.monotonic() > deadline:
            return reply
        time.sleep(0.05)


def test_a_single_node_cluster_serves_lin_kv() -> None:
    with Maelstrom(RAFT, ["n1"]) as cluster:
        cluster.init()
        assert served(cluster, "n1", {"type": "write", "key": 1, "value": 10})["type"] == "write_ok"
        assert served(cluster, "n1", {"type": "read", "key": 1})["value"] == 10
        cas = {"type": "cas", "key": 1, "from": 10, "to": 11}
        assert served(cluster, "n1", cas)["type"] == "cas_ok"
        assert served(cluster, "n1", {"type": "read", "key": 1})["value"] == 11
        wrong = served(cluster, "n1", cas)  # from 10, but it is 11 now
        assert (wrong["type"], wrong["code"]) == ("error", 22)
        missing = served(cluster, "n1", {"type": "read", "key": 2})
        assert (missing["type"], missing["code"]) == ("error", 20)
        missing = served(cluster, "n1", {"type": "cas", "key": 2, "from": 1, "to": 2})
        assert (missing["type"], missing["code"]) == ("error", 20)
    assert cluster.exit_codes == {"n1": 0}
    assert cluster.not_envelopes == []


def test_three_nodes_replicate_through_maelstroms_network() -> None:
    with Maelstrom(RAFT, ["n1", "n2", "n3"]) as cluster:
        cluster.init()
        write = {"type": "write", "key": "k", "value": [1, "a"]}
        assert served(cluster, "n2", write)["type"] == "write_ok"
        for node in ("n1", "n2", "n3"):
            assert served(cluster, node, {"type": "read", "key": "k"}, "c2")["value"] == [1, "a"]
        cas = {"type": "cas", "key": "k", "from": [1, "a"], "to": 3}
        assert served(cluster, "n3", cas, "c3")["type"] == "cas_ok"
        again = served(cluster, "n1", cas, "c3")
        assert (again["type"], again["code"]) == ("error", 22)
        assert served(cluster, "n1", {"type": "read", "key": "k"})["value"] == 3
        # Raft's messages went through the driver: every node wrote some for the others.
        for node in cluster.nodes.values():
            assert any(b'"type":"rabble"' in line for line in node.out), node.id
    assert cluster.exit_codes == {"n1": 0, "n2": 0, "n3": 0}
    assert cluster.not_envelopes == []
