"""Viewstamped Replication Revisited (Liskov and Cowling, 2012) over a typed key-value store."""

from .scenarios import (
    bug_commit_without_quorum as bug_commit_without_quorum,
    bug_ignore_nonce as bug_ignore_nonce,
    bug_local_reads as bug_local_reads,
    bug_log_by_op_number as bug_log_by_op_number,
    bug_no_dedup as bug_no_dedup,
    bug_no_recovery as bug_no_recovery,
    five_replicas as five_replicas,
    scenario as scenario,
    two_groups as two_groups,
)
