"""What the add/edit-resource dialog asks for each kind, and how typed text becomes a ResourceSpec.

Why pure functions: the modal only carries strings; turning them into typed values (ports,
tags, yes/no, subnets) and back (to pre-fill an edit or a retry) must be testable without
Discord. Choices that come from the catalogue (region, machine type, tier, storage class)
are select steps before the modal, because a modal holds at most five text inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cloud_engine.core.models import RESOURCE_KINDS, FirewallRule, ResourceSpec, Subnet
from cloud_engine.core.validation import parse_tags
from cloud_engine.data.catalog import Catalog
from cloud_engine.errors import InvalidInput

__all__ = ["CHOICE_STEPS", "FORMS", "FormField", "from_spec", "step_options", "to_spec"]

STORAGE_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    placeholder: str = ""
    required: bool = False
    long: bool = False
    max_length: int = 200


def _name(kind: str) -> FormField:
    example = {"vm": "web-1", "database": "orders-db", "bucket": "assets", "network": "main"}.get(kind, f"my-{kind[:3]}")
    return FormField("name", "Name", f"e.g. {example} (lower-case, digits, hyphens)", required=True, max_length=63)


_TAGS = FormField("tags", "Tags (key=value, comma separated)", "env=dev, team=web", long=True, max_length=1000)

FORMS: dict[str, tuple[FormField, ...]] = {
    "vm": (_name("vm"), FormField("disk_gb", "Disk size (GB)", "20", max_length=5),
           FormField("image", "Image", "debian-12", max_length=60),
           FormField("public_ip", "Public IP? (yes/no)", "no", max_length=3), _TAGS),
    "k8s_cluster": (_name("k8s_cluster"), FormField("node_count", "Nodes", "3", max_length=3),
                    FormField("kubernetes_version", "Kubernetes version", "1.30", max_length=10),
                    FormField("private_nodes", "Private nodes? (yes/no)", "yes", max_length=3), _TAGS),
    "database": (_name("database"), FormField("engine", "Engine (postgres/mysql)", "postgres", max_length=8),
                 FormField("storage_gb", "Storage (GB)", "20", max_length=5),
                 FormField("high_availability", "High availability? (yes/no)", "no", max_length=3), _TAGS),
    "bucket": (_name("bucket"), FormField("storage_gb", "Expected size (GB)", "50", max_length=6),
               FormField("versioning", "Versioning? (yes/no)", "yes", max_length=3),
               FormField("retention_days", "Retention (days, optional)", "", max_length=4), _TAGS),
    "network": (_name("network"), FormField("cidr", "CIDR", "10.10.0.0/16", max_length=43),
                FormField("subnets", "Subnets (name=cidr, comma separated)", "app=10.10.1.0/24", long=True,
                          max_length=1000), _TAGS),
    "firewall": (_name("firewall"), FormField("network", "Network name", "main", max_length=63),
                 FormField("ports", "Ports (e.g. 443, 8000-8080)", "443", max_length=200),
                 FormField("sources", "Source CIDRs (comma separated)", "10.0.0.0/8", max_length=400), _TAGS),
}
CHOICE_STEPS: dict[str, tuple[str, ...]] = {
    "vm": ("region", "machine_type"), "k8s_cluster": ("region", "machine_type"), "database": ("region", "tier"),
    "bucket": ("region", "storage_class"), "network": (), "firewall": (),
}
assert set(FORMS) == set(CHOICE_STEPS) == set(RESOURCE_KINDS), "every resource kind needs a form"


def step_options(catalog: Catalog, provider: str, step: str, *, kinds: tuple[str, ...] = RESOURCE_KINDS
                 ) -> list[tuple[str, str]]:
    """(value, label) pairs for one select step, in catalogue order, with monthly prices where known."""
    if step == "kind":
        return [(k, k.replace("_", " ")) for k in kinds]
    if step == "storage_class":
        return [(c, c.title()) for c in STORAGE_CLASSES]
    cat = catalog.for_provider(provider)
    hours = catalog.hours_per_month
    if step == "region":
        return [(r, r) for r in cat.regions]
    table = cat.machine_types if step == "machine_type" else cat.database_tiers
    return [(name, f"{name} · {m.vcpus:g} vCPU / {m.memory_gb:g} GB · ~${m.hourly_usd * hours:,.0f}/mo")
            for name, m in table.items()]


def _int(field: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return int(text.strip())
        except ValueError:
            raise InvalidInput(field=field, rule=f"a whole number, not {text.strip()[:20]!r}") from None
    return parse


def _yes_no(field: str) -> Callable[[str], bool]:
    def parse(text: str) -> bool:
        value = text.strip().lower()
        if value in ("y", "yes", "true", "on", "1"):
            return True
        if value in ("n", "no", "false", "off", "0"):
            return False
        raise InvalidInput(field=field, rule="yes or no")
    return parse


def _csv(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]


def _tags(text: str) -> dict[str, str]:
    try:
        return parse_tags(text)
    except ValueError as exc:
        raise InvalidInput(field="tags", rule=str(exc)) from None


def _subnets(text: str) -> list[Subnet]:
    out = []
    for pair in _csv(text):
        name, sep, cidr = pair.partition("=")
        if not sep:
            raise InvalidInput(field="subnets", rule=f"{pair[:40]!r} must look like name=10.0.1.0/24")
        out.append(Subnet(name=name.strip(), cidr=cidr.strip()))
    return out


_PARSERS: dict[str, Callable[[str], Any]] = {
    "disk_gb": _int("disk size"), "node_count": _int("nodes"), "storage_gb": _int("storage"),
    "retention_days": _int("retention days"), "public_ip": _yes_no("public IP"),
    "private_nodes": _yes_no("private nodes"), "high_availability": _yes_no("high availability"),
    "versioning": _yes_no("versioning"), "tags": _tags, "subnets": _subnets,
    "engine": lambda t: t.strip().lower(),
}


def to_spec(kind: str, choices: Mapping[str, str], values: Mapping[str, str]) -> ResourceSpec:
    """Build the spec from select choices and typed text; raises InvalidInput or pydantic ValidationError."""
    data: dict[str, Any] = {"kind": kind, **{k: v for k, v in choices.items() if k != "kind"}}
    for key, text in values.items():
        if not text or not text.strip() or key in ("ports", "sources"):
            continue
        data[key] = _PARSERS.get(key, str.strip)(text)
    if kind == "firewall" and (values.get("ports") or "").strip():
        data["rules"] = [FirewallRule(ports=_csv(values["ports"]),
                                      **({"sources": _csv(values["sources"])} if (values.get("sources") or "").strip()
                                         else {}))]
    return ResourceSpec(**data)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def from_spec(spec: ResourceSpec) -> tuple[dict[str, str], dict[str, str]]:
    """The (choices, typed values) that would rebuild `spec`: pre-fills an edit."""
    choices = {step: _text(getattr(spec, step)) for step in CHOICE_STEPS[spec.kind] if getattr(spec, step)}
    values: dict[str, str] = {}
    for field in FORMS[spec.kind]:
        if field.key == "tags":
            values["tags"] = ", ".join(f"{k}={v}" for k, v in spec.tags.items())
        elif field.key == "subnets":
            values["subnets"] = ", ".join(f"{s.name}={s.cidr}" for s in spec.subnets or [])
        elif field.key in ("ports", "sources"):
            rule = (spec.rules or [None])[0]
            values[field.key] = ", ".join(map(str, getattr(rule, field.key))) if rule else ""
        else:
            values[field.key] = _text(getattr(spec, field.key, None))
    return choices, values
