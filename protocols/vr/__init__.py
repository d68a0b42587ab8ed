"""Viewstamped Replication Revisited (Liskov and Cowling, 2012) over a typed key-value store.

Each consensus group is one replica on each of its nodes (``Pid("replica", node,
group=...)``); several groups may share nodes, as in Haret. The replicated state machine
is a key-value store with blobs, queues, sets and compare-and-swap (``kv``). Clients run
one operation at a time, retry until answered and record each in the run's history.
``scenario`` (three replicas), ``five_replicas`` and ``two_groups`` are correct; the
``bug_*`` scenarios each reintroduce one classic mistake.
"""

from .client import STALL_RETRIES, Answer, Client, client_pid, restored_first
from .kv import KV_MODEL, Call, KvState, Result, TypedKvModel, apply_call
from .replica import Replica, replica_pid
from .scenarios import (
    FAULTS,
    OPS,
    REGISTER,
    WORKLOADS,
    bug_commit_without_quorum,
    bug_local_reads,
    bug_no_dedup,
    bug_no_recovery,
    bug_wrong_log,
    five_replicas,
    scenario,
    two_groups,
    vr_scenario,
    workload,
)
from .state import NORMAL, RECOVERING, TRANSFERRING, VIEW_CHANGE, Bugs, Cached, ReplicaState

__all__ = [
    "FAULTS",
    "KV_MODEL",
    "NORMAL",
    "OPS",
    "RECOVERING",
    "REGISTER",
    "STALL_RETRIES",
    "TRANSFERRING",
    "VIEW_CHANGE",
    "WORKLOADS",
    "Answer",
    "Bugs",
    "Cached",
    "Call",
    "Client",
    "KvState",
    "Replica",
    "ReplicaState",
    "Result",
    "TypedKvModel",
    "apply_call",
    "bug_commit_without_quorum",
    "bug_local_reads",
    "bug_no_dedup",
    "bug_no_recovery",
    "bug_wrong_log",
    "client_pid",
    "five_replicas",
    "replica_pid",
    "restored_first",
    "scenario",
    "two_groups",
    "vr_scenario",
    "workload",
]
