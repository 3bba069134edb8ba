"""Network plumbing: what each kind needs to work on a real cloud, generated from the project's resources."""

from __future__ import annotations

import ipaddress
from typing import Any

import hcl2
import pytest

from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.hcl import unescape_hcl_literal
from cloud_engine.iac.render import plumbing, render
from tests.cloud_engine.iac.realistic import PROVIDERS, realistic_project


def unquoted(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals; drop them so literals compare as text."""
    if isinstance(value, str):
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if isinstance(value, list):
        return [unquoted(v) for v in value]
    if isinstance(value, dict):
        return {k: unquoted(v) for k, v in value.items()}
    return value


def blocks(main_tf: str, section: str = "resource") -> dict[str, dict[str, dict[str, Any]]]:
    """type → name → body of every block of a section, literals unquoted."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in hcl2.loads(main_tf).get(section, []):
        for rtype, by_name in entry.items():
            for name, body in by_name.items():
                out.setdefault(unescape_hcl_literal(rtype), {})[unescape_hcl_literal(name)] = unquoted(body)
    return out


def main_of(provider: str, specs: list[ResourceSpec]) -> dict[str, dict[str, dict[str, Any]]]:
    return blocks(render(provider, specs, project_name="shop")["main.tf"])


def spec(**kwargs: Any) -> ResourceSpec:
    return ResourceSpec.model_validate(kwargs)


NETWORK = {"kind": "network", "name": "core", "cidr": "10.20.0.0/16",
           "subnets": [{"name": "app", "cidr": "10.20.1.0/24"}, {"name": "data", "cidr": "10.20.2.0/24"}]}


# --- AWS ---------------------------------------------------------------------------------------

def test_aws_firewalls_are_attached_to_vms_and_the_cluster() -> None:
    main = main_of("aws", realistic_project())
    # the firewall's group, then the group admitting only the load balancer that fronts web-1
    assert main["aws_instance"]["web-1"]["vpc_security_group_ids"] == ["${aws_security_group.web-fw.id}",
                                                                       "${aws_security_group.web-lb__targets.id}"]
    vpc_config = main["aws_eks_cluster"]["apps"]["vpc_config"][0]
    assert vpc_config["security_group_ids"] == ["${aws_security_group.web-fw.id}"]


def test_aws_default_security_group_is_locked_down_and_flow_logs_are_kept() -> None:
    main = main_of("aws", realistic_project())
    default = main["aws_default_security_group"]["core"]
    assert "ingress" not in default and "egress" not in default
    assert main["aws_flow_log"]["core"]["traffic_type"] == "ALL"
    assert main["aws_flow_log"]["core"]["log_destination"] == "${aws_cloudwatch_log_group.core__flow_logs.arn}"
    assert main["aws_cloudwatch_log_group"]["core__flow_logs"]["retention_in_days"] >= 365


def test_aws_public_vm_gets_an_internet_route_and_private_nodes_a_nat() -> None:
    main = main_of("aws", realistic_project())
    public = main["aws_route_table"]["core__public"]["route"][0]
    assert public["cidr_block"] == "0.0.0.0/0" and public["gateway_id"] == "${aws_internet_gateway.core.id}"
    associations = main["aws_route_table_association"]
    assert associations["core__app"]["route_table_id"] == "${aws_route_table.core__public.id}"
    assert main["aws_nat_gateway"]["core"]["subnet_id"] == "${aws_subnet.core__app.id}"
    assert associations["core__data"]["route_table_id"] == "${aws_route_table.core__private.id}"
    # nodes run only in the private subnet, the control plane spans both zones
    assert main["aws_eks_node_group"]["apps__nodes"]["subnet_ids"] == ["${aws_subnet.core__data.id}"]
    assert len(main["aws_eks_cluster"]["apps"]["vpc_config"][0]["subnet_ids"]) == 2
    assert "aws_subnet" in main and "core__nat_edge" not in main["aws_subnet"]


def test_aws_without_a_public_subnet_the_nat_gets_its_own_free_range() -> None:
    main = main_of("aws", realistic_project(public_vm=False))
    edge = main["aws_subnet"]["core__nat_edge"]
    edge_net = ipaddress.ip_network(edge["cidr_block"])
    assert edge_net.prefixlen == 28 and edge_net.subnet_of(ipaddress.ip_network("10.20.0.0/16"))
    assert not any(edge_net.overlaps(ipaddress.ip_network(s["cidr"])) for s in NETWORK["subnets"])
    assert main["aws_nat_gateway"]["core"]["subnet_id"] == "${aws_subnet.core__nat_edge.id}"
    associations = main["aws_route_table_association"]
    assert associations["core__nat_edge"]["route_table_id"] == "${aws_route_table.core__public.id}"
    assert {associations[s]["route_table_id"] for s in ("core__app", "core__data")} == {
        "${aws_route_table.core__private.id}"}


def test_aws_network_without_compute_has_no_gateway() -> None:
    main = main_of("aws", [spec(**NETWORK)])
    assert "aws_internet_gateway" not in main and "aws_nat_gateway" not in main
    assert "aws_default_security_group" in main and "aws_flow_log" in main


def test_aws_edge_subnet_needs_a_free_range() -> None:
    full = spec(kind="network", name="core", cidr="10.20.0.0/24",
                subnets=[{"name": "app", "cidr": "10.20.0.0/25"}, {"name": "data", "cidr": "10.20.0.128/25"}])
    with pytest.raises(InvalidInput) as exc:
        render("aws", [full, spec(kind="vm", name="web-1", network="core")], project_name="shop")
    assert exc.value.field == "core.subnets"


def test_aws_database_is_reachable_only_on_its_port_from_the_app_tier() -> None:
    main = main_of("aws", realistic_project())
    db = main["aws_db_instance"]["orders-db"]
    assert db["vpc_security_group_ids"] == ["${aws_security_group.orders-db__db.id}"]
    assert db["db_subnet_group_name"] == "${aws_db_subnet_group.orders-db__subnets.name}"
    assert db["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    rules = {k: v for k, v in main["aws_vpc_security_group_ingress_rule"].items() if k.startswith("orders-db__db")}
    assert {(r["from_port"], r["to_port"], r["cidr_ipv4"]) for r in rules.values()} == {
        (5432, 5432, "10.20.1.0/24"), (5432, 5432, "10.20.2.0/24")}  # app subnet + the cluster's node subnet
    assert "aws_vpc_security_group_egress_rule" not in main or not any(
        k.startswith("orders-db") for k in main["aws_vpc_security_group_egress_rule"])


def test_aws_cluster_endpoint_is_private_logged_and_secrets_are_encrypted() -> None:
    main = main_of("aws", realistic_project())
    cluster = main["aws_eks_cluster"]["apps"]
    assert cluster["vpc_config"][0]["endpoint_public_access"] is False
    assert set(cluster["enabled_cluster_log_types"]) == {"api", "audit", "authenticator", "controllerManager",
                                                         "scheduler"}
    assert cluster["encryption_config"][0]["resources"] == ["secrets"]
    assert main["aws_kms_key"]["apps__secrets"]["enable_key_rotation"] is True
    unencrypted = [s if s.kind != "k8s_cluster" else s.model_copy(update={"encrypted": False})
                   for s in realistic_project()]
    main = main_of("aws", unencrypted)
    assert "encryption_config" not in main["aws_eks_cluster"]["apps"] and "aws_kms_key" not in main


# --- GCP ---------------------------------------------------------------------------------------

def test_gcp_cloud_sql_has_only_a_private_ip_through_private_services_access() -> None:
    main = main_of("gcp", realistic_project())
    instance = main["google_sql_database_instance"]["orders-db"]
    ip = instance["settings"][0]["ip_configuration"][0]
    assert ip["ipv4_enabled"] is False and ip["private_network"] == "${google_compute_network.core.id}"
    assert instance["depends_on"] == ["${google_service_networking_connection.core__private_services}"]
    address = main["google_compute_global_address"]["core__private_services"]
    assert address["purpose"] == "VPC_PEERING" and address["address_type"] == "INTERNAL"
    connection = main["google_service_networking_connection"]["core__private_services"]
    assert connection["reserved_peering_ranges"] == ["${google_compute_global_address.core__private_services.name}"]


def test_gcp_nat_exists_for_private_compute_and_subnets_log_flows() -> None:
    main = main_of("gcp", realistic_project())
    nat = main["google_compute_router_nat"]["core__nat"]
    assert nat["router"] == "${google_compute_router.core__router.name}"
    assert all("log_config" in s for s in main["google_compute_subnetwork"].values())
    only_public = [spec(**NETWORK), spec(kind="vm", name="web-1", network="core", public_ip=True)]
    assert "google_compute_router_nat" not in main_of("gcp", only_public)


def test_gcp_cluster_is_private_identity_aware_and_removable() -> None:
    main = main_of("gcp", realistic_project())
    cluster = main["google_container_cluster"]["apps"]
    assert cluster["deletion_protection"] is False
    assert cluster["private_cluster_config"][0]["enable_private_nodes"] is True
    assert cluster["workload_identity_config"][0]["workload_pool"] == "${data.google_client_config.current.project}.svc.id.goog"
    assert cluster["network_policy"][0]["enabled"] is True
    authorized = cluster["master_authorized_networks_config"][0]["cidr_blocks"]
    assert {b["cidr_block"] for b in authorized} == {"10.20.1.0/24", "10.20.2.0/24"}
    node_config = main["google_container_node_pool"]["apps__nodes"]["node_config"][0]
    assert node_config["service_account"] == "${google_service_account.apps__nodes.email}"
    assert node_config["workload_metadata_config"][0]["mode"] == "GKE_METADATA"
    roles = {m["role"] for m in main["google_project_iam_member"].values()}
    assert "roles/editor" not in roles and "roles/logging.logWriter" in roles and len(roles) == 5


# --- Azure -------------------------------------------------------------------------------------

def test_azure_postgres_is_reachable_through_a_private_endpoint_with_a_login() -> None:
    main = main_of("azure", realistic_project())
    server = main["azurerm_postgresql_flexible_server"]["orders-db"]
    assert server["public_network_access_enabled"] is False
    assert server["administrator_password"] == "${random_password.orders-db.result}"
    assert server["authentication"][0]["password_auth_enabled"] is True
    endpoint = main["azurerm_private_endpoint"]["orders-db"]
    assert endpoint["subnet_id"] == "${azurerm_subnet.core__data.id}"
    connection = endpoint["private_service_connection"][0]
    assert connection["subresource_names"] == ["postgresqlServer"]
    assert main["azurerm_private_dns_zone"]["postgres__privatelink"]["name"] == "privatelink.postgres.database.azure.com"
    link = main["azurerm_private_dns_zone_virtual_network_link"]["core__postgres__privatelink"]
    assert link["virtual_network_id"] == "${azurerm_virtual_network.core.id}"


def test_azure_nsg_is_associated_with_every_subnet() -> None:
    main = main_of("azure", realistic_project())
    associations = main["azurerm_subnet_network_security_group_association"]
    assert {a["subnet_id"] for a in associations.values() if a["network_security_group_id"] ==
            "${azurerm_network_security_group.web-fw.id}"} == {"${azurerm_subnet.core__app.id}",
                                                               "${azurerm_subnet.core__data.id}"}
    # the load balancer's gateway subnet has its own NSG (Application Gateway v2's required rules)
    assert associations["core__appgw"]["network_security_group_id"] == "${azurerm_network_security_group.core__appgw.id}"


@pytest.mark.parametrize("encrypted", [True, False])
def test_azure_cluster_uses_entra_rbac_network_policy_and_host_encryption_like_vms(encrypted: bool) -> None:
    specs = [s.model_copy(update={"encrypted": encrypted}) if s.kind in ("vm", "k8s_cluster") else s
             for s in realistic_project()]
    main = main_of("azure", specs)
    cluster = main["azurerm_kubernetes_cluster"]["apps"]
    assert cluster["local_account_disabled"] is True
    assert cluster["azure_active_directory_role_based_access_control"][0]["azure_rbac_enabled"] is True
    assert cluster["network_profile"][0]["network_policy"] == "azure"
    assert cluster["default_node_pool"][0]["host_encryption_enabled"] is encrypted
    assert main["azurerm_linux_virtual_machine"]["web-1"]["encryption_at_host_enabled"] is encrypted


# --- every provider ------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_database_needs_a_network(provider: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        render(provider, [spec(kind="database", name="orders-db")], project_name="shop")
    assert exc.value.field == "orders-db.network"
    with pytest.raises(InvalidInput) as exc:
        render(provider, [spec(kind="database", name="orders-db", network="elsewhere")], project_name="shop")
    assert exc.value.field == "orders-db.network"


def test_an_rds_database_needs_two_zones() -> None:
    one = spec(kind="network", name="core", cidr="10.20.0.0/16", subnets=[{"name": "app", "cidr": "10.20.1.0/24"}])
    with pytest.raises(InvalidInput) as exc:
        render("aws", [one, spec(kind="database", name="orders-db", network="core")], project_name="shop")
    assert exc.value.field == "orders-db.network"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_files_do_not_depend_on_the_order_of_kinds(provider: str) -> None:
    specs = realistic_project()
    assert render(provider, list(reversed(specs)), project_name="shop") == render(provider, specs, project_name="shop")
    main = render(provider, specs, project_name="shop")["main.tf"]
    first_network = main.index(f'"{ {"aws": "aws_vpc", "gcp": "google_compute_network", "azure": "azurerm_virtual_network"}[provider]}"')
    assert first_network < main.index('"web-1"')


@pytest.mark.parametrize(("provider", "expected"), [
    ("aws", {"aws_nat_gateway.core", "aws_internet_gateway.core", "aws_flow_log.core", "aws_default_security_group.core"}),
    ("gcp", {"google_compute_router_nat.core__nat", "google_service_networking_connection.core__private_services"}),
    ("azure", {"azurerm_private_dns_zone.postgres__privatelink"}),
])
def test_plumbing_is_listed_for_the_lobby(provider: str, expected: set[str]) -> None:
    listed = plumbing(provider, realistic_project(), project_name="shop")
    assert expected <= set(listed)
    assert len(listed) == len(set(listed))
    main = render(provider, realistic_project(), project_name="shop")["main.tf"]
    assert all(f'"{a.split(".")[0]}" "{a.split(".")[1]}"' in main for a in listed)


def test_cluster_ranges_avoid_the_network() -> None:
    net = spec(kind="network", name="core", cidr="10.0.0.0/16", subnets=[{"name": "app", "cidr": "10.0.1.0/24"}])
    cluster = spec(kind="k8s_cluster", name="apps", network="core")
    profile = main_of("azure", [net, cluster])["azurerm_kubernetes_cluster"]["apps"]["network_profile"][0]
    assert profile["service_cidr"] == "172.20.0.0/16" and profile["dns_service_ip"] == "172.20.0.10"
    default = main_of("azure", realistic_project())["azurerm_kubernetes_cluster"]["apps"]["network_profile"][0]
    assert default["service_cidr"] == "10.0.0.0/16"  # AKS's own default when it does not clash
    gke_net = spec(kind="network", name="core", cidr="172.16.0.0/16", subnets=[{"name": "app", "cidr": "172.16.0.0/27"}])
    master = main_of("gcp", [gke_net, cluster])["google_container_cluster"]["apps"]["private_cluster_config"][0]
    assert master["master_ipv4_cidr_block"] == "172.16.0.32/28"
    # a GCP VPC has no range of its own: only subnets count
    full = spec(kind="network", name="core", cidr="172.16.0.0/16", subnets=[{"name": "app", "cidr": "172.16.0.0/24"}])
    with pytest.raises(InvalidInput) as exc:
        render("gcp", [full, cluster], project_name="shop")
    assert exc.value.field == "apps.network"


def test_control_plane_access_ranges_open_eks_and_gke_to_them_only() -> None:
    specs = realistic_project()
    aws = blocks(render("aws", specs, project_name="shop", api_access_cidrs=["203.0.113.0/24"])["main.tf"])
    vpc_config = aws["aws_eks_cluster"]["apps"]["vpc_config"][0]
    assert vpc_config["endpoint_public_access"] is True and vpc_config["public_access_cidrs"] == ["203.0.113.0/24"]
    gcp = blocks(render("gcp", specs, project_name="shop", api_access_cidrs=["203.0.113.0/24"])["main.tf"])
    cidrs = gcp["google_container_cluster"]["apps"]["master_authorized_networks_config"][0]["cidr_blocks"]
    assert [b["cidr_block"] for b in cidrs] == ["10.20.1.0/24", "10.20.2.0/24", "203.0.113.0/24"]
    assert "public_access_cidrs" not in main_of("aws", specs)["aws_eks_cluster"]["apps"]["vpc_config"][0]


@pytest.mark.parametrize(("cidrs", "field"), [
    (["0.0.0.0/0"], "api_access_cidrs"),
    (["0.0.0.0/1", "128.0.0.0/1"], "api_access_cidrs"),
    (["203.0.113.0/24", "not-a-cidr"], "api_access_cidrs[1]"),
])
def test_control_plane_access_ranges_are_checked(cidrs: list[str], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        render("aws", realistic_project(), project_name="shop", api_access_cidrs=cidrs)
    assert exc.value.field == field
