"""Every resource kind Cloud Engine renders for Azure."""

from __future__ import annotations

from cloud_engine.iac.providers._base import ProviderDef, registry
from cloud_engine.iac.providers.azure import (
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
    name="azure",
    kinds=registry(REGISTRY),
    default_region="eastus",
    subnet_force_new=network.SUBNET_FORCE_NEW,
    base=_provider.base_files,
)
