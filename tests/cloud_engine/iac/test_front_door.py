"""Azure Front Door for a bucket backend: what a user gets on Azure when a load balancer fronts a bucket.

The site is served on the user's domain with a managed certificate, HTTPS all the way to the
storage account's static website, the same security headers as on AWS, outputs naming the DNS
records to create, and an estimate that prices Front Door rather than an Application Gateway.
"""

from __future__ import annotations

from typing import Any

import hcl2
import pytest

from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import ResourceSpec
from cloud_engine.data.catalog import load_catalog
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.render import render
from tests.cloud_engine.iac.realistic import realistic_project, static_site_project
from tests.cloud_engine.iac.test_provider_schemas import problems_of
from tests.cloud_engine.iac.test_render_plumbing import main_of, unquoted


def site(**lb_fields: Any) -> list[ResourceSpec]:
    """The static site with the load balancer's fields changed (e.g. cdn off)."""
    bucket, lb = static_site_project()
    return [bucket, lb.model_copy(update=lb_fields)]


def front_door(specs: list[ResourceSpec]) -> dict[str, dict[str, Any]]:
    """type → body of the site-lb Front Door parts (and the bucket's static website)."""
    main = main_of("azure", specs)
    return {rtype: by_name.get("site-lb") or by_name.get("site-ce1") for rtype, by_name in main.items()
            if rtype.startswith("azurerm_cdn_frontdoor") or rtype == "azurerm_storage_account_static_website"}


@pytest.mark.parametrize("cdn", [True, False])
def test_a_bucket_backend_on_azure_is_front_door_standard_not_a_gateway(cdn: bool) -> None:
    main = main_of("azure", site(cdn=cdn))
    assert "azurerm_application_gateway" not in main and "azurerm_public_ip" not in main
    assert main["azurerm_cdn_frontdoor_profile"]["site-lb"]["sku_name"] == "Standard_AzureFrontDoor"


def test_the_route_speaks_only_https_to_the_origin_and_redirects_http_on_the_custom_domain() -> None:
    route = front_door(static_site_project())["azurerm_cdn_frontdoor_route"]
    assert route["forwarding_protocol"] == "HttpsOnly"
    assert route["https_redirect_enabled"] is True and sorted(route["supported_protocols"]) == ["Http", "Https"]
    assert route["patterns_to_match"] == ["/*"]
    assert route["cdn_frontdoor_custom_domain_ids"] == ["${azurerm_cdn_frontdoor_custom_domain.site-lb.id}"]
    assert route["link_to_default_domain"] is False  # served on the user's domain only


def test_the_custom_domain_carries_a_managed_certificate_for_the_domain_and_tls_1_2() -> None:
    parts = front_door(static_site_project())
    domain = parts["azurerm_cdn_frontdoor_custom_domain"]
    assert domain["host_name"] == "www.example.com"
    assert domain["tls"] == [{"certificate_type": "ManagedCertificate", "minimum_tls_version": "TLS12",
                              "__is_block__": True}]
    # the association lets `terraform destroy` detach the domain from the route before deleting it
    association = parts["azurerm_cdn_frontdoor_custom_domain_association"]
    assert association["cdn_frontdoor_route_ids"] == ["${azurerm_cdn_frontdoor_route.site-lb.id}"]


def test_the_origin_is_the_accounts_static_website_with_its_certificate_checked() -> None:
    parts = front_door(static_site_project())
    origin = parts["azurerm_cdn_frontdoor_origin"]
    web_host = "${azurerm_storage_account.site-ce1.primary_web_host}"
    assert origin["host_name"] == web_host and origin["origin_host_header"] == web_host
    assert origin["certificate_name_check_enabled"] is True
    assert origin["depends_on"] == ["${azurerm_storage_account_static_website.site-ce1}"]
    probe = parts["azurerm_cdn_frontdoor_origin_group"]["health_probe"][0]
    assert (probe["protocol"], probe["path"]) == ("Https", "/")


def test_every_response_gets_the_same_security_headers_as_cloudfront() -> None:
    parts = front_door(static_site_project())
    rule = parts["azurerm_cdn_frontdoor_rule"]
    assert "conditions" not in rule  # no condition: every response
    headers = {a["header_name"]: (a["header_action"], a["value"]) for a in rule["actions"][0]["response_header_action"]}
    assert headers == {
        "Strict-Transport-Security": ("Overwrite", "max-age=31536000; includeSubDomains; preload"),
        "X-Content-Type-Options": ("Overwrite", "nosniff"),
        "X-Frame-Options": ("Overwrite", "DENY"),
        "Referrer-Policy": ("Overwrite", "strict-origin-when-cross-origin"),
    }
    aws_policy = main_of("aws", static_site_project())["aws_cloudfront_response_headers_policy"]["site-lb"]
    assert aws_policy["security_headers_config"][0]["strict_transport_security"][0]["access_control_max_age_sec"] == (
        31536000)
    assert parts["azurerm_cdn_frontdoor_route"]["cdn_frontdoor_rule_set_ids"] == [
        "${azurerm_cdn_frontdoor_rule_set.site-lb.id}"]


def test_cdn_turns_on_edge_caching_and_without_it_front_door_only_forwards() -> None:
    cached = front_door(site(cdn=True))["azurerm_cdn_frontdoor_route"]
    assert cached["cache"][0]["compression_enabled"] is True
    assert "cache" not in front_door(site(cdn=False))["azurerm_cdn_frontdoor_route"]


def test_the_storage_account_serves_a_static_website_only_when_a_load_balancer_fronts_it() -> None:
    website = main_of("azure", static_site_project())["azurerm_storage_account_static_website"]["site-ce1"]
    assert website["storage_account_id"] == "${azurerm_storage_account.site-ce1.id}"
    assert (website["index_document"], website["error_404_document"]) == ("index.html", "404.html")
    unfronted = [s for s in static_site_project() if s.kind == "bucket"]
    assert "azurerm_storage_account_static_website" not in main_of("azure", unfronted)
    assert "azurerm_storage_account_static_website" not in main_of("azure", realistic_project())


def test_gcp_serves_index_html_only_for_a_bucket_behind_its_load_balancer() -> None:
    fronted = main_of("gcp", static_site_project())["google_storage_bucket"]["site-ce1"]
    assert fronted["website"][0]["main_page_suffix"] == "index.html"
    assert "website" not in main_of("gcp", realistic_project())["google_storage_bucket"]["assets-ce1"]


def test_the_outputs_name_the_cname_target_and_the_dnsauth_txt_token() -> None:
    text = render("azure", static_site_project(), project_name="shop")["outputs.tf"]
    outputs = {name.strip('"'): unquoted(body) for entry in hcl2.loads(text)["output"] for name, body in entry.items()}
    cname, txt = outputs["load_balancer__site-lb"], outputs["load_balancer__site-lb__dnsauth"]
    assert cname["value"] == "${azurerm_cdn_frontdoor_endpoint.site-lb.host_name}"
    assert "CNAME for www.example.com" in cname["description"]
    assert txt["value"] == "${azurerm_cdn_frontdoor_custom_domain.site-lb.validation_token}"
    assert "TXT record _dnsauth.www.example.com" in txt["description"]


def test_a_domain_too_long_for_a_managed_certificate_is_refused_naming_the_field() -> None:
    long_domain = "a" * 50 + ".example-long.com"  # 67 characters: a valid DNS name, too long for the certificate
    with pytest.raises(InvalidInput, match="at most 64 characters") as err:
        render("azure", site(domain=long_domain), project_name="shop")
    assert err.value.data["field"] == "site-lb.domain"


def test_the_front_door_rendering_matches_the_azurerm_schema() -> None:
    for cdn in (True, False):
        assert problems_of("azure", render("azure", site(cdn=cdn), project_name="shop")) == []


@pytest.mark.parametrize("cdn", [True, False])
def test_the_estimate_prices_front_door_standard_with_its_source(cdn: bool) -> None:
    catalog = load_catalog()
    specs = site(cdn=cdn)
    line = CostEstimator(catalog).estimate("azure", "eastus", specs[1], among=specs)
    front = catalog.for_provider("azure").load_balancer.bucket
    assert front is not None
    assert line.monthly == 35.0  # the Standard base fee; traffic and requests by use
    assert "Front Door Standard" in line.detail and front.source in line.detail and "Application Gateway" not in line.detail
    stored = CostEstimator(catalog).estimate("azure", "eastus", specs[0]).monthly
    assert CostEstimator(catalog).total("azure", "eastus", specs) == round(stored + 35.0, 2)  # the project's total


def test_a_vm_behind_an_azure_load_balancer_is_still_priced_as_an_application_gateway() -> None:
    specs = realistic_project()
    line = CostEstimator().estimate("azure", "eastus", specs[-1], among=specs)
    assert "Application Gateway" in line.detail and line.monthly > 100


def test_a_load_balancer_with_cdn_priced_alone_is_still_front_door_on_azure() -> None:
    # `cdn` is accepted only in front of a bucket, so a caller that prices the spec alone gets the same answer
    line = CostEstimator().estimate("azure", "eastus", site(cdn=True)[1])
    assert "Front Door Standard" in line.detail and line.monthly == 35.0
