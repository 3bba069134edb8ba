"""Citations that support their claims: retrieved with the claim's own text, kept only on subject.

Why: checking only that a cited id exists let "one server is a single point of failure" cite a
KMS entry and a PostgreSQL server cite "Tune Azure SQL Database". Each claim has a subject
(the resource it describes, or a risk's topic); an entry supports it only when its title,
services or tags name that subject. A claim with no such entry is shown unsourced, which is
honest, rather than sourced by something unrelated.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloud_engine.ai.knowledge import KnowledgeEntry, KnowledgeIndex
from cloud_engine.core.models import ResourceSpec

_ENGINE_TERMS = {
    "postgres": ("cloud sql", "rds", "aurora", "postgres", "database for postgresql", "flexible server"),
    "mysql": ("cloud sql", "rds", "aurora", "mysql", "database for mysql", "flexible server"),
}
# Words an entry's title, services or tags must contain to support a claim about the subject.
SUBJECT_TERMS: dict[str, tuple[str, ...]] = {
    "vm": ("compute engine", "ec2", "virtual machines", "instance", "rightsiz", "machine family", "burstable"),
    "k8s_cluster": ("kubernetes", "gke", "eks", "aks"),
    "bucket": ("cloud storage", "s3", "blob", "storage account", "bucket", "object storage"),
    "network": ("vpc", "vnet", "virtual network", "subnet", "network design"),
    "firewall": ("firewall", "security group", "nsg"),
    "load_balancer": ("load balanc", "application gateway", "front door", "cloudfront", "certificate"),
    # servers' availability: groups that replace and spread instances (not a database's standby)
    "availability": ("instance group", "scale set", "auto scaling", "autoscal", "autohealing", "availability zones",
                     "load balanc"),
    "waf": ("waf", "cloud armor", "shield", "front door", "application gateway"),
    "budget": ("budget",),
    "cache": ("memorystore", "elasticache", "cache for redis", "caching"),
    "queue": ("pub/sub", "sqs", "service bus", "dead-letter"),
    "cdn": ("cdn", "cloudfront", "front door"),
}
_HA_TAGS = ("high-availability", "multi-az", "failover", "zone-redundant")


def covers(entry: KnowledgeEntry, subject: str) -> bool:
    """True when the entry's title, services or tags name the claim's subject."""
    if not subject:
        return False
    if subject.startswith("framework:"):
        return subject.split(":", 1)[1] in entry.frameworks
    haystack = " ".join([entry.title, *entry.services, *entry.tags]).lower()
    kind, _, engine = subject.partition(":")
    if kind in ("database", "database-ha"):
        if not any(term in haystack for term in _ENGINE_TERMS.get(engine, _ENGINE_TERMS["postgres"])):
            return False
        return kind == "database" or any(tag in haystack for tag in _HA_TAGS)
    return any(term in haystack for term in SUBJECT_TERMS.get(kind, (kind,)))


def subject_of(spec: ResourceSpec) -> str:
    """The subject a resource's rationale is about."""
    return f"database:{spec.engine or 'postgres'}" if spec.kind == "database" else spec.kind


async def cite(index: KnowledgeIndex, claim: str, subject: str, provider: str, *, limit: int = 1) -> list[str]:
    """Ids of up to `limit` entries retrieved with the claim's text that cover its subject."""
    if not subject:
        return []
    hits = await index.search(claim, provider=provider, k=10, detect_provider=False)
    if not any(covers(h.entry, subject) for h in hits):  # the claim's words alone missed: add the subject's
        hint = " ".join(SUBJECT_TERMS.get(subject.partition(":")[0], ()) + _ENGINE_TERMS.get(
            subject.partition(":")[2], ()))
        hits = await index.search(f"{claim} {hint}", provider=provider, k=10, detect_provider=False) if hint else []
    return [h.entry.id for h in hits if covers(h.entry, subject)][:limit]


async def supported(index: KnowledgeIndex, ids: Sequence[str], subject: str) -> tuple[list[str], list[str]]:
    """Split cited ids into those whose entry covers the subject and those that do not (or do not exist)."""
    keep: list[str] = []
    drop: list[str] = []
    for entry_id in dict.fromkeys(ids):
        entry = await index.get(entry_id)
        (keep if entry is not None and covers(entry, subject) else drop).append(entry_id)
    return keep, drop
