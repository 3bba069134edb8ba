"""What the add/edit-resource dialog asks for each kind, and how typed text becomes a ResourceSpec.

Why pure functions: the modal only carries strings; turning them into typed values (ports,
tags, yes/no, subnets) and back (to pre-fill an edit or a retry) must be testable without
Discord. Choices that come from the catalogue (region, machine type, tier, storage class)
are select steps before the modal, because a modal holds at most five text inputs.

Why an edit is a patch (`apply_edit`), not a rebuild (`to_spec`): the modal shows only a few
of a spec's fields (a database's network, engine version, backups and description are not in
it; a firewall shows only its first rule's ports and sources). Rebuilding from the modal would
silently reset everything else, so an edit starts from the stored spec and changes only the
fields whose text the user actually changed. A value too long for its text input is not
offered at all (`edit_fields`): a truncated pre-fill would drop the rest on submit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.limits import TEXT_INPUT
from cloud_engine.core.models import RESOURCE_KINDS, FirewallRule, ResourceSpec, Subnet
from cloud_engine.core.validation import parse_tags
from cloud_engine.data.catalog import Catalog
from cloud_engine.errors import InvalidInput

__all__ = ["CHOICE_STEPS", "FORMS", "FormField", "apply_edit", "edit_fields", "from_spec", "step_options", "to_spec"]

STORAGE_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    placeholder: str = ""
    required: bool = False
    long: bool = False
    max_length: int = 200

    @property
    def limit(self) -> int:
        """The most characters its text input accepts (and so the longest value it may be pre-filled with)."""
        return min(self.max_length, TEXT_INPUT)


def _name(kind: str) -> FormField:
    example = {"vm": "web-1", "database": "orders-db", "bucket": "assets", "network": "main",
               "load_balancer": "web-lb"}.get(kind, f"my-{kind[:3]}")
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
    # five inputs, Discord's most per modal: tags are set through the CLI or the API for this kind
    "load_balancer": (_name("load_balancer"),
                      FormField("backend", "Backend (a vm, cluster or bucket here)", "web-1", required=True,
                                max_length=63),
                      FormField("domain", "Domain for the HTTPS certificate", "shop.example.com", required=True,
                                max_length=253),
                      FormField("port", "Port the VM serves HTTP on", "80", max_length=5),
                      FormField("cdn", "CDN for a bucket backend? (yes/no)", "no", max_length=3)),
}
CHOICE_STEPS: dict[str, tuple[str, ...]] = {
    "vm": ("region", "machine_type"), "k8s_cluster": ("region", "machine_type"), "database": ("region", "tier"),
    "bucket": ("region", "storage_class"), "network": (), "firewall": (), "load_balancer": (),
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
    "engine": lambda t: t.strip().lower(), "port": _int("port"), "cdn": _yes_no("CDN"),
    "domain": lambda t: t.strip().lower(), "backend": lambda t: t.strip().lower(),
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


def _texts(spec: ResourceSpec) -> dict[str, str]:
    """Every form field of `spec` as the text that would rebuild it (however long)."""
    values: dict[str, str] = {}
    for field in FORMS[spec.kind]:
        if field.key == "tags":
            values["tags"] = ", ".join(f"{k}={v}" for k, v in spec.tags.items())
        elif field.key == "subnets":
            values["subnets"] = ", ".join(f"{s.name}={s.cidr}" for s in spec.subnets or [])
        elif field.key in ("ports", "sources"):
            rule = spec.rules[0] if spec.rules else None
            values[field.key] = ", ".join(map(str, getattr(rule, field.key))) if rule else ""
        else:
            values[field.key] = _text(getattr(spec, field.key, None))
    return values


def from_spec(spec: ResourceSpec) -> tuple[dict[str, str], dict[str, str]]:
    """The (choices, typed values) that pre-fill an edit of `spec`.

    A value longer than its text input allows is left out (see `edit_fields`): it cannot be
    shown whole, and a truncated pre-fill would replace the real value on submit.
    """
    choices = {step: _text(getattr(spec, step)) for step in CHOICE_STEPS[spec.kind] if getattr(spec, step)}
    texts = _texts(spec)
    return choices, {f.key: texts[f.key] for f in FORMS[spec.kind] if len(texts[f.key]) <= f.limit}


def edit_fields(spec: ResourceSpec) -> tuple[tuple[FormField, ...], tuple[FormField, ...]]:
    """(fields an edit of `spec` offers, fields withheld because their value is too long to pre-fill).

    The name is never offered: an edit changes a resource in place, and a new name would add
    a second resource beside it (renaming is removing one and adding another). A firewall's
    modal shows its first rule only; when it has more, the labels say which rule is edited,
    and clearing the ports of a rule that has some removes that rule.
    """
    texts = _texts(spec)
    offered: list[FormField] = []
    withheld: list[FormField] = []
    rules = len(spec.rules or []) if spec.kind == "firewall" else 0
    for field in FORMS[spec.kind]:
        if field.key == "name":
            continue
        if len(texts[field.key]) > field.limit:
            withheld.append(field)
            continue
        if field.key in ("ports", "sources") and rules > 1:
            field = replace(field, label=f"{'Ports' if field.key == 'ports' else 'Sources'} of rule 1 of {rules} "
                                         "(others kept)")
        if field.key == "ports" and texts["ports"]:
            field = replace(field, placeholder="empty removes this rule")
        offered.append(field)
    return tuple(offered), tuple(withheld)


_CLEARED: dict[str, Callable[[], Any]] = {"tags": dict, "subnets": list}


def apply_edit(existing: ResourceSpec, choices: Mapping[str, str], values: Mapping[str, str]) -> ResourceSpec:
    """`existing` with only the choices and typed fields the user changed applied, re-validated.

    A field whose text equals its pre-fill is untouched (so formatting never rewrites a value),
    fields the modal does not carry (and withheld ones) are kept, and a firewall's first rule
    is edited in place: its direction, protocol and action and every other rule are kept.
    Raises InvalidInput or pydantic ValidationError, like `to_spec`.
    """
    before_choices = {step: _text(getattr(existing, step)) for step in CHOICE_STEPS[existing.kind]}
    before = _texts(existing)
    offered = {f.key for f in edit_fields(existing)[0]}
    update: dict[str, Any] = {step: value for step, value in choices.items()
                              if step in before_choices and value != before_choices[step]}
    changed = {key: text.strip() for key, text in values.items()
               if key in offered and text.strip() != before[key].strip()}
    for key, text in changed.items():
        if key not in ("ports", "sources"):
            update[key] = _PARSERS.get(key, str.strip)(text) if text else _CLEARED.get(key, lambda: None)()
    if existing.kind == "firewall" and ("ports" in changed or "sources" in changed):
        update["rules"] = _edit_first_rule(list(existing.rules or []), changed)
    return ResourceSpec.model_validate({**existing.model_dump(), **update})


def _edit_first_rule(rules: list[FirewallRule], changed: Mapping[str, str]) -> list[FirewallRule]:
    if not rules:  # nothing to edit: typed ports add a rule, as when adding a firewall
        if not changed.get("ports"):
            return rules
        return [FirewallRule(ports=_csv(changed["ports"]),
                             **({"sources": _csv(changed["sources"])} if changed.get("sources") else {}))]
    if "ports" in changed and not changed["ports"]:
        return rules[1:]  # the user cleared the shown rule's ports: that rule goes, the others stay
    data = rules[0].model_dump()
    if "ports" in changed:
        data["ports"] = _csv(changed["ports"])
    if "sources" in changed:
        if changed["sources"]:
            data["sources"] = _csv(changed["sources"])
        else:
            data.pop("sources")  # back to the default, as when adding
    return [FirewallRule.model_validate(data), *rules[1:]]
