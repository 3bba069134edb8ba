"""Cost figures for known catalogue entries (730 h/month) and clear errors for unknown ones."""

from __future__ import annotations

import pytest

from cloud_engine.core import CostEstimator, InvalidInput, ResourceSpec
from cloud_engine.core.catalog_checks import normalize
from cloud_engine.data import load_catalog


@pytest.fixture
def est() -> CostEstimator:
    return CostEstimator()


def test_vm_cost_is_type_plus_disk(est: CostEstimator) -> None:
    line = est.estimate("aws", "us-east-1", ResourceSpec(kind="vm", name="a", machine_type="t3.micro", disk_gb=20))
    # 0.0104 $/h * 730 + 20 GB * 0.08 $/GB-month
    assert line.monthly == pytest.approx(0.0104 * 730 + 1.6, abs=0.01)
    assert line.hourly == pytest.approx(0.0104 + 1.6 / 730, abs=1e-6)


def test_region_multiplier_applies(est: CostEstimator) -> None:
    spec = ResourceSpec(kind="vm", name="a", machine_type="e2-standard-2", disk_gb=10)
    base = est.estimate("gcp", "us-central1", spec).monthly
    sao = est.estimate("gcp", "southamerica-east1", spec).monthly
    assert sao == pytest.approx((0.0670 * 1.59) * 730 + 1.0, abs=0.01)
    assert sao > base


def test_database_ha_doubles_instance_and_storage(est: CostEstimator) -> None:
    single = est.estimate("gcp", "us-central1", ResourceSpec(kind="database", name="d", tier="db-g1-small", storage_gb=10))
    ha = est.estimate("gcp", "us-central1", ResourceSpec(kind="database", name="d", tier="db-g1-small", storage_gb=10,
                                                         high_availability=True))
    assert single.monthly == pytest.approx(0.035 * 730 + 10 * 0.17, abs=0.01)
    assert ha.monthly == pytest.approx(2 * single.monthly, abs=0.02)


def test_free_kinds_and_buckets(est: CostEstimator) -> None:
    assert est.estimate("azure", "eastus", ResourceSpec(kind="network", name="n")).monthly == 0
    bucket = est.estimate("aws", "us-east-1", ResourceSpec(kind="bucket", name="b", storage_gb=1000))
    assert bucket.monthly == pytest.approx(23.0, abs=0.01)


def test_k8s_is_control_plane_plus_nodes(est: CostEstimator) -> None:
    line = est.estimate("gcp", "us-central1", ResourceSpec(kind="k8s_cluster", name="k", machine_type="e2-standard-2",
                                                           node_count=3))
    assert line.monthly == pytest.approx((0.10 + 3 * 0.0670) * 730, abs=0.01)


def test_unknown_machine_type_lists_valid_ones() -> None:
    with pytest.raises(InvalidInput) as err:
        normalize(load_catalog(), "aws", "us-east-1", ResourceSpec(kind="vm", name="a", machine_type="e2-small"))
    assert err.value.field == "machine_type"
    assert "t3.micro" in err.value.rule and "m5.large" in err.value.rule


def test_unknown_region_lists_valid_ones() -> None:
    with pytest.raises(InvalidInput, match="eu-west-1"):
        normalize(load_catalog(), "aws", "mars-1", ResourceSpec(kind="bucket", name="bkt"))


def test_catalogue_records_its_source_and_date(est: CostEstimator) -> None:
    assert est.catalog.as_of and "pric" in est.catalog.source.lower()
    assert "730 h/month" in est.provenance
