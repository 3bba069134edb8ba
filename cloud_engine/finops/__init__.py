"""FinOps: FOCUS cost + utilisation ingestion, analysis, and deterministic recommendations.

Entry point for every caller is `FinOpsService` (see `service.py`); results are the
pydantic models in `models.py`.
"""

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
