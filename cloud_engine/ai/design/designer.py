"""A design per requirement part, from the catalogue, and the words that explain the final design.

Why explanations are generated from the final specs: the guardrails may make a database highly
available, remove a public IP or close a port after the draft was written; text written before
that ("the database runs in one zone") would contradict the design the user gets. `explain`
and `risks` read the specs as they are after every correction.

What the catalogue offers: VMs, Kubernetes clusters, PostgreSQL/MySQL databases, buckets,
networks, firewalls and HTTPS load balancers (a managed certificate in front of a VM or a
bucket). A public web tier gets a load balancer on a placeholder domain the user replaces,
and its servers lose their public IPs. Everything else a request names (a cache, a queue,
GPUs) is said plainly to be not offered, with what the design does instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cloud_engine.ai.design.requirements import Requirements
from cloud_engine.ai.guardrails import SIZE_FOR_BUDGET, db_tier_for, machine_type_for
from cloud_engine.core.models import FirewallRule, ResourceSpec
from cloud_engine.data.catalog import ProviderCatalog

NET = "app-net"
APP_SUBNET = "10.10.1.0/24"
PRIVATE_RANGE = "10.0.0.0/8"
IAP_RANGE = {"gcp": "35.235.240.0/20"}
DB_PORTS = {"postgres": 5432, "mysql": 3306}
_SMALLER = {"large": "medium", "medium": "small", "small": "small"}
_STORAGE_GB = {"low": 50, "medium": 200, "high": 1000}
_DB_STORAGE_GB = {"low": 20, "medium": 100, "high": 500}
LB = "web-lb"
# RFC 2606 reserves example.com: a placeholder no certificate is ever issued for, so nothing goes live by mistake.
PLACEHOLDER_DOMAIN = "app.example.com"


@dataclass
class Draft:
    """The specs of a design (its words come from `explain` and `risks`, after the guardrails)."""

    specs: list[ResourceSpec] = field(default_factory=list)


def size_for(budget: str, req: Requirements) -> str:
    """small/medium/large from the budget, one step down for dev/test."""
    size = SIZE_FOR_BUDGET[budget]
    return _SMALLER[size] if req.dev else size


def design(req: Requirements, cat: ProviderCatalog, *, provider: str, region: str, budget: str) -> Draft:
    """The resources for each part of `req` (guardrails run afterwards)."""
    d = Draft()
    size = size_for(budget, req)
    needs_net = req.runs_code or bool(req.engines)
    if needs_net:
        d.specs.append(ResourceSpec(kind="network", name=NET, region=region, cidr="10.10.0.0/16",
                                    subnets=[{"name": "app", "cidr": APP_SUBNET}, {"name": "data", "cidr": "10.10.2.0/24"}],
                                    description="private network for the workload"))
        d.specs.append(_firewall(req, provider, region))
    net = NET if needs_net else None
    _compute(d, req, cat, region, budget, size, net)
    _entry_point(d, req, region, net)
    for engine in req.engines:
        name = "app-db" if len(req.engines) == 1 else f"{engine}-db"
        d.specs.append(ResourceSpec(kind="database", name=name, region=region, engine=engine,
                                    tier=db_tier_for(cat, size), storage_gb=_DB_STORAGE_GB[budget], network=net,
                                    high_availability=budget == "high" and not req.dev, deletion_protection=True,
                                    backup_retention_days=7, description=f"managed {engine} database"))
    _storage(d, req, region, budget)
    return d


def _firewall(req: Requirements, provider: str, region: str) -> ResourceSpec:
    admin = IAP_RANGE.get(provider, PRIVATE_RANGE)
    rules = [FirewallRule(ports=[22], sources=[admin])]
    for engine in req.engines:
        rules.append(FirewallRule(ports=[DB_PORTS[engine]], sources=[APP_SUBNET]))
    if req.runs_code:
        web_sources = [PRIVATE_RANGE] if req.private_only or not req.public else ["0.0.0.0/0"]
        rules.insert(0, FirewallRule(ports=[443], sources=web_sources))
    return ResourceSpec(kind="firewall", name="app-fw", region=region, network=NET, rules=rules,
                        description="HTTPS in; admin and database ports only from private ranges")


def _compute(d: Draft, req: Requirements, cat: ProviderCatalog, region: str, budget: str, size: str,
             net: str | None) -> None:
    if req.containers and budget != "low":
        nodes = 1 if req.dev else (3 if budget == "high" else 2)
        d.specs.append(ResourceSpec(kind="k8s_cluster", name="apps-cluster", region=region, node_count=nodes,
                                    machine_type=machine_type_for(cat, "medium" if size != "small" else "small"),
                                    network=net, private_nodes=True, description="runs the containerised services"))
    elif req.app_tier or (req.containers and budget == "low"):
        count = 2 if budget == "high" and not req.dev else 1
        role = req.app_role
        public_ip = req.public and not req.private_only
        for i in range(1, count + 1):
            d.specs.append(ResourceSpec(kind="vm", name=f"{role}-{i}" if count > 1 else role, region=region,
                                        machine_type=machine_type_for(cat, size), disk_gb=20, network=net,
                                        public_ip=public_ip, description=f"{role} server"))
    if req.batch:
        d.specs.append(ResourceSpec(kind="vm", name="worker", region=region, network=net, disk_gb=50,
                                    machine_type=machine_type_for(cat, "medium" if size != "small" else "small"),
                                    description="batch and background worker"))
    if req.ml:
        d.specs.append(ResourceSpec(kind="vm", name="ml-worker", region=region, network=net, disk_gb=100,
                                    machine_type=machine_type_for(cat, "large" if budget == "high" else size),
                                    description="CPU-only ML worker"))
    if not req.runs_code and not req.engines and not req.object_storage and not req.static_hosting:
        d.specs.append(ResourceSpec(kind="vm", name="app", region=region, machine_type=machine_type_for(cat, size),
                                    network=net, description="general application server"))


def _entry_point(d: Draft, req: Requirements, region: str, net: str | None) -> None:
    """A public web tier is reached through an HTTPS load balancer; its servers keep no public IP."""
    if not req.public or req.private_only or net is None:
        return
    servers = [i for i, s in enumerate(d.specs) if s.kind == "vm" and "worker" not in (s.description or "")]
    if not servers:
        return
    for i in servers:
        d.specs[i] = d.specs[i].model_copy(update={"public_ip": False})
    d.specs.append(ResourceSpec(kind="load_balancer", name=LB, region=region, backend=d.specs[servers[0]].name,
                                domain=PLACEHOLDER_DOMAIN, port=80,
                                description="HTTPS entry point with a managed certificate"))


def _storage(d: Draft, req: Requirements, region: str, budget: str) -> None:
    gb = _STORAGE_GB[budget]
    if req.static_hosting:
        d.specs.append(ResourceSpec(kind="bucket", name="site-content", region=region, storage_class="STANDARD",
                                    storage_gb=10, public_access=False, versioning=True,
                                    description="static site files"))
    if req.object_storage:
        cold = req.cold_storage and not req.app_tier
        d.specs.append(ResourceSpec(kind="bucket", name="archive" if cold else "files", region=region,
                                    storage_class="COLDLINE" if cold else "STANDARD", storage_gb=gb,
                                    public_access=False, versioning=True,
                                    description="archive storage" if cold else "application files"))
    if req.batch or req.ml:
        d.specs.append(ResourceSpec(kind="bucket", name="datasets" if req.ml else "data-lake", region=region,
                                    storage_class="STANDARD", storage_gb=gb, public_access=False, versioning=True,
                                    description="raw and processed data"))


def describe(cat: ProviderCatalog, spec: ResourceSpec) -> str:
    """`type (n vCPU, m GB)` for a VM, cluster node or database tier."""
    types = cat.database_tiers if spec.kind == "database" else cat.machine_types
    name = spec.tier if spec.kind == "database" else spec.machine_type
    m = types.get(name or "")
    return f"{name} ({m.vcpus:g} vCPU, {m.memory_gb:g} GB)" if m else str(name)


def _firewall_text(spec: ResourceSpec) -> str:
    world = sorted({str(p) for r in spec.rules or [] if r.opens_world() for p in r.ports})
    inner = [f"{', '.join(map(str, r.ports)) or 'all ports'} from {', '.join(r.sources)}"
             for r in spec.rules or [] if not r.opens_world()]
    head = (f"Open to the internet: TCP {', '.join(world)} only." if world else "Nothing is open to the internet.")
    return head + (" Private rules: " + "; ".join(inner) + "." if inner else "")


def explain(spec: ResourceSpec, req: Requirements, cat: ProviderCatalog) -> str:
    """Why this resource, in words true of the spec as it is now (after the guardrails)."""
    if spec.kind == "network":
        return ("A private network with separate app and data subnets keeps the database off the internet and lets "
                "the firewall segment traffic.")
    if spec.kind == "firewall":
        return _firewall_text(spec)
    if spec.kind == "k8s_cluster":
        return (f"Managed Kubernetes with {spec.node_count} {'private ' if spec.private_nodes else ''}"
                f"{describe(cat, spec)} node(s) runs the containerised services.")
    if spec.kind == "database":
        ha = ("highly available with a standby in a second zone" if spec.high_availability
              else "in a single zone")
        protect = ", deletion protection on" if spec.deletion_protection else ""
        return (f"Managed {spec.engine} on {describe(cat, spec)}, {ha}, backups kept "
                f"{spec.backup_retention_days or 0} days{protect}; reachable only inside the private network.")
    if spec.kind == "load_balancer":
        return (f"The HTTPS entry point: a load balancer with a managed certificate for {spec.domain} in front of "
                f"{spec.backend}, redirecting HTTP to HTTPS. Replace {spec.domain} with your own hostname before "
                "deploying; the certificate is issued once that name's DNS points at the load balancer.")
    if spec.kind == "bucket":
        if spec.name == "site-content":
            return ("The static site's files live in a private, versioned bucket. No CDN is offered by Cloud Engine: "
                    "publish them through the provider's CDN with origin access, so the bucket itself stays private.")
        return (f"{(spec.storage_class or 'STANDARD').title()} object storage for about {spec.storage_gb} GB; "
                f"{'versioned, ' if spec.versioning else ''}private and encrypted.")
    return _explain_vm(spec, req, cat)


def _explain_vm(spec: ResourceSpec, req: Requirements, cat: ProviderCatalog) -> str:
    role = spec.description or "server"
    text = f"{describe(cat, spec)} {role}"
    if "worker" in role:
        return text + "; schedule it to stop outside job windows to cut cost."
    if "containers" in role:
        return text + " runs the containers with Docker Compose (a cluster control plane would take most of the budget)."
    if spec.public_ip:
        return text + ". It takes HTTPS on its own public IP (only 443 is open)."
    if req.public and not req.private_only and spec.network:
        return text + f". No public IP: internet traffic arrives through the HTTPS load balancer {LB}."
    return text + ". No public IP: reachable only inside the private network (VPN or bastion)."


@dataclass(frozen=True)
class Risk:
    """One risk statement and the topic its citation must cover."""

    text: str
    subject: str


def risks(specs: Sequence[ResourceSpec], req: Requirements, compliance: str) -> list[Risk]:
    """Risks true of the final design, each with its subject for citation."""
    out: list[Risk] = []
    for u in req.unsupported:
        out.append(Risk(f"Not offered by Cloud Engine: {u.part}; {u.instead}.", _UNSUPPORTED_SUBJECT.get(u.part, "")))
    if req.unrecognised:
        out.append(Risk("No workload part was recognised in the request, so one general server is a starting "
                        "point; say what it runs (web app, API, database, files, batch jobs).", ""))
    servers = [s for s in specs if s.kind == "vm" and "worker" not in (s.description or "")]
    balancers = [s for s in specs if s.kind == "load_balancer"]
    if req.public and servers and not balancers:
        reach = ("each server takes HTTPS on its own public IP" if any(s.public_ip for s in servers) else
                 "the servers have no public IP and nothing fronts them, so the site is not reachable from the "
                 "internet until a load_balancer resource is added")
        out.append(Risk(f"Entry point: {reach}.", "availability"))
    for lb in balancers:
        out.append(Risk(f"Entry point: {lb.name} answers HTTPS on {lb.domain} only once that name's DNS points at "
                        "it (its certificate is issued then); it is the single point of entry, billed by the hour "
                        "whether traffic flows or not.", "availability"))
    if req.app_tier and len(servers) == 1 and not any(s.kind == "k8s_cluster" for s in specs):
        out.append(Risk("One application server is a single point of failure: a crash or a patch reboot takes the "
                        "service down; add a second server behind a load balancer when uptime matters.",
                        "availability"))
    single_zone = [s for s in specs if s.kind == "database" and not s.high_availability]
    if single_zone and not req.dev:
        out.append(Risk(f"The database {single_zone[0].name} runs in one zone: a zone outage stops it until it is "
                        "restored from backup.", f"database-ha:{single_zone[0].engine}"))
    if any(s.kind == "firewall" and any(r.opens_world() for r in s.rules or []) for s in specs):
        out.append(Risk("The HTTPS endpoint faces the internet: put a web application firewall with rate limiting "
                        "in front of it.", "waf"))
    out.append(Risk("Estimates cover the resources' list prices only: data transfer, load balancers and support "
                    "plans are extra; set a budget alert.", "budget"))
    if compliance != "none":
        out.append(Risk(f"{compliance} needs organisational controls too; the guardrail list names those this "
                        "design cannot enforce (advisory, not checked).", f"framework:{compliance}"))
    return out


_UNSUPPORTED_SUBJECT = {"managed cache": "cache", "message queue": "queue", "CDN": "cdn"}
