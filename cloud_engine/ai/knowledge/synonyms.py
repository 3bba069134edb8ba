"""The words users type, mapped to the words entries use: single-word synonyms and phrase concepts.

Why two kinds: a word synonym ("bucket" → "blob") widens a term the user typed and is scored
as a weaker expansion; a phrase concept ("too big", "add servers when traffic grows") names a
topic the user's words never spell out, so its topic words count as typed terms.
"""

from __future__ import annotations

import re

# Light query expansion from the words users type to the words entries use. Keys are lower-case
# query words; values are added (OR-ed) alongside the original word.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "vm": ("instance", "compute", "virtual", "machine"),
    "vms": ("instance", "compute", "virtual", "machine"),
    "server": ("instance", "vm"),
    "servers": ("instance", "vm"),
    "bucket": ("storage", "object", "s3", "gcs", "blob"),
    "buckets": ("storage", "object", "s3", "gcs", "blob"),
    "k8s": ("kubernetes", "gke", "eks", "aks"),
    "kubernetes": ("gke", "eks", "aks"),
    "cluster": ("kubernetes",),
    "db": ("database", "sql"),
    "dbs": ("database", "sql"),
    "database": ("sql",),
    "postgres": ("postgresql", "database"),
    "mysql": ("database",),
    "firewall": ("nsg", "ingress"),
    "cheaper": ("cost", "save"),
    "cheap": ("cost", "save"),
    "expensive": ("cost",),
    "bill": ("cost", "billing"),
    "spend": ("cost", "spending"),
    "saving": ("cost", "save"),
    "savings": ("cost", "save"),
    "ri": ("reserved", "instances"),
    "ris": ("reserved", "instances"),
    "preemptible": ("spot",),
    "spot": ("preemptible",),
    "egress": ("transfer",),
    "slow": ("latency", "performance"),
    "latency": ("performance",),
    "outage": ("availability", "failover"),
    "downtime": ("availability", "failover"),
    "ha": ("availability", "zone"),
    "dr": ("disaster", "recovery"),
    "secrets": ("secret", "vault"),
    "password": ("secret", "credential"),
    "passwords": ("secret", "credential"),
    "mfa": ("multi", "factor"),
    "2fa": ("mfa", "multi", "factor"),
    "logs": ("logging", "audit"),
    "audit": ("logging",),
    "gdpr": ("residency", "personal"),
    "hipaa": ("phi", "baa"),
    "pci": ("cardholder",),
    "sox": ("financial", "segregation"),
    "tls": ("transit", "https"),
    "ssl": ("tls", "https"),
    "smaller": ("rightsizing", "underutilized"),
    "oversized": ("rightsizing", "underutilized"),
    "downsize": ("rightsizing", "underutilized"),
    "idle": ("unused", "unattached"),
    "unused": ("idle", "orphaned"),
    "green": ("carbon",),
    "co2": ("carbon", "emissions"),
    "sustainability": ("carbon",),
    "tags": ("labels", "tagging"),
    "labels": ("tags", "labeling"),
    "alerts": ("alert", "budget"),
    "subnet": ("network", "vpc"),
    "subnets": ("network", "vpc"),
    "vnet": ("network", "subnet"),
    "iops": ("throughput", "disk"),
    "disk": ("volume",),
    "ssh": ("rdp", "bastion"),
    "rdp": ("ssh", "bastion"),
    # compute, as each cloud and each user names it
    "gce": ("compute", "engine", "instance", "vm"),
    "ec2": ("instance", "vm"),
    "machine": ("instance", "vm"),
    "machines": ("instance", "vm"),
    "instances": ("vm",),
    "box": ("instance", "vm"),
    "boxes": ("instance", "vm"),
    "autoscale": ("autoscaling", "autoscaler", "scaling"),
    "autoscaling": ("autoscaler", "scaling"),
    "cache": ("redis", "memcached", "caching"),
    "caching": ("cache", "redis"),
    "redis": ("cache", "memorystore", "elasticache"),
    "cdn": ("cloudfront", "front", "door", "caching"),
    "waf": ("armor", "firewall"),
    "ddos": ("shield", "armor"),
    "vpn": ("bastion", "iap"),
    "bastion": ("iap", "ssh"),
    "encrypt": ("encryption", "kms"),
    "backups": ("snapshot", "restore"),
    "backup": ("snapshot", "restore"),
    "restore": ("backup", "recovery"),
    "discount": ("savings", "committed", "reserved"),
    "discounts": ("savings", "committed", "reserved"),
    "commitment": ("committed", "reserved", "savings"),
    "monitoring": ("monitor", "alert", "uptime"),
    "uptime": ("availability", "slo"),
    "queue": ("pubsub", "dead", "letter"),
    "queues": ("pubsub", "dead", "letter"),
    "patching": ("maintenance", "update"),
    "quota": ("quotas", "limits"),
    "limits": ("quotas",),
}

# Phrases (regex on the lower-cased question) and the topic words they stand for.
PHRASES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple((re.compile(p), words) for p, words in (
    (r"\btoo (?:big|large)\b|\bover-?provisioned\b|\boversized\b|\bbigger than (?:we|i) need\b|\bway too much cpu\b"
     r"|\bbarely used\b|\blow (?:cpu )?utili[sz]ation\b", ("rightsizing", "underutilized")),
    (r"\bscale (?:out|in|up automatically|automatically)\b|\badd (?:more )?(?:web |app )?(?:servers|instances|"
     r"machines|nodes|vms)\b|\btraffic (?:grows|increases|spikes|goes up|peaks)\b|\b(?:more|spiky|peak|bursty) "
     r"traffic\b|\bhandle (?:spikes|peaks|load)\b|\bgrow and shrink\b", ("autoscaling", "autoscaler")),
    (r"\b(?:turn|switch|shut) (?:\w+ )?(?:off|down) (?:at night|overnight|on weekends)\b|\bnights? and weekends?\b"
     r"|\boff[- ]hours\b|\bafter hours\b|\bovernight\b", ("schedule", "hours")),
    (r"\bsingle point of failure\b|\b(?:goes|go|went) down\b|\bstays? up\b|\bzone (?:dies|fails|outage)\b",
     ("availability", "failover", "zones")),
    (r"\bpay (?:less|up ?front)\b|\blong[- ]term (?:discount|commitment)\b|\bcommit(?:ted)? (?:for|to) "
     r"(?:a|one|three|1|3) years?\b", ("committed", "reserved", "savings")),
    (r"\bwho (?:did|changed|deleted)\b|\bpaper trail\b|\brecord (?:every|all|each) (?:\w+ )?(?:actions?|changes?)\b"
     r"|\btrack (?:every|all) changes\b", ("audit", "logging", "trail")),
    (r"\bhow much data (?:can|could|may|might) (?:we|i) lose\b|\bdata loss\b", ("rpo", "recovery", "objective")),
    (r"\bhow (?:fast|quickly|long) (?:must|can|should|do) (?:we|i) (?:recover|be back)\b|\bback up and running\b",
     ("rto", "recovery", "objective")),
    (r"\bleaked (?:keys?|credentials?)\b|\bhard-?coded (?:keys?|passwords?|secrets?)\b", ("secret", "credential")),
))


def phrase_concepts(text: str) -> list[str]:
    """Topic words for every phrase concept found in `text` (lower-cased), in table order."""
    lowered = text.lower()
    out: list[str] = []
    for pattern, words in PHRASES:
        if pattern.search(lowered):
            out.extend(w for w in words if w not in out)
    return out
