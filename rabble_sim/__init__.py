"""rabble-sim: deterministic simulation testing for distributed algorithms written as actors.

Write each node's processes as pure ``handle(msg, from_, cid, output)`` objects, describe
a ``Scenario``, and let the simulator explore deliveries, timeouts and faults while it
checks your invariants at every step.
"""

from ._version import __version__ as __version__
from .core import (
    CancelTimer as CancelTimer,
)
from .core import (
    ClusterStatus as ClusterStatus,
)
from .core import (
    CorrelationId as CorrelationId,
)
from .core import (
    Envelope as Envelope,
)
from .core import (
    ExecutorStatus as ExecutorStatus,
)
from .core import (
    GetExecutorStatus as GetExecutorStatus,
)
from .core import (
    GetMetrics as GetMetrics,
)
from .core import (
    Metrics as Metrics,
)
from .core import (
    NodeId as NodeId,
)
from .core import (
    Persist as Persist,
)
from .core import (
    Pid as Pid,
)
from .core import (
    Process as Process,
)
from .core import (
    RabbleError as RabbleError,
)
from .core import (
    Shutdown as Shutdown,
)
from .core import (
    StartTimer as StartTimer,
)
from .core import (
    Timeout as Timeout,
)
from .core import (
    cancel_timer as cancel_timer,
)
from .core import (
    executor_pid as executor_pid,
)
from .core import (
    message as message,
)
from .core import (
    persist as persist,
)
from .core import (
    start_timer as start_timer,
)
from .sim import (
    Faults as Faults,
)
from .sim import (
    Liveness as Liveness,
)
from .sim import (
    RandomChooser as RandomChooser,
)
from .sim import (
    RunResult as RunResult,
)
from .sim import (
    Scenario as Scenario,
)
from .sim import (
    View as View,
)
from .sim import (
    Violation as Violation,
)
from .sim import (
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
