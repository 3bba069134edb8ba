"""What the recommenders could not look at, and what to import so they can (`RecommendationSet.notes`).

Why: a real bill with no utilisation metrics yields no idle, rightsize or schedule advice,
and "0 recommendations" alone reads as "nothing to save". Each note names the recommenders
that could not run, why, and the command or export that would let them.
"""

from __future__ import annotations

from cloud_engine.finops.inventory import Inventory
from cloud_engine.finops.recommenders.base import Thresholds

METRICS_HOW = ("import them with `python main.py ingest metrics METRICS.csv` (resource_id,metric,timestamp,value,"
               "unit; ids as in the bill's ResourceId) or sync a provider with `python main.py ingest aws|azure|gcp`")


def coverage_notes(inventory: Inventory, thresholds: Thresholds, history_days: int) -> tuple[str, ...]:
    """One line per recommender family that lacked data in this scope (none when everything could run).

    `history_days`: how many days the scope's ledger holds charges on.
    """
    if inventory.as_of is None:
        return ("no cost data yet: import a FOCUS export with `python main.py ingest focus EXPORT.csv`",)
    notes: list[str] = []
    resources = inventory.resources
    vms = [p for p in resources if p.kind == "vm"]
    if not resources:
        notes.append("the bill has no ResourceId values, so idle, rightsize, orphaned, schedule and green-region "
                     "advice could not run: import a resource-level export (a FOCUS export with ResourceId, such as "
                     "AWS Data Exports FOCUS 1.2, the Azure Cost Management FOCUS export or the GCP detailed "
                     "billing export)")
    elif inventory.metrics_end is None:
        who = f"the {len(vms)} virtual machines" if vms else "any virtual machine"
        notes.append(f"no utilisation metrics are imported, so idle, rightsize and schedule could not run for {who} "
                     f"and orphaned judged only snapshots (disks, IPs and load balancers need I/O and network "
                     f"metrics): {METRICS_HOW}")
    else:
        short = [p for p in vms if p.days_of("cpu") < thresholds.min_telemetry_days]
        if short:
            notes.append(f"{len(short)} of {len(vms)} virtual machines have fewer than {thresholds.min_telemetry_days} "
                         f"days of CPU metrics, so idle, rightsize and schedule skipped them: {METRICS_HOW}")
        no_memory = [p for p in vms if p.days_of("cpu") >= thresholds.min_telemetry_days and not p.days_of("memory")]
        if no_memory:
            notes.append(f"{len(no_memory)} virtual machines report no memory metric, so rightsize could not size "
                         "them: run the provider's memory agent (CloudWatch agent, Azure Monitor agent, Ops Agent) "
                         "and import its metrics")
    compute = [p for p in resources if p.kind == "other" and "compute" in f"{p.service} {p.resource_type}".lower()]
    if compute:
        notes.append(f"{len(compute)} compute resources have no known machine type (SkuPriceDetails InstanceType, "
                     "or an instance_type tag), so rightsize and green-region advice skipped them")
    if history_days < thresholds.commitment_min_days:
        notes.append(f"commitment coverage needs {thresholds.commitment_min_days} days of cost history; this "
                     f"server's ledger holds {history_days}: import more days of the export")
    return tuple(notes)


__all__ = ["METRICS_HOW", "coverage_notes"]
