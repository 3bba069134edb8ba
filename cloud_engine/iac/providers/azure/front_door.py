"""load_balancer with a bucket backend → Azure Front Door Standard in front of the account's static website.

Why Front Door and not an Application Gateway: a gateway lives in a network and forwards to
private addresses, while a bucket is a storage account's public web endpoint; Azure's
HTTPS edge for that is Front Door. Front Door is a CDN either way (Microsoft's edge
terminates TLS close to the user whether or not `cdn` is set); `cdn` decides whether the
route also caches and compresses at the edge, as GCP's backend bucket turns on Cloud CDN.

What is made: a Standard_AzureFrontDoor profile and endpoint; an origin group probing `/`
over HTTPS; one origin, the storage account's static website host (`primary_web_host`) as
both host name and host header, with the certificate name checked; a custom domain for
`domain` with a Front Door managed certificate (TLS 1.2); a route for `/*` that speaks only
HTTPS to the origin and redirects HTTP to HTTPS; and a rule set adding the security headers
AWS's CloudFront response headers policy adds (HSTS for a year, nosniff, frame DENY,
strict-origin-when-cross-origin referrer). The account serves its `$web` container as a
static website only because this load balancer fronts it (`azure/bucket.py`).

The route is not linked to the endpoint's default `*.azurefd.net` name: the site answers on
`domain` only, under its own certificate (the endpoint's host name is still the CNAME
target). The custom domain association exists so that `terraform destroy` can detach the
domain from the route before deleting it (the route's `cdn_frontdoor_custom_domain_ids`
makes the association; the azurerm 4.x docs pair the two).

The user proves the domain with a TXT record `_dnsauth.<domain>` holding the custom domain's
validation token, then points a CNAME at the endpoint: both are outputs.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import RenderContext, Rendered, require
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers.azure._common import RESOURCE_GROUP
from cloud_engine.iac.providers.azure.bucket import STATIC_WEBSITE
from cloud_engine.iac.providers.azure.bucket import TYPE as ACCOUNT

PROFILE = "azurerm_cdn_frontdoor_profile"
SKU = "Standard_AzureFrontDoor"
ENDPOINT_NAME_MAX = 46  # Front Door endpoint names: 2-46 letters, digits, hyphens
# azurerm refuses a longer custom domain host name with a ManagedCertificate (a certificate's common name is ≤ 64).
MANAGED_CERTIFICATE_NAME_MAX = 64
HSTS_SECONDS = 31536000  # a year, as on AWS (aws/load_balancer.py)
SECURITY_HEADERS = (
    ("Strict-Transport-Security", f"max-age={HSTS_SECONDS}; includeSubDomains; preload"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)
# Text worth compressing on a static site (a subset of the types Front Door accepts).
COMPRESSED_TYPES = ["text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
                    "application/json", "image/svg+xml"]


def _edge(spec: ResourceSpec, ctx: RenderContext, name: str, profile: Raw) -> list[Block]:
    """Profile, endpoint, custom domain with its managed certificate, and the security-header rules."""
    return [
        Block("resource", (PROFILE, name), {
            "name": spec.name, "resource_group_name": RESOURCE_GROUP, "sku_name": SKU, "tags": ctx.labels(spec),
        }),
        Block("resource", ("azurerm_cdn_frontdoor_endpoint", name), {
            "name": suffixed(spec.name, "edge", ENDPOINT_NAME_MAX), "cdn_frontdoor_profile_id": profile,
            "tags": ctx.labels(spec),
        }),
        Block("resource", ("azurerm_cdn_frontdoor_custom_domain", name), {
            "name": suffixed(spec.name, "domain", 260), "cdn_frontdoor_profile_id": profile, "host_name": spec.domain,
        }, [Block("tls", (), {"certificate_type": "ManagedCertificate", "minimum_tls_version": "TLS12"})]),
        # Rule set and rule names allow letters and digits only; they are scoped to this profile.
        Block("resource", ("azurerm_cdn_frontdoor_rule_set", name), {
            "name": "SecurityHeaders", "cdn_frontdoor_profile_id": profile,
        }),
        # No conditions: the rule applies to every response.
        Block("resource", ("azurerm_cdn_frontdoor_rule", name), {
            "name": "SecurityHeaders", "cdn_frontdoor_rule_set_id": ref("azurerm_cdn_frontdoor_rule_set", name),
            "order": 1, "behavior_on_match": "Continue",
        }, [Block("actions", (), {}, [
            Block("response_header_action", (), {"header_action": "Overwrite", "header_name": header, "value": value})
            for header, value in SECURITY_HEADERS
        ])]),
    ]


def _origin(spec: ResourceSpec, backend: ResourceSpec, name: str, profile: Raw) -> list[Block]:
    """The origin group (HTTPS probe of `/`) and the account's static website as its only origin."""
    account = tf_name(backend.name)
    web_host = ref(ACCOUNT, account, "primary_web_host")
    return [
        Block("resource", ("azurerm_cdn_frontdoor_origin_group", name), {
            "name": suffixed(spec.name, "origins", 90), "cdn_frontdoor_profile_id": profile,
            "session_affinity_enabled": False,  # a static site keeps no session; affinity would only split the cache
        }, [
            Block("health_probe", (), {"protocol": "Https", "request_type": "HEAD", "path": "/",
                                       "interval_in_seconds": 120}),
            Block("load_balancing", (), {"sample_size": 4, "successful_samples_required": 3,
                                         "additional_latency_in_milliseconds": 50}),
        ]),
        Block("resource", ("azurerm_cdn_frontdoor_origin", name), {
            "name": suffixed(backend.name, "web", 90),
            "cdn_frontdoor_origin_group_id": ref("azurerm_cdn_frontdoor_origin_group", name),
            "enabled": True, "host_name": web_host, "origin_host_header": web_host,
            "certificate_name_check_enabled": True, "https_port": 443, "http_port": 80, "priority": 1, "weight": 1000,
            # the web host answers only once the static website is switched on
            "depends_on": [Raw(f"{STATIC_WEBSITE}.{account}")],
        }),
    ]


def _route(spec: ResourceSpec, name: str) -> list[Block]:
    """HTTPS-only to the origin, HTTP → HTTPS for viewers, `/*` on the custom domain (caching when `cdn`)."""
    domain = ref("azurerm_cdn_frontdoor_custom_domain", name)
    route = Block("resource", ("azurerm_cdn_frontdoor_route", name), {
        "name": suffixed(spec.name, "site", 90),
        "cdn_frontdoor_endpoint_id": ref("azurerm_cdn_frontdoor_endpoint", name),
        "cdn_frontdoor_origin_group_id": ref("azurerm_cdn_frontdoor_origin_group", name),
        "cdn_frontdoor_origin_ids": [ref("azurerm_cdn_frontdoor_origin", name)],
        "cdn_frontdoor_rule_set_ids": [ref("azurerm_cdn_frontdoor_rule_set", name)],
        "cdn_frontdoor_custom_domain_ids": [domain],
        "enabled": True, "forwarding_protocol": "HttpsOnly", "https_redirect_enabled": True,
        "supported_protocols": ["Http", "Https"],  # Http only to answer it with the redirect
        "patterns_to_match": ["/*"], "link_to_default_domain": False,
    })
    if spec.cdn:
        route.add(Block("cache", (), {"query_string_caching_behavior": "IgnoreQueryString", "compression_enabled": True,
                                      "content_types_to_compress": COMPRESSED_TYPES}))
    association = Block("resource", ("azurerm_cdn_frontdoor_custom_domain_association", name), {
        "cdn_frontdoor_custom_domain_id": domain,
        "cdn_frontdoor_route_ids": [ref("azurerm_cdn_frontdoor_route", name)],
    })
    return [route, association]


def render_front_door(spec: ResourceSpec, backend: ResourceSpec, ctx: RenderContext) -> Rendered:
    """Front Door Standard for `domain`, serving the static website of storage account `backend`."""
    require(len(spec.domain or "") <= MANAGED_CERTIFICATE_NAME_MAX, f"{spec.name}.domain",
            f"Front Door issues managed certificates only for names of at most {MANAGED_CERTIFICATE_NAME_MAX} "
            "characters; choose a shorter domain")
    name = tf_name(spec.name)
    profile = ref(PROFILE, name)
    blocks = _edge(spec, ctx, name, profile) + _origin(spec, backend, name, profile) + _route(spec, name)
    outputs = [
        output(spec, ref("azurerm_cdn_frontdoor_endpoint", name, "host_name"),
               f"Point a CNAME for {spec.domain} here once the _dnsauth TXT record (the __dnsauth output) is in place"),
        Block("output", (tf_name(spec.kind, spec.name, "dnsauth"),), {
            "description": f"Create a TXT record _dnsauth.{spec.domain} with this value: Front Door then validates "
                           "the domain and issues its managed certificate",
            "value": ref("azurerm_cdn_frontdoor_custom_domain", name, "validation_token"),
        }),
    ]
    return Rendered(resources=blocks, outputs=outputs)
