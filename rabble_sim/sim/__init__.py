"""The simulator: the World, events, choosers, the run loop and its trace."""

from ._branches import (
    MAX_INPUT_VARIANTS as MAX_INPUT_VARIANTS,
    branches as branches,
    input_variants as input_variants,
)
from ._choosers import (
    Chooser as Chooser,
    DrawingChooser as DrawingChooser,
    Draws as Draws,
    FairChooser as FairChooser,
    RandomChooser as RandomChooser,
    RecordedDraws as RecordedDraws,
    ReplayChooser as ReplayChooser,
    SeededDraws as SeededDraws,
)
from ._enabled import Enabled as Enabled, Possible as Possible
from ._events import (
    EVENT_KINDS as EVENT_KINDS,
    FAULT_KINDS as FAULT_KINDS,
    CorruptDisk as CorruptDisk,
    Crash as Crash,
    Deliver as Deliver,
    Drift as Drift,
    Drop as Drop,
    Duplicate as Duplicate,
    Event as Event,
    FireTimer as FireTimer,
    Heal as Heal,
    Input as Input,
    Jump as Jump,
    LoseDisk as LoseDisk,
    Partition as Partition,
    Restart as Restart,
)
from ._failures import CheckFailed as CheckFailed, EventNotEnabled as EventNotEnabled
from ._inputs import (
    INPUT_SENDER as INPUT_SENDER,
    Draw as Draw,
    InputOffer as InputOffer,
    Inputs as Inputs,
    replaying as replaying,
    simplest as simplest,
)
from ._network import Network as Network, partition_problem as partition_problem
from ._parcel import Parcel as Parcel
from ._pct import PCTChooser as PCTChooser
from ._run import (
    NOT_DETERMINISTIC as NOT_DETERMINISTIC,
    Observer as Observer,
    RunResult as RunResult,
    Violation as Violation,
    collector_paused as collector_paused,
    fair_ending as fair_ending,
    first_failure as first_failure,
    history_check as history_check,
    recorded as recorded,
    run as run,
)
from ._scenario import (
    Faults as Faults,
    Invariant as Invariant,
    Liveness as Liveness,
    Postcondition as Postcondition,
    Precondition as Precondition,
    Scenario as Scenario,
)
from ._summary import (
    cid_summary as cid_summary,
    envelope_summary as envelope_summary,
    summarize as summarize,
)
from ._swarm import fault_kinds as fault_kinds, swarm_faults as swarm_faults
from ._symmetry_groups import symmetry_problem as symmetry_problem
from ._timers import Timer as Timer, Timers as Timers
from ._topology import SHAPES as SHAPES, Link as Link
from ._trace import Trace as Trace, envelope_plain as envelope_plain, event_plain as event_plain
from ._view import View as View
from ._watchdog import (
    DEFAULT_STEP_TIMEOUT as DEFAULT_STEP_TIMEOUT,
    STEP_TIMEOUT as STEP_TIMEOUT,
    Interrupted as Interrupted,
    StepTimeout as StepTimeout,
    UserInterrupt as UserInterrupt,
    watching as watching,
)
from ._world import APPLIERS as APPLIERS, World as World

__all__ = [
    "APPLIERS",
    "DEFAULT_STEP_TIMEOUT",
    "EVENT_KINDS",
    "INPUT_SENDER",
    "MAX_INPUT_VARIANTS",
    "STEP_TIMEOUT",
    "CheckFailed",
    "Chooser",
    "Crash",
    "Deliver",
    "Draw",
    "DrawingChooser",
    "Draws",
    "Drop",
    "Duplicate",
    "Enabled",
    "Event",
    "EventNotEnabled",
    "FairChooser",
    "Faults",
    "FireTimer",
    "Heal",
    "Input",
    "InputOffer",
    "Inputs",
    "Interrupted",
    "Invariant",
    "Liveness",
    "Network",
    "Observer",
    "PCTChooser",
    "Parcel",
    "Partition",
    "Possible",
    "Postcondition",
    "Precondition",
    "RandomChooser",
    "RecordedDraws",
    "ReplayChooser",
    "Restart",
    "RunResult",
    "Scenario",
    "SeededDraws",
    "StepTimeout",
    "Timer",
    "Timers",
    "Trace",
    "UserInterrupt",
    "View",
    "Violation",
    "World",
    "branches",
    "cid_summary",
    "collector_paused",
    "envelope_plain",
    "envelope_summary",
    "event_plain",
    "fair_ending",
    "fault_kinds",
    "first_failure",
    "history_check",
    "input_variants",
    "partition_problem",
    "recorded",
    "replaying",
    "run",
    "simplest",
    "summarize",
    "swarm_faults",
    "symmetry_problem",
    "watching",
]
