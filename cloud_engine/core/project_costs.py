"""What a project costs per month as applied: its resources and the network plumbing they need.

Why plumbing belongs here: validation counts the NAT gateways, their addresses and private
DNS zones the provider configuration adds (`cost.plumbing_change`, priced by
`iac/plumbing.py`) in every estimate and budget check, and the lobby shows them. A project
estimate that left them out (`/cloud-costs` did) would disagree with the lobby by exactly
that amount, and read as under budget when validation says it is not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloud_engine.core.models import Project, SessionResource
from cloud_engine.errors import InvalidInput

if TYPE_CHECKING:
    from cloud_engine.iac.plumbing import PlumbingItem

__all__ = ["ProjectCosts", "project_costs"]


@dataclass(frozen=True)
class ProjectCosts:
    """A project's applied resources and its priced plumbing; `total_monthly` is what validation counts."""

    project: Project
    resources: tuple[SessionResource, ...]
    plumbing: tuple[PlumbingItem, ...]  # every plumbing resource, priced ones and those with no charge of their own
    unpriced: str | None = None  # why the plumbing could not be priced (the renderer refused the configuration)

    @property
    def resources_monthly(self) -> float:
        return round(sum(r.cost_monthly for r in self.resources), 2)

    @property
    def plumbing_monthly(self) -> float:
        return round(sum(i.monthly_usd for i in self.plumbing), 2)

    @property
    def total_monthly(self) -> float:
        return round(self.resources_monthly + self.plumbing_monthly, 2)


def _plumbing(project: Project, resources: Sequence[SessionResource]) -> tuple[tuple[PlumbingItem, ...], str | None]:
    from cloud_engine.iac.plumbing import network_plumbing  # lazily, as cost.py: iac imports core

    try:
        return tuple(network_plumbing(project.catalog_provider, [r.spec for r in resources],
                                      project_name=project.name, region=project.region)), None
    except InvalidInput as exc:
        return (), exc.message


async def project_costs(project: Project, resources: Sequence[SessionResource]) -> ProjectCosts:
    """The project's monthly estimate as applied; renders the project once, in a worker thread."""
    plumbing, unpriced = await asyncio.to_thread(_plumbing, project, resources)
    return ProjectCosts(project=project, resources=tuple(resources), plumbing=plumbing, unpriced=unpriced)
