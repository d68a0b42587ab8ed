"""The actor model: pids, envelopes, message types, built-in messages, errors."""

from ._errors import (
    CodecError as CodecError,
)
from ._errors import (
    InvalidDefinition as InvalidDefinition,
)
from ._errors import (
    RabbleError as RabbleError,
)
from ._errors import (
    RabbleInternalError as RabbleInternalError,
)
from ._errors import (
    UsageError as UsageError,
)
from ._messages import (
    EXECUTOR_GROUP as EXECUTOR_GROUP,
)
from ._messages import (
    REGISTRY as REGISTRY,
)
from ._messages import (
    CancelTimer as CancelTimer,
)
from ._messages import (
    ClusterStatus as ClusterStatus,
)
from ._messages import (
    ExecutorStatus as ExecutorStatus,
)
from ._messages import (
    GetExecutorStatus as GetExecutorStatus,
)
from ._messages import (
    GetMetrics as GetMetrics,
)
from ._messages import (
    MessageRegistry as MessageRegistry,
)
from ._messages import (
    Metrics as Metrics,
)
from ._messages import (
    Persist as Persist,
)
from ._messages import (
    Shutdown as Shutdown,
)
from ._messages import (
    StartTimer as StartTimer,
)
from ._messages import (
    Timeout as Timeout,
)
from ._messages import (
    cancel_timer as cancel_timer,
)
from ._messages import (
    executor_pid as executor_pid,
)
from ._messages import (
    message as message,
)
from ._messages import (
    persist as persist,
)
from ._messages import (
    start_timer as start_timer,
)
from ._pid import (
    CorrelationId as CorrelationId,
)
from ._pid import (
    Envelope as Envelope,
)
from ._pid import (
    NodeId as NodeId,
)
from ._pid import (
    Pid as Pid,
)
from ._process import Process as Process

__all__ = [
    "EXECUTOR_GROUP",
    "REGISTRY",
    "CancelTimer",
    "ClusterStatus",
    "CodecError",
    "CorrelationId",
    "Envelope",
    "ExecutorStatus",
    "GetExecutorStatus",
    "GetMetrics",
    "InvalidDefinition",
    "MessageRegistry",
    "Metrics",
    "NodeId",
    "Persist",
    "Pid",
    "Process",
    "RabbleError",
    "RabbleInternalError",
    "Shutdown",
    "StartTimer",
    "Timeout",
    "UsageError",
    "cancel_timer",
    "executor_pid",
    "message",
    "persist",
    "start_timer",
]
