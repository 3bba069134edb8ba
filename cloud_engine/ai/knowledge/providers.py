"""Which cloud(s) a question is about, from the names and services it mentions.

Why a filter and not only a boost: "azure … savings plan" ranked the AWS savings-plan entry
first because both share most words; an Azure user never wants it. A question that names one
cloud is answered from that cloud's entries plus the cross-cloud ("general") ones; one that
names several keeps those; one that compares clouds without naming them keeps every cloud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Provider and service names, as users write them (lower case, whole words).
_NAMES: dict[str, tuple[str, ...]] = {
    "gcp": ("gcp", "google", "google cloud", "gce", "compute engine", "gke", "cloud sql", "cloudsql", "bigquery",
            "gcs", "cloud storage", "cloud run", "cloud functions", "memorystore", "spanner", "firestore",
            "pub/sub", "pubsub", "cloud armor", "cloud cdn", "cloud kms", "iap", "os login", "vpc service controls",
            "managed instance groups?", "migs?", "sustained use", "committed use", "cuds?", "preemptible",
            "persistent disks?", "cloud logging", "cloud monitoring", "security command center", "e2", "n2", "n2d",
            "c3", "t2a", "t2d"),
    "aws": ("aws", "amazon", "ec2", "eks", "rds", "aurora", "s3", "lambda", "dynamodb", "cloudfront", "cloudtrail",
            "cloudwatch", "route ?53", "elasticache", "ebs", "graviton", "fargate", "ecs", "guardduty", "macie",
            "security hub", "secrets manager", "ssm", "session manager", "imdsv2", "auto scaling groups?", "asgs?",
            "compute optimizer", "shield", "t3", "t4g", "m6i", "m7g", "c6i", "r6i"),
    "azure": ("azure", "microsoft", "aks", "cosmos ?db", "cosmos", "app service", "vmss", "scale sets?",
              "blob storage", "blobs?", "key vault", "entra", "front door", "defender for cloud", "sentinel",
              "log analytics", "nsgs?", "vnets?", "hybrid benefit", "bicep", "azure sql",
              "application gateway", "b-series", "dsv5", "standard_\\w+"),
}
_PATTERNS: dict[str, re.Pattern[str]] = {
    provider: re.compile(r"(?<![\w-])(?:" + "|".join(names) + r")(?![\w-])")
    for provider, names in _NAMES.items()
}
_COMPARISON = re.compile(r"\b(?:compare[sd]?|comparison|versus|vs\.?|difference between|differences|which "
                         r"(?:cloud|provider)|across (?:clouds|providers)|multi-?cloud|every cloud|all (?:three )?clouds"
                         r"|each cloud|other clouds?)\b")


@dataclass(frozen=True, slots=True)
class ProviderScope:
    """The clouds a question names, and whether it compares clouds."""

    named: frozenset[str]
    comparison: bool

    @property
    def allowed(self) -> frozenset[str] | None:
        """Providers whose entries may answer (plus "general"), or None for every provider."""
        if not self.named or (self.comparison and len(self.named) < 2):
            return None
        return self.named | {"general"}


def provider_scope(question: str) -> ProviderScope:
    """The providers `question` names ("gke nodes" → gcp) and whether it asks for a comparison."""
    text = question.lower()
    named = frozenset(p for p, pattern in _PATTERNS.items() if pattern.search(text))
    return ProviderScope(named=named, comparison=bool(_COMPARISON.search(text)))
