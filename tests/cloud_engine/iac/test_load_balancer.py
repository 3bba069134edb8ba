"""The `load_balancer` kind: what a user is told for bad input, what each cloud builds, and its order."""

from __future__ import annotations

from typing import Any

import pytest

from cloud_engine.core import catalog_checks
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import ResourceSpec
from cloud_engine.data.catalog import load_catalog
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.render import render
from tests.cloud_engine.iac.realistic import PROVIDERS, realistic_project, static_site_project
from tests.cloud_engine.iac.test_provider_schemas import problems_of
from tests.cloud_engine.iac.test_render_plumbing import main_of


def lb(**fields: Any) -> ResourceSpec:
    return ResourceSpec.from_user({"kind": "load_balancer", "name": "web-lb", "backend": "web-1",
                                   "domain": "shop.example.com", **fields})




def test_a_load_balancer_without_a_backend_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        ResourceSpec.from_user({"kind": "load_balancer", "name": "web-lb", "domain": "shop.example.com"})
    assert err.value.data["field"] == "backend" and "needs a backend" in err.value.data["rule"]


@pytest.mark.parametrize("domain", ["*.example.com", "10.0.0.1", "shop", "-bad.example.com", 'a"b.example.com',
                                    "x" * 250 + ".com"])
def test_a_domain_that_is_not_a_dns_name_is_refused(domain: str) -> None:
    with pytest.raises(InvalidInput) as err:
        lb(domain=domain)
    assert err.value.data["field"] == "domain"


def test_a_domain_is_kept_in_lower_case_and_the_port_defaults_to_80() -> None:
    spec = lb(domain="Shop.Example.COM.")
    assert (spec.domain, spec.port, spec.cdn) == ("shop.example.com", 80, False)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_backend_missing_from_the_project_is_refused_on_every_cloud(provider: str) -> None:
    specs = [s for s in realistic_project() if s.kind != "vm"]
    with pytest.raises(InvalidInput) as err:
        render(provider, specs, project_name="shop")
    assert err.value.data["field"] == "web-lb.backend"
    assert catalog_checks.backend_problems(specs) == [
        ("web-lb.backend", "'web-1' is not a vm, k8s_cluster or bucket of this project")]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_cdn_in_front_of_a_cluster_is_refused_naming_the_field(provider: str) -> None:
    """A cluster backend renders on every cloud (test_lb_cluster.py); a CDN stays for buckets only."""
    specs = [s for s in realistic_project() if s.kind != "load_balancer"] + [lb(backend="apps", cdn=True)]
    with pytest.raises(InvalidInput, match="bucket backend only") as err:
        render(provider, specs, project_name="shop")
    assert err.value.data["field"] == "web-lb.cdn"


def test_cdn_in_front_of_a_vm_is_refused_before_the_plan() -> None:
    specs = [*realistic_project()[:-1], lb(cdn=True)]
    assert catalog_checks.backend_problems(specs) == [("web-lb.cdn", "a CDN is offered in front of a bucket backend only")]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_static_site_load_balancer_matches_the_provider_schema(provider: str) -> None:
    # Azure serves it with Front Door (tests/cloud_engine/iac/test_front_door.py)
    assert problems_of(provider, render(provider, static_site_project(), project_name="shop")) == []


def test_aws_alb_is_https_with_a_redirect_in_two_public_zones_and_only_it_reaches_the_vm() -> None:
    main = main_of("aws", realistic_project(public_vm=False))
    alb = main["aws_lb"]["web-lb"]
    assert alb["internal"] is False and alb["drop_invalid_header_fields"] is True
    assert alb["subnets"] == ["${aws_subnet.core__lb_edge_a.id}", "${aws_subnet.core__lb_edge_b.id}"]
    edges = main["aws_subnet"]
    assert {edges["core__lb_edge_a"]["availability_zone"], edges["core__lb_edge_b"]["availability_zone"]} == {
        "us-east-1a", "us-east-1b"}
    assert main["aws_route_table_association"]["core__lb_edge_a"]["route_table_id"] == "${aws_route_table.core__public.id}"
    https = main["aws_lb_listener"]["web-lb__https"]
    assert https["port"] == 443 and https["protocol"] == "HTTPS" and https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13")
    redirect = main["aws_lb_listener"]["web-lb__http"]["default_action"][0]["redirect"][0]
    assert (redirect["port"], redirect["protocol"]) == ("443", "HTTPS")
    assert main["aws_acm_certificate"]["web-lb"]["domain_name"] == "shop.example.com"
    from_lb = main["aws_vpc_security_group_ingress_rule"]["web-lb__from_lb"]
    assert from_lb["referenced_security_group_id"] == "${aws_security_group.web-lb.id}" and from_lb["from_port"] == 8080
    assert main["aws_vpc_security_group_egress_rule"]["web-lb__to_targets"]["referenced_security_group_id"] == (
        "${aws_security_group.web-lb__targets.id}")


def test_aws_static_site_is_cloudfront_with_a_us_east_1_certificate_and_a_private_bucket() -> None:
    specs = [s.model_copy(update={"public_access": False}) if s.kind == "bucket" else s for s in static_site_project()]
    files = render("aws", specs, project_name="shop", region="eu-west-1")
    main = main_of("aws", specs)
    assert 'alias  = "us_east_1"' in files["providers.tf"]
    dist = main["aws_cloudfront_distribution"]["site-lb"]
    assert dist["aliases"] == ["www.example.com"]
    assert dist["viewer_certificate"][0]["minimum_protocol_version"] == "TLSv1.2_2021"
    assert main["aws_s3_bucket_public_access_block"]["site-ce1"]["block_public_policy"] is True


def test_gcp_vm_backend_admits_only_googles_health_check_ranges_and_serves_tls_1_2() -> None:
    main = main_of("gcp", realistic_project())
    rule = main["google_compute_firewall"]["web-lb__health"]
    assert rule["source_ranges"] == ["130.211.0.0/22", "35.191.0.0/16"] and rule["allow"][0]["ports"] == ["8080"]
    assert main["google_compute_managed_ssl_certificate"]["web-lb"]["managed"][0]["domains"] == ["shop.example.com"]
    assert main["google_compute_ssl_policy"]["web-lb"]["min_tls_version"] == "TLS_1_2"
    assert main["google_compute_global_forwarding_rule"]["web-lb__http"]["port_range"] == "80"
    assert main["google_compute_url_map"]["web-lb__redirect"]["default_url_redirect"][0]["https_redirect"] is True


def test_gcp_bucket_backend_has_cdn_and_needs_a_public_bucket() -> None:
    assert main_of("gcp", static_site_project())["google_compute_backend_bucket"]["site-lb"]["enable_cdn"] is True
    private = [s.model_copy(update={"public_access": False}) if s.kind == "bucket" else s for s in static_site_project()]
    with pytest.raises(InvalidInput, match="public_access on bucket site-ce1"):
        render("gcp", private, project_name="shop")


def test_azure_gateway_has_its_own_subnet_tls_1_2_and_a_key_vault_certificate() -> None:
    files = render("azure", realistic_project(), project_name="shop")
    main = main_of("azure", realistic_project())
    gateway = main["azurerm_application_gateway"]["web-lb"]
    assert gateway["gateway_ip_configuration"][0]["subnet_id"] == "${azurerm_subnet.core__appgw.id}"
    assert gateway["ssl_policy"][0]["min_protocol_version"] == "TLSv1_2"
    assert gateway["ssl_certificate"][0]["key_vault_secret_id"] == "${var.web_lb_certificate_secret_id}"
    assert 'variable "web_lb_certificate_secret_id"' in files["variables.tf"]
    assert main["azurerm_subnet"]["core__appgw"]["address_prefixes"] == ["10.20.255.128/26"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_load_balancer_blocks_come_after_their_backend_whatever_the_order_given(provider: str) -> None:
    specs = realistic_project()
    text = render(provider, [specs[-1], *specs[:-1]], project_name="shop")["main.tf"]
    assert text == render(provider, specs, project_name="shop")["main.tf"]
    vm_type = {"aws": "aws_instance", "gcp": "google_compute_instance", "azure": "azurerm_linux_virtual_machine"}[provider]
    lb_type = {"aws": "aws_lb", "gcp": "google_compute_global_forwarding_rule",
               "azure": "azurerm_application_gateway"}[provider]
    assert text.index(f'resource "{vm_type}" "web-1"') < text.index(f'resource "{lb_type}" "web-lb')


@pytest.mark.parametrize("provider", ["gcp", "aws", "azure"])
def test_a_load_balancer_counts_against_the_quota_and_is_priced_with_its_source(provider: str) -> None:
    catalog = load_catalog()
    assert catalog_checks.quota_usage(catalog, provider, lb()) == {"network.load_balancers": 1}
    line = CostEstimator(catalog).estimate(provider, catalog.regions(provider)[0], lb())
    prices = catalog.for_provider(provider).load_balancer
    assert line.monthly > 0 and prices.source in line.detail and "shop.example.com" in line.detail


def test_plan_rows_put_a_load_balancer_after_its_network_and_vm() -> None:
    from cloud_engine.iac.plan import PlanResult, ResourceChange
    from cloud_engine.iac.sandbox import logical_changes

    def create(name: str) -> ResourceChange:
        return ResourceChange(address=f"null_resource.{name}", type="null_resource", name=name, action="create",
                              actions=["create"], before=None, after={"triggers": {}})

    # Terraform lists addresses alphabetically: load_balancer__ would come before network__ and vm__
    plan = PlanResult(changes=[create("load_balancer__web-lb"), create("network__core"), create("vm__web-1")])
    assert [(c.kind, c.name) for c in logical_changes(plan)] == [
        ("network", "core"), ("vm", "web-1"), ("load_balancer", "web-lb")]
