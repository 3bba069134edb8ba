"""No bucket is public: public content is served through a CDN with origin access instead."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.steps.registry import step


@step("no-public-buckets")
def public_buckets(e: Enforcer) -> None:
    fixed = []
    for spec in e.of_kind("bucket"):
        if spec.public_access:
            fixed.append(f"{spec.name}: public access removed (serve public content through a CDN with origin "
                         "access instead)")
            e.replace(spec, revalidate(spec, public_access=False))
    e.check("no-public-buckets", fixed, "no bucket allows public access")
