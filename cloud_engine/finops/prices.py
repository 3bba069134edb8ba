"""Prices the catalogue does not carry, with their sources (USD, rounded public list prices).

Used by the synthetic data set to price resources and by the orphaned-resource recommender
to turn a snapshot's monthly cost back into an approximate size for its CO2e estimate.
"""

from __future__ import annotations

PUBLIC_IP_HOURLY = 0.005  # AWS public IPv4 address charge (Feb 2024); GCP and Azure are similar
SNAPSHOT_GB_MONTH = 0.05  # AWS EBS snapshot, standard tier

__all__ = ["PUBLIC_IP_HOURLY", "SNAPSHOT_GB_MONTH"]
