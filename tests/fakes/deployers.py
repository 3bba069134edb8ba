"""A Deployer that plans and applies at once, for tests about the workflow and the bot, not Terraform."""

from __future__ import annotations

import itertools
from typing import Any

from cloud_engine.core.deployer import ApplyArtifact, PlanArtifact
from cloud_engine.iac.plan import PlanResult


class InstantDeployer:
    """Each plan gets a new fingerprint unless `same` (Terraform would find the same plan again)."""

    def __init__(self, *, same: bool = False) -> None:
        self._n = itertools.count(1)
        self.same = same

    async def plan(self, project: Any, desired: Any, *, session_id: int, sinks: Any = (),
                   allow_world_admin: Any = frozenset()) -> PlanArtifact:
        return PlanArtifact(result=PlanResult(), fingerprint="fp" if self.same else f"fp-{next(self._n)}")

    async def apply(self, project: Any, *, session_id: int, fingerprint: str, commit_message: str,
                    sinks: Any = ()) -> ApplyArtifact:
        return ApplyArtifact(commit_sha="a" * 40, state_json="{}")

    async def cancel(self, session_id: int) -> bool:
        return False
