"""Every resource carries env, managed-by and (under a framework) compliance tags; no check is shown."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.steps.registry import step

MAX_TAGS = 20


@step("tags")
def tags(e: Enforcer) -> None:
    wanted = {"env": e.ctx.env, "managed-by": "cloud-engine"}
    if e.ctx.compliance != "none":
        wanted["compliance"] = e.ctx.compliance.lower()
    for spec in list(e.specs):
        missing = {k: v for k, v in wanted.items() if k not in spec.tags}
        if missing and len(spec.tags) + len(missing) <= MAX_TAGS:
            e.replace(spec, revalidate(spec, tags={**spec.tags, **missing}))
