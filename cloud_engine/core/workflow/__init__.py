"""The deployment workflow: one concern per module, composed into `DeploymentWorkflow`.

DRAFT → VALIDATING → PLANNING → PLAN_READY → APPROVED → APPLYING → APPLIED (or FAILED /
CANCELLED / EXPIRED). Each part is a small class over `WorkflowBase`, which alone holds the
one transition function; `CloudOrchestrator` (core/orchestrator.py) is the facade over it.
Like Red-DiscordBot's composed cogs, the parts share one object so a session's rules never
need passing around, and each part reads and tests on its own.
"""

from cloud_engine.core.workflow._base import WorkflowBase
from cloud_engine.core.workflow.applying import Applying
from cloud_engine.core.workflow.editing import SessionEditing
from cloud_engine.core.workflow.ending import Ending
from cloud_engine.core.workflow.planning import Planning
from cloud_engine.core.workflow.rollback import Rollback
from cloud_engine.core.workflow.validating import Validating

__all__ = ["DeploymentWorkflow", "WorkflowBase"]


class DeploymentWorkflow(SessionEditing, Validating, Planning, Applying, Ending, Rollback, WorkflowBase):
    """Sessions from DRAFT to their end; the parts are listed in the order a session meets them."""
