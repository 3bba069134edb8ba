"""FinOps: FOCUS cost + utilisation ingestion, analysis, and deterministic recommendations.

Entry point for every caller is `FinOpsService` (see `service.py`); results are the
pydantic models in `models.py`.

The names below are loaded on first use, not on import: `models.py` needs only pydantic,
while the service pulls in DuckDB, matplotlib and the engine core. A module that only needs
the vocabulary (the advisor's FinOps review compares `RecommendationKind`s) can import
`cloud_engine.finops.models` without paying for, or cycling through, the rest.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloud_engine.finops.chart import render_daily_cost_chart
    from cloud_engine.finops.models import (
        Anomaly,
        AnomalyReport,
        CostSummary,
        DailyServiceCosts,
        Forecast,
        IngestReport,
        Recommendation,
        RecommendationSet,
    )
    from cloud_engine.finops.service import FinOpsService

__all__ = [
    "Anomaly", "AnomalyReport", "CostSummary", "DailyServiceCosts", "FinOpsService", "Forecast", "IngestReport",
    "Recommendation", "RecommendationSet", "render_daily_cost_chart",
]

_HOME = {"FinOpsService": "service", "render_daily_cost_chart": "chart"}


def __getattr__(name: str) -> Any:
    """Import the submodule that defines `name` the first time someone asks for it."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOME.get(name, 'models')}"), name)
    globals()[name] = value
    return value
