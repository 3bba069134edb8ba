"""Every resource kind Cloud Engine renders for Google Cloud."""

from __future__ import annotations

from cloud_engine.iac.providers._base import ProviderDef, registry
from cloud_engine.iac.providers.gcp import (
            _provider,
            bucket,
            database,
            firewall,
            k8s_cluster,
            load_balancer,
            network,
            vm,
)

REGISTRY = (vm.KIND, database.KIND, network.KIND, bucket.KIND, firewall.KIND, k8s_cluster.KIND,
            load_balancer.KIND)

PROVIDER = ProviderDef(
    name="gcp",
    kinds=registry(REGISTRY),
    default_region="us-central1",
    subnet_force_new=network.SUBNET_FORCE_NEW,
    base=_provider.base_files,
)
