"""Deterministic recommenders: one module per kind, run together by `engine.run_recommenders`."""

from cloud_engine.finops.recommenders.base import Thresholds
from cloud_engine.finops.recommenders.engine import run_recommenders

__all__ = ["Thresholds", "run_recommenders"]
