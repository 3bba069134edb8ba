"""Priced network plumbing: the NAT gateway and friends are listed with their price, none hidden."""

from __future__ import annotations

import pytest

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.plumbing import network_plumbing
from cloud_engine.iac.render import plumbing
from tests.cloud_engine.iac.realistic import PROVIDERS, realistic_project


def by_address(provider: str, specs: list[ResourceSpec]) -> dict[str, float]:
    return {i.address: i.monthly_usd for i in network_plumbing(provider, specs, project_name="shop")}


def test_aws_nat_gateway_and_its_address_are_priced() -> None:
    items = by_address("aws", realistic_project())
    assert items["aws_nat_gateway.core"] == pytest.approx(0.045 * 730, abs=0.01)
    assert items["aws_eip.core__nat"] == pytest.approx(0.005 * 730, abs=0.01)
    assert items["aws_route_table.core__public"] == 0.0


def test_gcp_cloud_nat_is_priced_per_vm_behind_it() -> None:
    # private VM + 3 private nodes (default node_count) sit behind the NAT
    items = by_address("gcp", realistic_project(public_vm=False))
    assert items["google_compute_router_nat.core__nat"] == pytest.approx(4 * 0.0014 * 730, abs=0.01)
    items = by_address("gcp", realistic_project())
    assert items["google_compute_router_nat.core__nat"] == pytest.approx(3 * 0.0014 * 730, abs=0.01)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_plumbing_resource_is_listed_once_in_file_order(provider: str) -> None:
    specs = realistic_project()
    items = network_plumbing(provider, specs, project_name="shop")
    assert [i.address for i in items] == plumbing(provider, specs, project_name="shop")
    assert all(i.monthly_usd >= 0 and i.detail for i in items)


def test_a_project_without_networks_has_no_plumbing() -> None:
    assert network_plumbing("aws", [ResourceSpec(kind="bucket", name="assets-ce1")], project_name="shop") == []


def test_azure_private_vms_get_a_priced_nat_gateway() -> None:
    items = by_address("azure", realistic_project(public_vm=False))
    assert items["azurerm_nat_gateway.core__nat"] == pytest.approx(0.045 * 730, abs=0.01)
    assert "azurerm_subnet_nat_gateway_association.core__app" in items
    assert "azurerm_nat_gateway.core__nat" not in by_address("azure", realistic_project())
