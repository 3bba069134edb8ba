"""The rules engine: a deterministic, offline advisor that needs no model.

Why it returns the same `RawAdvice` a model returns: its drafts then pass through the very
same guardrails, pricing and citation checks, so "rules engine" answers are held to the
same bar and the fallback path is exercised on every run without a key.

How it designs: the request is read into a requirement model (`ai/design/requirements.py`:
app tier, databases by engine, cache, storage, static hosting, batch, queue, internal only),
each part becomes catalogue resources (`ai/design/designer.py`), and parts the catalogue does
not offer are named as risks, never dropped. Its rationale and risks are written again from
the final specs after the guardrails, and its citations are chosen per claim afterwards
(`ai/design/citations.py`), so the draft here carries none.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloud_engine.ai.design import designer
from cloud_engine.ai.design.requirements import Requirements, extract
from cloud_engine.ai.guardrails import BUDGET_CEILINGS
from cloud_engine.ai.knowledge import SearchHit
from cloud_engine.ai.schemas import AdviceRequest, RawAdvice, RawReasoning, RawResource, RawSourced
from cloud_engine.data.catalog import Catalog


def is_dev(use_case: str) -> bool:
    """True when the request is for a dev/test environment (tags and sizes follow)."""
    return extract(use_case).dev


def requirements_text(req: Requirements, request: AdviceRequest) -> str:
    """The requirements reasoning step: what was recognised, not offered and not recognised."""
    parts = ", ".join(req.parts()) or "nothing specific"
    text = f"Recognised: {parts}."
    if req.unsupported:
        text += " Not offered by Cloud Engine: " + ", ".join(u.part for u in req.unsupported) + "."
    if req.unrecognised:
        text += " Not recognised: the request names no workload part the engine knows."
    text += (f" Budget {request.budget} (ceiling ${BUDGET_CEILINGS[request.budget]:,.0f}/month), security "
             f"{request.security}, compliance {request.compliance}.")
    return text[:500]


class RulesAdvisor:
    """Builds a complete `RawAdvice` for a request from its requirement model and the catalogue."""

    name = "rules"
    model = "rules engine"

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def draft(self, request: AdviceRequest, hits: Sequence[SearchHit], *, provider: str, region: str) -> RawAdvice:
        """A design for one provider and region; guardrails, pricing and citations run afterwards."""
        req = extract(request.use_case)
        cat = self.catalog.for_provider(provider)
        d = designer.design(req, cat, provider=provider, region=region, budget=request.budget)
        resources = [RawResource(spec=spec, rationale=designer.explain(spec, req, cat)[:500]) for spec in d.specs]
        risks = [RawSourced(text=r.text[:400]) for r in designer.risks(d.specs, req, request.compliance)]
        kinds: dict[str, int] = {}
        for spec in d.specs:
            kinds[spec.kind] = kinds.get(spec.kind, 0) + 1
        listing = ", ".join(f"{n} {k.replace('_', ' ')}{'s' if n > 1 else ''}" for k, n in kinds.items())
        what = ("dev/test " if req.dev else "") + (" + ".join(req.parts()[:4]) or "general workload")
        article = "An" if what[:1].lower() in "aeiou" else "A"
        return RawAdvice(
            summary=f"{article} {what} design on {provider.upper()} in {region} for a {request.budget} budget: "
                    f"{listing}."[:800],
            cloud_provider=provider,
            region=region,
            reasoning=RawReasoning(
                requirements=requirements_text(req, request),
                architecture=(f"{len(d.specs)} resources on {provider.upper()} in {region}, one per recognised part, "
                              "sized from the catalogue" + (", inside one private network." if d.specs and
                                                            d.specs[0].kind == "network" else ".")),
                cost="Sizes are the cheapest catalogue types with enough memory for the budget level.",
                security="Encryption at rest everywhere, private buckets and databases, and only HTTPS open to the "
                         "internet; the guardrails add what the security level and framework require.",
            ),
            resources=resources,
            risks=risks,
            citations=[],
        )
