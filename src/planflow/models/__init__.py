"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from .audit import AuditCheckpoint, AuditEvent, AuditHead
from .base import Base
from .login import LoginFailure
from .mail import Notice
from .people import ApiToken, Role, RoleAssignment, Substitution, User
from .plan import Activity, ActivityState, FocusArea, InterventionArea, Plan, Status
from .reporting import (
    ActivityProposal,
    AnnualReport,
    AnnualReportState,
    AreaReview,
    AreaReviewState,
    BusinessDialogue,
    CycleState,
    DecidingBody,
    Decision,
    Deviation,
    DeviationState,
    DialogueFeedback,
    ProposalState,
    ReportingCycle,
    ReviewOutcome,
    StatusReport,
    SteeringMeeting,
)
from .workflow import InstanceState, OpenTask, PendingTimer, ProcessInstance, ProcessSpec

__all__ = [
    "ActivityProposal",
    "AnnualReport",
    "AnnualReportState",
    "AreaReview",
    "AreaReviewState",
    "DecidingBody",
    "ProposalState",
    "BusinessDialogue",
    "DialogueFeedback",
    "InstanceState",
    "LoginFailure",
    "Notice",
    "OpenTask",
    "PendingTimer",
    "ProcessInstance",
    "ProcessSpec",
    "SteeringMeeting",
    "Activity",
    "ActivityState",
    "ApiToken",
    "AuditCheckpoint",
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
