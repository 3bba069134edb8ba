"""Carbon estimates: grid intensity per region and an energy model for VMs and disks.

Why an explicit, simple model: recommendations quote a CO2e delta next to the dollar
delta, so the arithmetic must be reproducible from data files that state their sources:
`cloud_engine/data/carbon_intensity.json` (gCO2e/kWh per region) and
`cloud_engine/finops/data/energy_coefficients.json` (Cloud Carbon Footprint coefficients).

VM power (W) = vCPUs x (min_W + cpu% / 100 x (max_W - min_W)) + memory_GB x 0.392
kg CO2e/month = W x 730 h / 1000 x PUE x intensity(g/kWh) / 1000
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cloud_engine.data.catalog import load_catalog

INTENSITY_PATH = Path(__file__).resolve().parent.parent / "data" / "carbon_intensity.json"
ENERGY_PATH = Path(__file__).resolve().parent / "data" / "energy_coefficients.json"


@dataclass(frozen=True)
class RegionCarbon:
    intensity: float  # gCO2e/kWh
    geography: str


@dataclass(frozen=True)
class CarbonModel:
    regions: dict[str, dict[str, RegionCarbon]]
    providers: dict[str, dict[str, float]]
    memory_watts_per_gb: float
    ssd_watts_per_tb: float
    hdd_watts_per_tb: float
    replication: float
    intensity_source: str
    energy_source: str

    def region(self, provider: str, region: str | None) -> RegionCarbon | None:
        return self.regions.get(provider, {}).get(region or "")

    def vm_watts(self, provider: str, vcpus: float, memory_gb: float, cpu_pct: float) -> float:
        coeff = self.providers.get(provider, self.providers["aws"])
        util = min(max(cpu_pct, 0.0), 100.0) / 100.0
        per_vcpu = coeff["min_watts_per_vcpu"] + util * (coeff["max_watts_per_vcpu"] - coeff["min_watts_per_vcpu"])
        return vcpus * per_vcpu + memory_gb * self.memory_watts_per_gb

    def storage_watts(self, size_gb: float, *, ssd: bool = True) -> float:
        per_tb = self.ssd_watts_per_tb if ssd else self.hdd_watts_per_tb
        return size_gb / 1024.0 * per_tb * self.replication

    def kg_per_month(self, provider: str, region: str | None, watts: float) -> float | None:
        """Monthly kg CO2e for a constant draw; None when the region's intensity is unknown."""
        carbon = self.region(provider, region)
        if carbon is None:
            return None
        pue = self.providers.get(provider, self.providers["aws"])["pue"]
        kwh = watts * load_catalog().hours_per_month / 1000.0 * pue
        return kwh * carbon.intensity / 1000.0


@lru_cache(maxsize=1)
def load_carbon_model() -> CarbonModel:
    """Read both data files once per process."""
    intensity = json.loads(INTENSITY_PATH.read_text("utf-8"))
    energy = json.loads(ENERGY_PATH.read_text("utf-8"))
    regions = {p: {r: RegionCarbon(float(v["intensity"]), str(v["geography"])) for r, v in rs.items()}
               for p, rs in intensity["regions"].items()}
    return CarbonModel(
        regions=regions, providers=energy["providers"], memory_watts_per_gb=energy["memory_watts_per_gb"],
        ssd_watts_per_tb=energy["ssd_watts_per_tb"], hdd_watts_per_tb=energy["hdd_watts_per_tb"],
        replication=energy["block_storage_replication"],
        intensity_source=f"{intensity['source']} ({intensity['year']})", energy_source=energy["source"],
    )


__all__ = ["CarbonModel", "RegionCarbon", "load_carbon_model"]
