"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from .audit import AuditCheckpoint, AuditEvent, AuditHead
from .base import Base
from .issued import IssuedReport, IssuedReportFile
from .login import LoginFailure
from .mail import Notice
from .people import ApiToken, AuthFailure, IdempotencyKey, Role, RoleAssignment, Substitution, User
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
from .scheduling import JobMark, JobRun, SharedClock
from .workflow import (
    NEVER_DUE,
    RUNNING_ONLY,
    InstanceState,
    OpenTask,
    PendingTimer,
    ProcessInstance,
    ProcessSpec,
)

__all__ = [
    "JobMark",
    "JobRun",
    "SharedClock",
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
    "IssuedReport",
    "IssuedReportFile",
    "LoginFailure",
    "Notice",
    "NEVER_DUE",
    "RUNNING_ONLY",
    "OpenTask",
    "PendingTimer",
    "ProcessInstance",
    "ProcessSpec",
    "SteeringMeeting",
    "Activity",
    "ActivityState",
    "ApiToken",
    "AuthFailure",
    "IdempotencyKey",
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
