"""The rules engine: a deterministic, offline advisor that needs no model.

Why it returns the same `RawAdvice` a model returns: its drafts then pass through the very
same guardrails, pricing and citation checks, so "rules engine" answers are held to the
same bar and the fallback path is exercised on every run without a key.

How it designs: intent keywords in the use case (web app, API, database, static site,
storage, analytics/batch, containers, ML/GPU, dev/test) choose building blocks; the budget
level picks catalogue sizes (the cheapest type with enough memory for small/medium/large;
dev/test steps one size down); a network and a firewall wrap any compute. It cites a
retrieved knowledge entry only where the entry's title, services or tags name the resource
or control it is attached to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cloud_engine.ai.guardrails import (
    BUDGET_CEILINGS,
    SIZE_FOR_BUDGET,
    db_tier_for,
    machine_type_for,
)
from cloud_engine.ai.knowledge import SearchHit
from cloud_engine.ai.schemas import AdviceRequest, RawAdvice, RawReasoning, RawResource, RawSourced
from cloud_engine.core.models import FirewallRule, ResourceSpec
from cloud_engine.data.catalog import Catalog, ProviderCatalog

# Phrases per intent, matched as whole words in the lower-cased use case.
INTENTS: dict[str, tuple[str, ...]] = {
    "web": (r"web ?apps?", r"web ?applications?", r"websites?", r"wordpress", r"e-?commerce", r"online (?:shop|store)",
            r"saas", r"portal", r"blog", r"cms", r"front-?end"),
    "api": (r"apis?", r"rest", r"graphql", r"back-?end", r"mobile app", r"webhooks?"),
    "database": (r"databases?", r"postgres(?:ql)?", r"mysql", r"sql", r"relational", r"db", r"crm", r"erp",
                 r"inventory", r"records"),
    "static": (r"static (?:site|website|web ?site|pages?)", r"landing pages?", r"jamstack"),
    "storage": (r"storage", r"files?", r"uploads?", r"media", r"images", r"photos?", r"videos?", r"documents?",
                r"backups?", r"archives?", r"archiving", r"object store"),
    "analytics": (r"analytics", r"batch", r"etl", r"data (?:warehouse|lake|pipeline)s?", r"reporting", r"dashboards?",
                  r"spark", r"bi", r"log processing"),
    "containers": (r"kubernetes", r"k8s", r"microservices?", r"containers?", r"containeri[sz]ed", r"docker"),
    "ml": (r"ml", r"machine learning", r"gpus?", r"model training", r"training", r"inference", r"deep learning",
           r"llms?", r"ai models?", r"neural"),
    "dev": (r"dev", r"development", r"test", r"testing", r"staging", r"sandbox", r"prototype", r"poc",
            r"proof of concept", r"hobby", r"personal", r"demo"),
}
_COLD_WORDS = re.compile(r"\b(?:archives?|archiving|backups?|cold|long-term|retention)\b")
_LABELS = {"web": "web app", "api": "API", "database": "database", "static": "static site", "storage": "file storage",
           "analytics": "analytics/batch", "containers": "containers", "ml": "ML workload", "dev": "dev/test"}
_SMALLER = {"large": "medium", "medium": "small", "small": "small"}
_STORAGE_GB = {"low": 50, "medium": 200, "high": 1000}
_DB_STORAGE_GB = {"low": 20, "medium": 100, "high": 500}
_IAP_RANGE = {"gcp": "35.235.240.0/20"}
_KIND_CATEGORY = {"network": "security", "firewall": "security", "database": "security", "bucket": "security",
                  "vm": "cost", "k8s_cluster": "cost"}

# Words that tie a knowledge entry to a resource kind or a topic.
TOPIC_TERMS: dict[str, tuple[str, ...]] = {
    "vm": ("vm", "compute", "instance", "ec2", "virtual machine", "compute engine", "rightsiz"),
    "database": ("database", "sql", "rds", "postgres", "mysql", "backup"),
    "bucket": ("bucket", "storage", "s3", "gcs", "blob", "object"),
    "k8s_cluster": ("kubernetes", "gke", "eks", "aks", "cluster", "container"),
    "network": ("vpc", "network", "subnet", "vnet"),
    "firewall": ("firewall", "security group", "nsg", "ingress", "ssh", "bastion"),
    "gpu": ("gpu", "machine learning", "accelerator"),
    "budget": ("budget", "cost", "rightsiz", "commit", "spot", "schedul"),
}


def detect_intents(use_case: str) -> list[str]:
    """The intents named in a use case, in `INTENTS` order."""
    text = use_case.lower()
    return [name for name, phrases in INTENTS.items()
            if any(re.search(rf"(?<![\w-]){p}(?![\w-])", text) for p in phrases)]


def entry_matches(hit: SearchHit, topic: str) -> bool:
    """True when an entry's title, services or tags name this topic."""
    e = hit.entry
    haystack = " ".join([e.title, *e.services, *e.tags]).lower()
    return any(term in haystack for term in TOPIC_TERMS.get(topic, (topic,)))


@dataclass
class _Design:
    provider: str
    region: str
    cat: ProviderCatalog
    hits: Sequence[SearchHit]
    resources: list[RawResource] = field(default_factory=list)
    used: list[str] = field(default_factory=list)

    def cite(self, topic: str, limit: int = 2, category: str | None = None) -> list[str]:
        """Ids of retrieved entries for this provider that name the topic, `category` first."""
        usable = [h for h in self.hits if h.entry.provider in (self.provider, "general") and entry_matches(h, topic)]
        usable.sort(key=lambda h: h.entry.category != category)
        ids = [h.entry.id for h in usable][:limit]
        self.used.extend(i for i in ids if i not in self.used)
        return ids

    def titles(self, ids: Iterable[str]) -> str:
        titles = [h.entry.title for h in self.hits if h.entry.id in ids]
        return (" See: " + "; ".join(f"“{t}”" for t in titles) + ".") if titles else ""

    def add(self, spec: ResourceSpec, why: str, topic: str | None = None) -> None:
        ids = self.cite(topic or spec.kind, category=_KIND_CATEGORY.get(spec.kind))
        self.resources.append(RawResource(spec=spec, rationale=why + self.titles(ids), citations=ids))

    def describe(self, name: str) -> str:
        m = self.cat.machine_types[name]
        return f"{name} ({m.vcpus:g} vCPU, {m.memory_gb:g} GB)"

    def describe_tier(self, name: str) -> str:
        m = self.cat.database_tiers[name]
        return f"{name} ({m.vcpus:g} vCPU, {m.memory_gb:g} GB)"


class RulesAdvisor:
    """Builds a complete `RawAdvice` for a request from keywords, the catalogue and retrieved entries."""

    name = "rules"
    model = "rules engine"

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def draft(self, request: AdviceRequest, hits: Sequence[SearchHit], *, provider: str, region: str) -> RawAdvice:
        """A design for one provider and region; guardrails and pricing run afterwards."""
        intents = detect_intents(request.use_case)
        dev = "dev" in intents
        size = SIZE_FOR_BUDGET[request.budget]
        if dev:
            size = _SMALLER[size]
        d = _Design(provider=provider, region=region, cat=self.catalog.for_provider(provider), hits=hits)
        public = bool({"web", "api", "static", "containers"} & set(intents))
        compute_intents = {"web", "api", "containers", "analytics", "ml"} & set(intents)
        only_static = "static" in intents and not compute_intents and "database" not in intents
        needs_network = not only_static and (compute_intents or "database" in intents
                                             or not ({"storage", "static"} & set(intents)))
        net = "app-net"
        if needs_network:
            d.add(ResourceSpec(kind="network", name=net, region=region, cidr="10.10.0.0/16",
                               subnets=[{"name": "app", "cidr": "10.10.1.0/24"}, {"name": "data", "cidr": "10.10.2.0/24"}],
                               description="private network for the workload"),
                  "A private network with separate app and data subnets keeps the database off the internet "
                  "and lets the firewall segment traffic.")
            rules = [FirewallRule(ports=[22], sources=[_IAP_RANGE.get(provider, "10.0.0.0/8")])]
            if public:
                rules.insert(0, FirewallRule(ports=[443], sources=["0.0.0.0/0"]))
            d.add(ResourceSpec(kind="firewall", name="app-fw", region=region, network=net, rules=rules,
                               description="HTTPS in; admin SSH only from a private range"),
                  ("HTTPS (443) is the only port open to the internet; " if public else
                   "No port is open to the internet; ") + "SSH is reachable only from "
                  + ("Google's IAP range" if provider == "gcp" else "the private 10.0.0.0/8 range (bastion or VPN)")
                  + ".")
        self._compute(d, request, intents, size, net if needs_network else None)
        if "database" in intents:
            tier = db_tier_for(d.cat, size)
            ha = request.budget == "high" and not dev
            engine = "mysql" if re.search(r"\bmysql\b", request.use_case.lower()) else "postgres"
            d.add(ResourceSpec(kind="database", name="app-db", region=region, engine=engine, tier=tier,
                               storage_gb=_DB_STORAGE_GB[request.budget], network=net, high_availability=ha,
                               deletion_protection=True, backup_retention_days=7),
                  f"Managed {engine} on {d.describe_tier(tier)} with 7-day backups and deletion protection"
                  + ("; highly available across zones for production uptime." if ha else "; single zone to stay "
                     "within the budget.") + " It is reachable only inside the private network.")
        self._storage(d, request, intents)
        return RawAdvice(
            summary=self._summary(intents, d, request),
            cloud_provider=provider,  # type: ignore[arg-type]
            region=region,
            reasoning=self._reasoning(intents, request, size, d),
            resources=d.resources,
            risks=self._risks(intents, request, d),
            citations=d.used,
        )

    def _compute(self, d: _Design, request: AdviceRequest, intents: list[str], size: str, net: str | None) -> None:
        region, dev = d.region, "dev" in intents
        if "containers" in intents and request.budget != "low":
            nodes = 1 if dev else (3 if request.budget == "high" else 2)
            mt = machine_type_for(d.cat, "medium" if size != "small" else "small")
            d.add(ResourceSpec(kind="k8s_cluster", name="apps-cluster", region=region, machine_type=mt, node_count=nodes,
                               network=net, private_nodes=True, description="managed Kubernetes for the services"),
                  f"Managed Kubernetes with {nodes} private {d.describe(mt)} node(s) runs the containerised services "
                  "and scales them independently.")
        elif "containers" in intents:
            mt = machine_type_for(d.cat, "small")
            d.add(ResourceSpec(kind="vm", name="apps", region=region, machine_type=mt, network=net,
                               description="runs the containers with Docker Compose"),
                  f"One {d.describe(mt)} VM runs the containers with Docker Compose: a managed Kubernetes control "
                  "plane alone would take most of a low budget.", "vm")
        if {"web", "api"} & set(intents) and "containers" not in intents:
            role = "web" if "web" in intents else "api"
            mt = machine_type_for(d.cat, size)
            count = 2 if request.budget == "high" and not dev else 1
            for i in range(1, count + 1):
                name = f"{role}-{i}" if count > 1 else role
                d.add(ResourceSpec(kind="vm", name=name, region=region, machine_type=mt, disk_gb=20, network=net,
                                   public_ip=False, description=f"{_LABELS[role]} server"),
                      f"{d.describe(mt)} sized for a {request.budget} budget"
                      + ("; two instances so one can fail or be patched without downtime" if count > 1 else "")
                      + ". No public IP: traffic arrives through the load balancer on HTTPS.")
        if "analytics" in intents:
            mt = machine_type_for(d.cat, "medium" if size != "small" else "small")
            d.add(ResourceSpec(kind="vm", name="etl-worker", region=region, machine_type=mt, disk_gb=50, network=net,
                               description="batch/ETL worker"),
                  f"A {d.describe(mt)} worker runs the batch jobs; schedule it to stop outside job windows to cut cost.")
        if "ml" in intents:
            mt = machine_type_for(d.cat, "large" if request.budget == "high" else size)
            d.add(ResourceSpec(kind="vm", name="ml-worker", region=region, machine_type=mt, disk_gb=100, network=net,
                               description="CPU-only ML worker; no GPU types in the catalogue"),
                  f"GPU machine types are not in the Cloud Engine catalogue, so a {d.describe(mt)} CPU worker handles "
                  "data preparation and light inference.", "gpu")
        nothing = not ({"web", "api", "containers", "analytics", "ml", "database", "static", "storage"} & set(intents))
        if nothing:
            mt = machine_type_for(d.cat, size)
            d.add(ResourceSpec(kind="vm", name="app", region=region, machine_type=mt, network=net,
                               description="general application server"),
                  f"No specific workload was recognised, so one general {d.describe(mt)} server is the starting point.")

    def _storage(self, d: _Design, request: AdviceRequest, intents: list[str]) -> None:
        cold = bool(_COLD_WORDS.search(request.use_case.lower()))
        gb = _STORAGE_GB[request.budget]
        if "static" in intents:
            d.add(ResourceSpec(kind="bucket", name="site-content", region=d.region, storage_class="STANDARD",
                               storage_gb=10, public_access=False, versioning=True,
                               description="static site files, served through a CDN"),
                  "The site's files live in a private, versioned bucket served through a CDN with origin access, "
                  "so the bucket itself is never public.")
        if "storage" in intents and "static" not in intents:
            cls = "COLDLINE" if cold else "STANDARD"
            d.add(ResourceSpec(kind="bucket", name="archive" if cold else "files", region=d.region, storage_class=cls,
                               storage_gb=gb, public_access=False, versioning=True,
                               description="archive storage" if cold else "application files"),
                  f"{cls.title()} object storage for about {gb} GB"
                  + (" of rarely read data (cheaper per GB, pay per retrieval)." if cold else " of files.")
                  + " Private, versioned and encrypted.")
        if {"analytics", "ml"} & set(intents):
            name = "datasets" if "ml" in intents else "data-lake"
            d.add(ResourceSpec(kind="bucket", name=name, region=d.region, storage_class="STANDARD", storage_gb=gb,
                               public_access=False, versioning=True, description="raw and processed data"),
                  f"A private bucket of about {gb} GB holds raw and processed data for the jobs.")

    def _summary(self, intents: list[str], d: _Design, request: AdviceRequest) -> str:
        labels = [_LABELS[i] for i in intents if i != "dev"] or ["general workload"]
        kinds: dict[str, int] = {}
        for r in d.resources:
            kinds[r.spec.kind] = kinds.get(r.spec.kind, 0) + 1
        parts = ", ".join(f"{n} {k.replace('_', ' ')}{'s' if n > 1 else ''}" for k, n in kinds.items())
        env = "dev/test " if "dev" in intents else ""
        what = env + " + ".join(labels)
        article = "An" if what[:1].lower() in "aeiou" else "A"
        return (f"{article} {what} design on {d.provider.upper()} in {d.region} for a {request.budget} "
                f"budget: {parts}.")

    def _reasoning(self, intents: list[str], request: AdviceRequest, size: str, d: _Design) -> RawReasoning:
        labels = ", ".join(_LABELS[i] for i in intents) or "no specific workload keywords"
        return RawReasoning(
            requirements=f"Recognised: {labels}. Budget {request.budget} (ceiling "
                         f"${BUDGET_CEILINGS[request.budget]:,.0f}/month), security {request.security}, "
                         f"compliance {request.compliance}.",
            architecture=f"{len(d.resources)} resources on {d.provider.upper()} in {d.region}, sized {size} from the "
                         "catalogue, inside one private network where compute is involved.",
            cost="Sizes are the cheapest catalogue types with enough memory for the budget level.",
            security="Encryption at rest everywhere, private buckets, no public IPs on servers and only HTTPS open "
                     "to the internet; the guardrails add what the security level and framework require.",
        )

    def _risks(self, intents: list[str], request: AdviceRequest, d: _Design) -> list[RawSourced]:
        risks: list[RawSourced] = []

        def risk(text: str, topic: str, category: str = "reliability") -> None:
            ids = d.cite(topic, limit=1, category=category)
            risks.append(RawSourced(text=text, citations=ids))

        vms = [r for r in d.resources if r.spec.kind == "vm"]
        if "ml" in intents:
            risk("GPU machine types are not in the catalogue: training on CPU is slow; use a managed ML service or "
                 "ask an admin to add GPU types.", "gpu", "performance")
        if len(vms) == 1 and {"web", "api"} & set(intents):
            risk("One server is a single point of failure; add a second instance behind the load balancer when "
                 "uptime matters.", "vm")
        dbs = [r for r in d.resources if r.spec.kind == "database"]
        if dbs and not any(r.spec.high_availability for r in dbs) and "dev" not in intents:
            risk("The database runs in one zone; a zone outage stops it until restored from backup.", "database")
        if any(r.spec.kind == "firewall" and any(rule.opens_world() for rule in r.spec.rules or []) for r in d.resources):
            risk("The HTTPS endpoint faces the internet; put a WAF or CDN with rate limiting in front of it.",
                 "firewall", "security")
        risk("Estimates cover list prices of the resources only: data transfer, load balancers and support plans "
             "are extra.", "budget", "cost")
        if request.compliance != "none":
            ids = [h.entry.id for h in d.hits if request.compliance in h.entry.frameworks
                   and h.entry.provider in (d.provider, "general")][:2]
            d.used.extend(i for i in ids if i not in d.used)
            risks.append(RawSourced(text=f"{request.compliance} needs organisational controls too; the guardrail "
                                         "list names those this design cannot enforce.", citations=ids))
        return risks
