"""rabble-sim: deterministic simulation testing for distributed algorithms written as actors.

Write each node's processes as pure ``handle(msg, from_, cid, output)`` objects, describe
a ``Scenario``, and let the simulator explore deliveries, timeouts and faults while it
checks your invariants at every step.
"""

from ._version import __version__ as __version__
from .core import (
    CancelTimer as CancelTimer,
    ClusterStatus as ClusterStatus,
    CorrelationId as CorrelationId,
    Envelope as Envelope,
    ExecutorStatus as ExecutorStatus,
    GetExecutorStatus as GetExecutorStatus,
    GetMetrics as GetMetrics,
    Metrics as Metrics,
    NodeId as NodeId,
    Persist as Persist,
    Pid as Pid,
    Process as Process,
    RabbleError as RabbleError,
    Shutdown as Shutdown,
    StartTimer as StartTimer,
    Timeout as Timeout,
    cancel_timer as cancel_timer,
    executor_pid as executor_pid,
    message as message,
    persist as persist,
    start_timer as start_timer,
)
from .sim import (
    Faults as Faults,
    Liveness as Liveness,
    RandomChooser as RandomChooser,
    RunResult as RunResult,
    Scenario as Scenario,
    View as View,
    Violation as Violation,
    run as run,
)

__all__ = [
    "CancelTimer",
    "ClusterStatus",
    "CorrelationId",
    "Envelope",
    "ExecutorStatus",
    "Faults",
    "GetExecutorStatus",
    "GetMetrics",
    "Liveness",
    "Metrics",
    "NodeId",
    "Persist",
    "Pid",
    "Process",
    "RabbleError",
    "RandomChooser",
    "RunResult",
    "Scenario",
    "Shutdown",
    "StartTimer",
    "Timeout",
    "View",
    "Violation",
    "__version__",
    "cancel_timer",
    "executor_pid",
    "message",
    "persist",
    "run",
    "start_timer",
]
