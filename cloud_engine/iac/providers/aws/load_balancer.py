"""load_balancer → an internet-facing ALB (HTTPS with an ACM certificate) in front of a VM, or
CloudFront in front of a bucket.

VM backend: the ALB lives in two public /27 subnets the VPC's plumbing carves for it (two zones,
routed through the internet gateway), drops invalid headers, listens on 443 with an ACM
certificate validated by DNS (TLS 1.2+) and redirects 80 to 443. Its security group admits
443 and 80 from anywhere and sends only to the targets' group on the VM's port; the targets'
group is attached to the VM and admits only the ALB. Bucket backend: CloudFront with origin
access control (the bucket stays private; a bucket policy admits only this distribution) and
an ACM certificate, which CloudFront requires in us-east-1, and a response headers policy of its
own (HSTS for a year, nosniff, frame DENY, strict-origin referrer). Cluster backend: the ALB is made
by the AWS Load Balancer Controller from an Ingress (aws/cluster_ingress.py).
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import backend_of, vm_network
from cloud_engine.iac.providers.aws._common import alias, aws_tags, provider_for

TYPE = "aws_lb"
FORCE_NEW = frozenset({"name", "region", "backend"})
WORLD = "0.0.0.0/0"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
CLOUDFRONT_REGION = "us-east-1"
# AWS's managed CachingOptimized cache policy (a fixed id).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
HSTS_SECONDS = 31536000  # a year, as browsers' preload lists ask
LB_NAME_MAX = 32  # ALB and target group names


def edge_subnet_names(net: ResourceSpec) -> tuple[str, str]:
    """Terraform names of the network's two ALB subnets (`_` never meets a user name)."""
    return tf_name(net.name, "lb_edge_a"), tf_name(net.name, "lb_edge_b")


def target_group(spec: ResourceSpec) -> Raw:
    """The security group a fronted VM wears so that only its load balancer reaches it."""
    return ref("aws_security_group", tf_name(spec.name, "targets"))


def _certificate(spec: ResourceSpec, ctx: RenderContext, provider: Raw | None) -> list[Block]:
    name = tf_name(spec.name)
    return [
        Block("resource", ("aws_acm_certificate", name), {
            "provider": provider, "domain_name": spec.domain, "validation_method": "DNS",
            "tags": aws_tags(spec, ctx),
        }, [Block("lifecycle", (), {"create_before_destroy": True})]),
        # Waits until the CNAME in the certificate's domain_validation_options exists in the domain's DNS.
        Block("resource", ("aws_acm_certificate_validation", name), {
            "provider": provider, "certificate_arn": ref("aws_acm_certificate", name, "arn"),
        }),
    ]


def _rule(spec: ResourceSpec, ctx: RenderContext, key: str, group: Raw, direction: str, port: int,
          **peer: Raw | str) -> Block:
    return Block("resource", (f"aws_vpc_security_group_{direction}_rule", tf_name(spec.name, key)), {
        "provider": provider_for(spec, ctx), "security_group_id": group, "description": f"{spec.name} {key}",
        "ip_protocol": "tcp", "from_port": port, "to_port": port, **peer, "tags": aws_tags(spec, ctx),
    })


def _alb(spec: ResourceSpec, backend: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    provider = provider_for(spec, ctx)
    net = vm_network(spec, backend, ctx)
    vpc = ref("aws_vpc", tf_name(net.name))
    port = spec.port or 80
    lb_sg, targets = ref("aws_security_group", name), target_group(spec)
    blocks = [
        Block("resource", ("aws_security_group", name), {
            "provider": provider, "name": suffixed(spec.name, "lb", 255),
            "description": f"{spec.name}: HTTPS and HTTP from anywhere, to its targets only",
            "vpc_id": vpc, "tags": aws_tags(spec, ctx),
        }),
        Block("resource", ("aws_security_group", tf_name(spec.name, "targets")), {
            "provider": provider, "name": suffixed(spec.name, "targets", 255),
            "description": f"{spec.name}: targets admit only their load balancer",
            "vpc_id": vpc, "tags": aws_tags(spec, ctx),
        }),
        _rule(spec, ctx, "https", lb_sg, "ingress", 443, cidr_ipv4=WORLD),
        _rule(spec, ctx, "http", lb_sg, "ingress", 80, cidr_ipv4=WORLD),
        _rule(spec, ctx, "to_targets", lb_sg, "egress", port, referenced_security_group_id=targets),
        _rule(spec, ctx, "from_lb", targets, "ingress", port, referenced_security_group_id=lb_sg),
        *_certificate(spec, ctx, provider),
        Block("resource", (TYPE, name), {
            "provider": provider, "name": suffixed(spec.name, "lb", LB_NAME_MAX),
            "internal": False, "load_balancer_type": "application",
            "security_groups": [lb_sg],
            "subnets": [ref("aws_subnet", edge) for edge in edge_subnet_names(net)],
            "drop_invalid_header_fields": True, "enable_deletion_protection": False,
            "tags": aws_tags(spec, ctx),
        }),
        Block("resource", ("aws_lb_target_group", name), {
            "provider": provider, "name": suffixed(spec.name, "tg", LB_NAME_MAX),
            "port": port, "protocol": "HTTP", "target_type": "instance", "vpc_id": vpc,
            "tags": aws_tags(spec, ctx),
        }, [Block("health_check", (), {"enabled": True, "path": "/", "matcher": "200-399"})]),
        Block("resource", ("aws_lb_target_group_attachment", name), {
            "provider": provider, "target_group_arn": ref("aws_lb_target_group", name, "arn"),
            "target_id": ref("aws_instance", tf_name(backend.name)), "port": port,
        }),
        Block("resource", ("aws_lb_listener", tf_name(spec.name, "https")), {
            "provider": provider, "load_balancer_arn": ref(TYPE, name, "arn"), "port": 443, "protocol": "HTTPS",
            "ssl_policy": TLS_POLICY,
            "certificate_arn": ref("aws_acm_certificate_validation", name, "certificate_arn"),
            "tags": aws_tags(spec, ctx),
        }, [Block("default_action", (), {"type": "forward",
                                          "target_group_arn": ref("aws_lb_target_group", name, "arn")})]),
        Block("resource", ("aws_lb_listener", tf_name(spec.name, "http")), {
            "provider": provider, "load_balancer_arn": ref(TYPE, name, "arn"), "port": 80, "protocol": "HTTP",
            "tags": aws_tags(spec, ctx),
        }, [Block("default_action", (), {"type": "redirect"}, [
            Block("redirect", (), {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}),
        ])]),
    ]
    return Rendered(resources=blocks, outputs=[output(spec, ref(TYPE, name, "dns_name"), "Point the domain here")])


def _cloudfront(spec: ResourceSpec, backend: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    bucket = tf_name(backend.name)
    bucket_provider = provider_for(backend, ctx)
    cert_provider = None if ctx.region == CLOUDFRONT_REGION else Raw(f"aws.{alias(CLOUDFRONT_REGION)}")
    distribution = ref("aws_cloudfront_distribution", name, "arn")
    blocks = [
        *_certificate(spec, ctx, cert_provider),
        Block("resource", ("aws_cloudfront_origin_access_control", name), {
            "name": suffixed(spec.name, "oac", 64), "description": f"{spec.name} reads bucket {backend.name}",
            "origin_access_control_origin_type": "s3", "signing_behavior": "always", "signing_protocol": "sigv4",
        }),
        Block("resource", ("aws_cloudfront_response_headers_policy", name), {
            "name": suffixed(spec.name, "headers", 128), "comment": f"security headers of {spec.name}",
        }, [Block("security_headers_config", (), {}, [
            Block("strict_transport_security", (), {"access_control_max_age_sec": HSTS_SECONDS,
                                                    "include_subdomains": True, "preload": True, "override": True}),
            Block("content_type_options", (), {"override": True}),
            Block("frame_options", (), {"frame_option": "DENY", "override": True}),
            Block("referrer_policy", (), {"referrer_policy": "strict-origin-when-cross-origin", "override": True}),
        ])]),
        Block("resource", ("aws_cloudfront_distribution", name), {
            "enabled": True, "is_ipv6_enabled": True, "comment": f"{spec.name} (Cloud Engine)",
            "aliases": [spec.domain], "default_root_object": "index.html", "price_class": "PriceClass_100",
            "tags": aws_tags(spec, ctx),
        }, [
            Block("origin", (), {
                "domain_name": ref("aws_s3_bucket", bucket, "bucket_regional_domain_name"), "origin_id": backend.name,
                "origin_access_control_id": ref("aws_cloudfront_origin_access_control", name),
            }),
            Block("default_cache_behavior", (), {
                "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
                "target_origin_id": backend.name, "viewer_protocol_policy": "redirect-to-https",
                "compress": True, "cache_policy_id": CACHING_OPTIMIZED,
                "response_headers_policy_id": ref("aws_cloudfront_response_headers_policy", name),
            }),
            Block("restrictions", (), {}, [Block("geo_restriction", (), {"restriction_type": "none"})]),
            Block("viewer_certificate", (), {
                "acm_certificate_arn": ref("aws_acm_certificate_validation", name, "certificate_arn"),
                "ssl_support_method": "sni-only", "minimum_protocol_version": "TLSv1.2_2021",
            }),
        ]),
        Block("data", ("aws_iam_policy_document", name), {}, [
            Block("statement", (), {
                "actions": ["s3:GetObject"], "resources": [Raw(f'"${{aws_s3_bucket.{bucket}.arn}}/*"')],
            }, [
                Block("principals", (), {"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}),
                Block("condition", (), {"test": "StringEquals", "variable": "AWS:SourceArn", "values": [distribution]}),
            ]),
        ]),
        Block("resource", ("aws_s3_bucket_policy", name), {
            "provider": bucket_provider, "bucket": ref("aws_s3_bucket", bucket),
            "policy": Raw(f"data.aws_iam_policy_document.{name}.json"),
        }),
    ]
    return Rendered(resources=blocks, outputs=[output(spec, ref("aws_cloudfront_distribution", name, "domain_name"),
                                                      "Point the domain here")])


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    backend = backend_of(spec, ctx)
    if backend.kind == "k8s_cluster":
        # imported here: cluster_ingress builds on this module's certificate and TLS policy
        from cloud_engine.iac.providers.aws.cluster_ingress import render_cluster

        return render_cluster(spec, backend, ctx)
    return _cloudfront(spec, backend, ctx) if backend.kind == "bucket" else _alb(spec, backend, ctx)


def needs_cloudfront_region(ctx: RenderContext) -> bool:
    """A CloudFront certificate must be in us-east-1: providers.tf then needs that alias."""
    return ctx.region != CLOUDFRONT_REGION and any(
        spec.kind == "load_balancer" and any(b.kind == "bucket" and b.name == spec.backend for b in ctx.resources)
        for spec in ctx.resources)


KIND = KindRenderer(kind="load_balancer", resource_type=TYPE, render=render, force_new=FORCE_NEW)
