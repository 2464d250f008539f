"""Use cases as plain functions taking a Session; the caller owns the transaction."""

# The modules whose @on_complete / @on_passed handlers the engine's steps dispatch to, one per
# diagram in workflows/: importing the services package registers them, whichever entry point
# (web, CLI, scheduler) comes first.
from . import (  # noqa: F401
    activity_report,  # activity_report.bpmn
    annual,  # annual_report.bpmn
    area_reconciliation,  # area_reconciliation.bpmn
    deviations,  # deviation.bpmn
    proposals,  # activity_proposal.bpmn
    reporting_cycle,  # reporting_cycle.bpmn
)
