"""Viewstamped Replication Revisited (Liskov and Cowling, 2012) over a typed key-value store.

Each consensus group is one replica on each of its nodes (``Pid("replica", node,
group=...)``); several groups may share nodes, as in Haret. The replicated state machine
is a key-value store with blobs, queues, sets and compare-and-swap (``kv``). Clients run
one operation at a time, retry until answered and record each in the run's history;
their calls are a fixed workload, or inputs (``Submit``) the run draws over every kv
operation (``generated``). ``scenario`` (three replicas), ``five_replicas`` and
``two_groups`` are correct; the ``bug_*`` scenarios each reintroduce one classic mistake.
Each has a ``*_generated`` twin whose clients take generated inputs.
"""

from .client import STALL_RETRIES, Answer, Client, client_pid, restored_first
from .generated import draw_call, draw_register_call, submit_calls, submit_register_calls
from .kv import KV_MODEL, Call, KvState, Result, TypedKvModel, apply_call
from .messages import Submit
from .replica import Replica, replica_pid
from .scenarios import (
    BLOCK,
    FAULTS,
    INPUTS,
    OPS,
    REGISTER,
    WORKLOADS,
    bug_commit_without_quorum,
    bug_commit_without_quorum_generated,
    bug_local_reads,
    bug_local_reads_generated,
    bug_no_dedup,
    bug_no_dedup_generated,
    bug_no_recovery,
    bug_no_recovery_generated,
    bug_wrong_log,
    bug_wrong_log_generated,
    five_replicas,
    five_replicas_generated,
    scenario,
    scenario_generated,
    two_groups,
    two_groups_generated,
    vr_scenario,
    workload,
)
from .state import NORMAL, RECOVERING, TRANSFERRING, VIEW_CHANGE, Bugs, Cached, ReplicaState

__all__ = [
    "BLOCK",
    "FAULTS",
    "INPUTS",
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
    "Submit",
    "TypedKvModel",
    "apply_call",
    "bug_commit_without_quorum",
    "bug_commit_without_quorum_generated",
    "bug_local_reads",
    "bug_local_reads_generated",
    "bug_no_dedup",
    "bug_no_dedup_generated",
    "bug_no_recovery",
    "bug_no_recovery_generated",
    "bug_wrong_log",
    "bug_wrong_log_generated",
    "client_pid",
    "draw_call",
    "draw_register_call",
    "five_replicas",
    "five_replicas_generated",
    "replica_pid",
    "restored_first",
    "scenario",
    "scenario_generated",
    "submit_calls",
    "submit_register_calls",
    "two_groups",
    "two_groups_generated",
    "vr_scenario",
    "workload",
]
