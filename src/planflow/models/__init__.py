"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from .audit import AuditEvent, AuditHead
from .base import Base
from .people import ApiToken, Role, RoleAssignment, Substitution, User
from .plan import Activity, ActivityState, FocusArea, InterventionArea, Plan, Status
from .reporting import (
    CycleState,
    Decision,
    Deviation,
    DeviationState,
    ReportingCycle,
    ReviewOutcome,
    StatusReport,
)

__all__ = [
    "Activity",
    "ActivityState",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Base",
    "CycleState",
    "Decision",
    "Deviation",
    "DeviationState",
    "FocusArea",
    "InterventionArea",
    "Plan",
    "ReportingCycle",
    "ReviewOutcome",
    "Role",
    "RoleAssignment",
    "Status",
    "StatusReport",
    "Substitution",
    "User",
]
