"""Provider-specific checks and defaults for a ResourceSpec, from the catalogue.

The same spec is valid or not depending on the project's provider (an `e2-small` exists on
GCP only), so these checks run when a resource is added to a session, and every error
lists the valid choices.

The provider's naming rules (GCP labels, bucket names, cluster and database identifiers)
live here too, once: the renderers in iac/providers call the same functions, so a name the
cloud would refuse is refused when the resource is added, not when the plan runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from cloud_engine.core.models import LB_BACKEND_KINDS, ResourceSpec
from cloud_engine.data.catalog import Catalog
from cloud_engine.errors import InvalidInput

DEFAULT_K8S_TYPE = {"gcp": "e2-standard-2", "aws": "t3.large", "azure": "Standard_D2s_v5"}
GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
# GCP kinds whose renderer sets labels (iac/providers/gcp: vm, database, bucket, k8s_cluster call gcp_labels).
GCP_LABELLED_KINDS = frozenset({"vm", "database", "bucket", "k8s_cluster"})
GKE_CLUSTER_NAME_MAX = 40
BUCKET_NAME_MIN = 3  # GCS and S3 both want 3 to 63 characters
AZURE_STORAGE_ACCOUNT_LENGTH = (3, 24)  # letters and digits; longer names are cut to 24
# S3 refuses these prefixes and suffixes (reserved for access points, aliases and directory buckets).
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")
# AWS accepts only these characters in security group and rule descriptions, at most 255 of them.
AWS_SG_DESCRIPTION_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789. _-:/()#,@[]+=&;{}!$*"
)
AWS_SG_DESCRIPTION_MAX = 255
AWS_SG_DEFAULT_DESCRIPTION = "Managed by Cloud Engine"
AZURE_RULE_DESCRIPTION_MAX = 140


def _choose(field: str, value: str, valid: list[str]) -> None:
    if value not in valid:
        raise InvalidInput(field=field, rule=f"{value!r} is not available; valid: {', '.join(valid)}")


def normalize(catalog: Catalog, provider: str, project_region: str, spec: ResourceSpec) -> ResourceSpec:
    """Fill catalogue defaults (region, image, tier) and check catalogue-backed values and provider names."""
    cat = catalog.for_provider(provider)
    shape = "gcp" if provider == "sandbox" else provider
    check_provider_names(shape, spec)
    updates: dict[str, object] = {}
    region = spec.region or project_region
    _choose("region", region, list(cat.regions))
    updates["region"] = region
    if spec.kind == "vm":
        if not spec.machine_type:
            raise InvalidInput(field="machine_type", rule=f"required for a vm; valid: {', '.join(cat.machine_types)}")
        _choose("machine_type", spec.machine_type, list(cat.machine_types))
        image = spec.image or cat.images[0]
        _choose("image", image, list(cat.images))
        updates["image"] = image
    elif spec.kind == "k8s_cluster":
        machine_type = spec.machine_type or DEFAULT_K8S_TYPE[shape]
        _choose("machine_type", machine_type, list(cat.machine_types))
        updates["machine_type"] = machine_type
    elif spec.kind == "database":
        tier = spec.tier or next(iter(cat.database_tiers))
        _choose("tier", tier, list(cat.database_tiers))
        _choose("engine", spec.engine or "postgres", list(cat.database_engines))
        updates["tier"] = tier
    return spec.model_copy(update=updates)


def check_provider_names(shape: str, spec: ResourceSpec) -> None:
    """Refuse names and tags the provider (`shape`: gcp, aws or azure) would refuse for this kind."""
    if shape == "gcp":
        if spec.kind in GCP_LABELLED_KINDS:
            gcp_labels(spec.name, spec.tags)
        if spec.kind == "bucket":
            gcs_bucket_name(spec.name)
        elif spec.kind == "k8s_cluster":
            gke_cluster_name(spec.name)
    elif shape == "aws":
        if spec.kind == "bucket":
            s3_bucket_name(spec.name)
        elif spec.kind == "database":
            rds_identifier(spec.name)
        elif spec.kind == "firewall":
            aws_security_group_description(spec.name, spec.description)
    elif shape == "azure":
        if spec.kind == "bucket":
            azure_storage_account_name(spec.name)
        elif spec.kind == "firewall":
            azure_rule_description(spec.name, spec.description)


def gcp_labels(resource: str, labels: Mapping[str, str]) -> Mapping[str, str]:
    """GCP labels: keys start with a lower-case letter, keys and values only [a-z0-9_-], each at most 63."""
    for key, value in labels.items():
        if not GCP_LABEL_KEY.fullmatch(key):
            raise InvalidInput(field=f"{resource}.tags", rule=f"GCP label keys must match {GCP_LABEL_KEY.pattern} "
                                                              f"(a lower-case letter first; at most 63); {key!r} does not")
        if not GCP_LABEL_VALUE.fullmatch(value):
            raise InvalidInput(
                field=f"{resource}.tags.{key}",
                rule="GCP label values may only contain lower-case letters, digits, '_' and '-' (at most 63)",
            )
    return labels


def gcs_bucket_name(name: str) -> str:
    """A Cloud Storage bucket name: no "goog" prefix and no "google" anywhere (spec names are lower-case, <= 63)."""
    _bucket_length(name, "GCS")
    if name.startswith("goog") or "google" in name:
        raise InvalidInput(field=f"{name}.name", rule="GCS bucket names may not start with 'goog' or contain 'google'")
    return name


def s3_bucket_name(name: str) -> str:
    """An S3 bucket name: no reserved prefix (xn--, sthree-) or suffix (-s3alias, --ol-s3).

    Spec names are already lower-case letters, digits and hyphens, a letter first, at most 63.
    """
    _bucket_length(name, "S3")
    if name.startswith(S3_RESERVED_PREFIXES) or name.endswith(S3_RESERVED_SUFFIXES):
        raise InvalidInput(field=f"{name}.name",
                           rule=f"S3 bucket names may not start with {', '.join(S3_RESERVED_PREFIXES)} or end with "
                                f"{', '.join(S3_RESERVED_SUFFIXES)}")
    return name


def _bucket_length(name: str, service: str) -> None:
    """Bucket names are at least 3 characters on GCS and S3 (the spec's own rule caps them at 63)."""
    if len(name) < BUCKET_NAME_MIN:
        raise InvalidInput(field=f"{name}.name", rule=f"{service} bucket names have at least {BUCKET_NAME_MIN} characters")


def gke_cluster_name(name: str) -> str:
    """A GKE cluster name: at most 40 characters (the spec name rules cover the rest)."""
    if len(name) > GKE_CLUSTER_NAME_MAX:
        raise InvalidInput(field=f"{name}.name", rule=f"GKE cluster names have at most {GKE_CLUSTER_NAME_MAX} characters")
    return name


def rds_identifier(name: str) -> str:
    """An RDS instance identifier: a letter first, no two hyphens in a row, no hyphen at the end."""
    if not name[:1].isalpha() or "--" in name or name.endswith("-"):
        raise InvalidInput(field=f"{name}.name", rule="RDS identifiers start with a letter and have no two hyphens "
                                                      "in a row and no hyphen at the end")
    return name


def azure_storage_account_name(name: str) -> str:
    """The storage account name a bucket renders to: the name without hyphens, cut to 24; at least 3 remain."""
    lo, hi = AZURE_STORAGE_ACCOUNT_LENGTH
    account = name.replace("-", "")[:hi]
    if len(account) < lo:
        raise InvalidInput(field=f"{name}.name", rule=f"an Azure storage account name (the bucket name without "
                                                      f"hyphens) needs at least {lo} letters or digits")
    return account


def aws_security_group_description(resource: str, description: str) -> str:
    """The description a security group renders with (a default when empty), in the characters AWS accepts."""
    text = description or AWS_SG_DEFAULT_DESCRIPTION
    if len(text) > AWS_SG_DESCRIPTION_MAX or not set(text) <= AWS_SG_DESCRIPTION_CHARS:
        raise InvalidInput(
            field=f"{resource}.description",
            rule="AWS security group descriptions allow only ASCII letters, digits and . _-:/()#,@[]+=&;{}!$*",
        )
    return text


def azure_rule_description(resource: str, description: str) -> str:
    """A firewall description as Azure security rules carry it: at most 140 characters."""
    if len(description) > AZURE_RULE_DESCRIPTION_MAX:
        raise InvalidInput(field=f"{resource}.description",
                           rule=f"Azure security rule descriptions hold at most {AZURE_RULE_DESCRIPTION_MAX} characters")
    return description


def size_class(catalog: Catalog, provider: str, spec: ResourceSpec) -> str | None:
    """small/medium/large of the spec's machine type or tier, if it has one."""
    cat = catalog.for_provider(provider)
    if spec.kind in ("vm", "k8s_cluster") and spec.machine_type in cat.machine_types:
        return cat.machine_types[spec.machine_type].size
    if spec.kind == "database" and spec.tier in cat.database_tiers:
        return cat.database_tiers[spec.tier].size
    return None


def quota_usage(catalog: Catalog, provider: str, spec: ResourceSpec) -> dict[str, int]:
    """How much of each guild quota one resource uses."""
    cat = catalog.for_provider(provider)
    if spec.kind == "vm":
        mt = cat.machine_types[spec.machine_type or ""]
        return {"compute.instances": 1, "compute.cpus": int(mt.vcpus), "compute.ram_gb": int(-(-mt.memory_gb // 1))}
    if spec.kind == "k8s_cluster":
        mt = cat.machine_types[spec.machine_type or ""]
        n = spec.node_count or 0
        return {"compute.instances": n, "compute.cpus": int(mt.vcpus) * n, "compute.ram_gb": int(-(-mt.memory_gb // 1)) * n}
    if spec.kind == "database":
        return {"database.instances": 1}
    if spec.kind == "bucket":
        return {"storage.buckets": 1}
    if spec.kind == "network":
        return {"network.vpcs": 1}
    if spec.kind == "load_balancer":
        return {"network.load_balancers": 1}
    return {}


def lb_backend(spec: ResourceSpec, resources: Sequence[ResourceSpec]) -> ResourceSpec:
    """The resource a load balancer fronts, among `resources` (the project's desired configuration).

    Why here: the spec alone cannot know whether its backend exists; validation, the wizard and
    every renderer ask the same question and must give the same answer, naming the field.
    """
    for kind in LB_BACKEND_KINDS:
        for other in resources:
            if other.kind == kind and other.name == spec.backend:
                return other
    raise InvalidInput(field=f"{spec.name}.backend",
                       rule=f"{spec.backend!r} is not a vm, k8s_cluster or bucket of this project")


def backend_problems(resources: Sequence[ResourceSpec]) -> list[tuple[str, str]]:
    """(field, rule) for every load balancer of a configuration whose backend it does not hold.

    Why at project level: a spec can name a backend added later in the same session, or one a
    later session removes; only the configuration as a whole can say, and validation refuses
    it before a plan rather than letting the renderer fail the plan.
    """
    out: list[tuple[str, str]] = []
    for spec in resources:
        if spec.kind != "load_balancer":
            continue
        try:
            backend = lb_backend(spec, resources)
        except InvalidInput as exc:
            out.append((str(exc.data["field"]), str(exc.data["rule"])))
            continue
        if spec.cdn and backend.kind != "bucket":
            out.append((f"{spec.name}.cdn", "a CDN is offered in front of a bucket backend only"))
    return out
