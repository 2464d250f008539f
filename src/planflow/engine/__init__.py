"""Everything that imports SpiffWorkflow: loading and checking specs, the safe expression
engine, the clock-driven timers, (de)serializing instances, running them, validating forms.

Nothing outside this package sees a SpiffWorkflow object: it hands out ProcessRun, HumanTask,
ArmedTimer and plain data.
"""

from .expressions import ExpressionError
from .forms import FormError, FormLibrary
from .runner import ArmedTimer, HumanTask, ProcessRun, StateError, StuckError
from .specs import ProcessDefinition, SpecError, SpecLibrary

__all__ = [
    "ArmedTimer",
    "ExpressionError",
    "FormError",
    "FormLibrary",
    "HumanTask",
    "ProcessDefinition",
    "ProcessRun",
    "SpecError",
    "SpecLibrary",
    "StateError",
    "StuckError",
]
