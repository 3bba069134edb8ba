"""GCP utilisation: Cloud Monitoring time series for Compute instances, mapped to ledger points.

Why its own module: the metric specs, the query filter and the mapping of series back to
instance ids are one concern, apart from costs (`gcp_billing.py`) and the connector that
calls the API (`gcp.py`, whose docstring lists the metrics and why each aligner was chosen).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class MonitoringMetric:
    """One Cloud Monitoring metric type and how it becomes a ledger metric."""

    metric_type: str
    metric: str  # ledger metric name (metrics_ingest.UNITS)
    unit: str
    aligner: str  # per-series aligner over ALIGNMENT
    reducer: str  # cross-series reducer per instance (disks, load-balanced label)
    scale: float = 1.0
    agent: bool = False  # Ops Agent metric: no instance_name label, the name is metadata.system_labels.name
    extra_filter: str = ""


MONITORING_METRICS: tuple[MonitoringMetric, ...] = (
    MonitoringMetric("compute.googleapis.com/instance/cpu/utilization", "cpu", "percent", "ALIGN_MEAN",
                     "REDUCE_MEAN", scale=100.0),
    MonitoringMetric("agent.googleapis.com/memory/percent_used", "memory", "percent", "ALIGN_MEAN", "REDUCE_MEAN",
                     agent=True, extra_filter='metric.labels.state = "used"'),
    MonitoringMetric("compute.googleapis.com/instance/network/received_bytes_count", "network_in", "bytes",
                     "ALIGN_SUM", "REDUCE_SUM"),
    MonitoringMetric("compute.googleapis.com/instance/network/sent_bytes_count", "network_out", "bytes",
                     "ALIGN_SUM", "REDUCE_SUM"),
    MonitoringMetric("compute.googleapis.com/instance/disk/read_bytes_count", "disk_read", "bytes",
                     "ALIGN_SUM", "REDUCE_SUM"),
    MonitoringMetric("compute.googleapis.com/instance/disk/write_bytes_count", "disk_write", "bytes",
                     "ALIGN_SUM", "REDUCE_SUM"),
)
ALIGNMENT = timedelta(hours=1)
INSTANCES_PER_QUERY = 50  # keeps each filter's one_of(...) list short
_INSTANCE_ID = re.compile(
    r"^//compute\.googleapis\.com/projects/([a-z0-9][a-z0-9.:-]*)/zones/([a-z0-9-]+)/instances/([a-z0-9][a-z0-9-]*)$")


@dataclass(frozen=True)
class InstanceRef:
    """A ledger instance id split into what Cloud Monitoring labels carry."""

    resource_id: str
    project: str
    zone: str
    name: str  # instance name, or the numeric instance id (names start with a letter)

    @property
    def by_id(self) -> bool:
        return self.name.isdigit()


def instance_ref(resource_id: str) -> InstanceRef | None:
    """The project, zone and instance of a Compute instance id; None for anything else."""
    match = _INSTANCE_ID.match(resource_id.strip())
    return InstanceRef(resource_id, *match.groups()) if match else None



def _quoted(values: Iterable[str]) -> str:
    return ", ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)


def time_series_request(spec: MonitoringMetric, project: str, refs: list[InstanceRef], start: datetime,
                        end: datetime, *, by_id: bool) -> dict[str, Any]:
    """A ListTimeSeriesRequest (as a dict) for one metric over a batch of one project's instances."""
    names = _quoted(r.name for r in refs)
    if by_id:
        who = f"resource.labels.instance_id = one_of({names})"
    elif spec.agent:
        who = f"metadata.system_labels.name = one_of({names})"
    else:
        who = f"metric.labels.instance_name = one_of({names})"
    clauses = [f'metric.type = "{spec.metric_type}"', 'resource.type = "gce_instance"', f'project = "{project}"',
               f"resource.labels.zone = one_of({_quoted(sorted({r.zone for r in refs}))})", who]
    if spec.extra_filter:
        clauses.append(spec.extra_filter)
    name_field = "metadata.system_labels.name" if spec.agent else "metric.label.instance_name"
    return {
        "name": f"projects/{project}", "filter": " AND ".join(clauses),
        "interval": {"start_time": start, "end_time": end},
        "aggregation": {"alignment_period": ALIGNMENT, "per_series_aligner": spec.aligner,
                        "cross_series_reducer": spec.reducer,
                        "group_by_fields": ["resource.label.zone", "resource.label.instance_id", name_field]},
        "view": "FULL",
    }


def _label(labels: Any, key: str) -> str:
    try:
        return str(labels[key]) if key in labels else ""
    except (KeyError, TypeError):
        return ""


def _number(value: Any) -> float | None:
    """The double or int64 of a TypedValue (aligned gauges are doubles, summed byte counts int64)."""
    pb = type(value).pb(value) if hasattr(type(value), "pb") else value
    kind = pb.WhichOneof("value")
    return float(getattr(pb, kind)) if kind in ("double_value", "int64_value") else None


def series_points(spec: MonitoringMetric, refs: list[InstanceRef], series: Iterable[Any], start: datetime,
                  end: datetime) -> list[tuple[str, str, str, float, str]]:
    """Ledger points of the series that belong to `refs` (matched by zone and name or id)."""
    wanted = {(r.zone, r.name): r.resource_id for r in refs}
    projects = {r.project for r in refs if not r.project.isdigit()}  # a project number can't be compared
    out = []
    for ts in series:
        project = _label(ts.resource.labels, "project_id")
        if project and projects and project not in projects:
            continue  # another project of the metrics scope
        zone = _label(ts.resource.labels, "zone")
        name = _label(ts.metric.labels, "instance_name") or _label(ts.metadata.system_labels, "name")
        rid = wanted.get((zone, name)) or wanted.get((zone, _label(ts.resource.labels, "instance_id")))
        if rid is None:
            continue  # an instance nobody asked for
        for point in ts.points:
            value = _number(point.value)
            period_start = point.interval.end_time - ALIGNMENT
            if value is None or not start <= period_start < end:
                continue
            value *= spec.scale
            value = min(max(value, 0.0), 100.0) if spec.unit == "percent" else max(value, 0.0)
            out.append((rid, spec.metric, period_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), value, spec.unit))
    return out




__all__ = ["ALIGNMENT", "INSTANCES_PER_QUERY", "MONITORING_METRICS", "InstanceRef", "MonitoringMetric",
           "instance_ref", "series_points", "time_series_request"]
