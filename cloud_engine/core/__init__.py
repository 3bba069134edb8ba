"""The deployment core: state machine, permissions, quotas, policies and cost."""

from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import (
    FirewallRule,
    Project,
    ResourceSpec,
    Role,
    Session,
    State,
    Subnet,
    ValidationResult,
    Violation,
)
from cloud_engine.core.orchestrator import CloudOrchestrator
from cloud_engine.core.policies import Policy, PolicySpec
from cloud_engine.errors import (
    EngineError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    ProjectLocked,
    QuotaExceeded,
    StalePlan,
)

__all__ = [
    "CloudOrchestrator", "CostEstimator", "EngineError", "FirewallRule", "IllegalTransition", "InvalidInput",
    "NotFound", "PermissionDenied", "Policy", "PolicySpec", "PolicyViolation", "Project", "ProjectLocked",
    "QuotaExceeded", "ResourceSpec", "Role", "Session", "StalePlan", "State", "Subnet", "ValidationResult",
    "Violation",
]
