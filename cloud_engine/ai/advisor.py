"""CloudAIAdvisor: retrieve knowledge, ask a model (or the rules engine), then enforce.

The flow of `advise` (deterministic first, model second):
1. retrieve the top knowledge entries for the use case (provider, compliance, cost filters);
2. ask the chosen model for `RawAdvice` JSON with the data delimited as data (cached by a
   hash of the inputs; one re-ask with the validation errors; then the rules engine); a
   missing key, a timeout or an HTTP failure also fall back to the rules engine, with a note;
3. enforce the guardrails in code (security level, compliance, budget ceiling, complexity,
   the guild's quotas and policies), correcting or rejecting resources;
4. price every resource with `CostEstimator` (model figures are never shown: currency
   amounts in model prose are replaced), and keep only citations whose entry covers the
   claim's subject; rules answers are re-explained from the final specs (`answer.py`).
Model output never triggers an action: `deploy_answer` is called by a user's explicit
"Deploy this", and it goes through the orchestrator's normal checks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from cloud_engine.ai import guardrails as gr
from cloud_engine.ai.answer import Finish
from cloud_engine.ai.answer import build as build_answer
from cloud_engine.ai.cache import AdviceCache, cache_key
from cloud_engine.ai.knowledge import KnowledgeIndex, SearchHit
from cloud_engine.ai.prompts import PROMPT_VERSION, build_advice_prompt
from cloud_engine.ai.providers.base import RULES_ID, RULES_LABEL, ModelProvider, choice_id
from cloud_engine.ai.providers.registry import (
    ModelChoice,
    available_models,
    build_provider,
    build_provider_async,
    resolve,
)
from cloud_engine.ai.providers.retry import RetryPolicy
from cloud_engine.ai.providers.rules import RulesAdvisor
from cloud_engine.ai.providers.structured import ask_validated
from cloud_engine.ai.schemas import (
    RAW_ADVICE_SCHEMA,
    AdviceAnswer,
    AdviceRequest,
    FinOpsReview,
    PlanReview,
    RawAdvice,
    ReplyInvalid,
    parse_raw_advice,
)
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import ResourceSpec, Session
from cloud_engine.core.policies import Policy
from cloud_engine.core.records import QuotaUsage
from cloud_engine.data.catalog import CLOUDS
from cloud_engine.errors import AdvisorError, InvalidInput
from cloud_engine.iac.plan import PlanResult
from cloud_engine.settings import Settings
from cloud_engine.store import Database

if TYPE_CHECKING:
    from cloud_engine.core.orchestrator import CloudOrchestrator

log = logging.getLogger(__name__)

RETRIEVAL_K = 8


class GuildLimits(Protocol):
    """The part of `CloudOrchestrator` the guardrails read."""

    async def quota_usage(self, guild_id: int) -> list[QuotaUsage]:
        """Per quota its name, limit_value, used and reserved."""

    async def list_policies(self, guild_id: int) -> list[Policy]:
        """The guild's policies, enabled or not."""


class CloudAIAdvisor:
    """Answers architecture questions, compares models, reviews plans, and deploys on request."""

    def __init__(self, settings: Settings, db: Database, index: KnowledgeIndex, *, estimator: CostEstimator | None = None,
                 engine: GuildLimits | None = None, providers: Mapping[str, ModelProvider] | None = None,
                 retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.db = db
        self.index = index
        self.estimator = estimator or CostEstimator()
        self.catalog = self.estimator.catalog
        self.engine = engine
        self.cache = AdviceCache(db, settings.ai_cache_ttl_hours)
        self.rules = RulesAdvisor(self.catalog)
        self.retry = retry
        self._providers: dict[str, ModelProvider] = dict(providers or {})
        self._built: list[ModelProvider] = []
        self._building = asyncio.Lock()

    # ------------------------------------------------------------------ models
    def models(self) -> list[ModelChoice]:
        """Every model the user may pick, with availability notes, plus "rules"."""
        return available_models(self.settings)

    def provider_for(self, requested: str) -> tuple[ModelProvider | None, list[str]]:
        """The provider for a model id (None = rules engine) and any note about a swap."""
        if requested in self._providers:
            return self._providers[requested], []
        choice, note = resolve(self.settings, requested)
        if choice.id == RULES_ID:
            return None, [note] if note else []
        if choice.id not in self._providers:
            provider = build_provider(self.settings, choice, retry=self.retry)
            self._providers[choice.id] = provider
            self._built.append(provider)
        return self._providers[choice.id], []

    async def aprovider_for(self, requested: str) -> tuple[ModelProvider | None, list[str]]:
        """`provider_for` for code on the event loop: a provider is built once, in a worker thread.

        Why: building imports the SDK on first use (0.5-0.9 s) and creates HTTP clients (~70 ms
        each time); on the loop that would stall every other command, and building per call
        (as each FinOps "Explain" click would) pays the client cost again and again.
        """
        if requested in self._providers:
            return self._providers[requested], []
        choice, note = resolve(self.settings, requested)
        if choice.id == RULES_ID:
            return None, [note] if note else []
        async with self._building:  # two clicks at once still build one client
            if choice.id not in self._providers:
                provider = await build_provider_async(self.settings, choice, retry=self.retry)
                self._providers[choice.id] = provider
                self._built.append(provider)
        return self._providers[choice.id], []

    async def aclose(self) -> None:
        """Close the HTTP clients of providers this advisor built."""
        for provider in self._built:
            await provider.aclose()
        self._built.clear()

    # ------------------------------------------------------------------ advice
    async def advise(self, request: AdviceRequest, *, guild_id: int | None = None) -> AdviceAnswer:
        """Answer one advice request; always returns an answer (the rules engine as last resort)."""
        clouds = self._clouds(request)
        hits = await self.retrieve(request, clouds)
        policies, free = await self._guild_limits(guild_id)
        provider, notes = await self.aprovider_for(request.model)
        if provider is not None:
            label = choice_id(provider.name, provider.model)
            try:
                validated = await self._ask_model(provider, request, hits, clouds, policies)
            except AdvisorError as exc:
                notes.append(f"{label} could not answer ({getattr(exc, 'reason', 'error')}: {exc.detail}); "
                             "the rules engine answered instead.")
            else:
                if validated.reasked:
                    notes.append(f"{label}'s first reply failed validation; it was asked once more.")
                return await self._finish(validated.value, request, hits, policies, free, notes,
                                          provider=provider.name, model=validated.model, cached=validated.cached)
        return await self._rules_answer(request, hits, clouds, policies, free, notes)

    async def compare(self, request: AdviceRequest, *, guild_id: int | None = None) -> list[AdviceAnswer]:
        """The same question answered by the first Groq and the first Gemini model, side by side.

        Each side falls back to the rules engine on its own (no key, timeout, invalid JSON),
        and its answer says so.
        """
        ids: list[str] = []
        for provider in ("groq", "gemini"):
            first = next((c for c in self.models() if c.provider == provider), None)
            if first is not None:
                ids.append(first.id)
        if not ids:
            ids = [RULES_ID]
        return list(await asyncio.gather(*(
            self.advise(request.model_copy(update={"model": model_id}), guild_id=guild_id) for model_id in ids)))

    def _clouds(self, request: AdviceRequest) -> list[str]:
        clouds: list[str] = list(CLOUDS) if request.provider == "any" else [request.provider]
        if request.region:
            having = [c for c in clouds if request.region in self.catalog.regions(c)]
            if not having:
                valid = {c: self.catalog.regions(c) for c in clouds}
                raise InvalidInput(field="region", rule=f"{request.region!r} is not in the catalogue for "
                                                        f"{', '.join(clouds)}; valid: {valid}")
            clouds = having
        return clouds

    def _region(self, request: AdviceRequest, cloud: str) -> str:
        if request.region and request.region in self.catalog.regions(cloud):
            return request.region
        return gr.default_region(cloud, request.compliance)

    async def retrieve(self, request: AdviceRequest, clouds: Sequence[str]) -> list[SearchHit]:
        """Top knowledge for the request: the use case, plus compliance, security and cost angles."""
        provider = clouds[0] if len(clouds) == 1 else None
        queries: list[tuple[str, str | None]] = [(request.use_case, None)]
        if request.compliance != "none":
            queries.append((f"{request.compliance} {request.use_case}", "compliance"))
        if request.security != "standard":
            queries.append((f"encryption private network backups {request.use_case}", "security"))
        queries.append((f"cost budget {request.use_case}", "cost"))
        results = await asyncio.gather(*(self.index.search(q, provider=provider, category=cat, k=4)
                                         for q, cat in queries))
        merged: dict[str, SearchHit] = {}
        for rank in range(max((len(r) for r in results), default=0)):  # round-robin: best of each angle first
            for hits in results:
                if rank < len(hits) and hits[rank].entry.id not in merged:
                    merged[hits[rank].entry.id] = hits[rank]
        return list(merged.values())[:RETRIEVAL_K]

    async def _guild_limits(self, guild_id: int | None) -> tuple[list[Policy], dict[str, int] | None]:
        if guild_id is None or self.engine is None:
            return [], None
        policies, usage = await asyncio.gather(self.engine.list_policies(guild_id), self.engine.quota_usage(guild_id))
        return list(policies), gr.quota_free(usage)

    async def _ask_model(self, provider: ModelProvider, request: AdviceRequest, hits: Sequence[SearchHit],
                         clouds: Sequence[str], policies: Sequence[Policy]) -> Any:
        region = request.region if len(clouds) == 1 else None
        controls = gr.required_controls(request.security, request.compliance)
        ceiling = gr.ceiling_for(request.budget, policies)
        system, user = build_advice_prompt(request, hits, catalog=self.catalog, providers=clouds,
                                           region=region or (gr.default_region(clouds[0], request.compliance)
                                                             if len(clouds) == 1 else None),
                                           controls=controls, ceiling=ceiling, schema=RAW_ADVICE_SCHEMA)
        key = cache_key(kind="advice", provider=provider.name, model=provider.model, prompt_version=PROMPT_VERSION,
                        inputs={"request": request.cache_inputs(), "clouds": list(clouds), "ceiling": ceiling,
                                "knowledge": [(h.entry.id, h.entry.sha256) for h in hits]})
        return await ask_validated(provider, system, user, schema=RAW_ADVICE_SCHEMA,
                                   parse=lambda text: self._parse(text, clouds), cache=self.cache, key=key)

    def _parse(self, text: str, clouds: Sequence[str]) -> RawAdvice:
        """Schema validation plus the catalogue checks a model can fix on a re-ask."""
        raw = parse_raw_advice(text)
        errors: list[str] = []
        if raw.cloud_provider not in clouds:
            errors.append(f"cloud_provider: must be one of {', '.join(clouds)}")
        else:
            cat = self.catalog.for_provider(raw.cloud_provider)
            if raw.region not in cat.regions:
                errors.append(f"region: {raw.region!r} is not a {raw.cloud_provider} region; valid: "
                              f"{', '.join(cat.regions)}")
            for i, res in enumerate(raw.resources):
                spec = res.spec
                if spec.kind in ("vm", "k8s_cluster") and spec.machine_type and spec.machine_type not in cat.machine_types:
                    errors.append(f"resources.{i}.spec.machine_type: {spec.machine_type!r} is not a "
                                  f"{raw.cloud_provider} machine type; valid: {', '.join(cat.machine_types)}")
                if spec.kind == "vm" and not spec.machine_type:
                    errors.append(f"resources.{i}.spec.machine_type: required for a vm")
                if spec.kind == "database" and spec.tier and spec.tier not in cat.database_tiers:
                    errors.append(f"resources.{i}.spec.tier: {spec.tier!r} is not a {raw.cloud_provider} tier; "
                                  f"valid: {', '.join(cat.database_tiers)}")
                if spec.region and spec.region not in cat.regions:
                    errors.append(f"resources.{i}.spec.region: {spec.region!r} is not a {raw.cloud_provider} region")
        if errors:
            raise ReplyInvalid(errors)
        return raw

    async def _rules_answer(self, request: AdviceRequest, hits: Sequence[SearchHit], clouds: Sequence[str],
                            policies: Sequence[Policy], free: dict[str, int] | None, notes: list[str]) -> AdviceAnswer:
        answers = []
        for cloud in clouds:
            draft = self.rules.draft(request, hits, provider=cloud, region=self._region(request, cloud))
            answers.append(await self._finish(draft, request, hits, policies, free, list(notes),
                                              provider=RULES_ID, model=RULES_LABEL, cached=False))
        if len(answers) == 1:
            return answers[0]
        within = [a for a in answers if a.total_monthly_cost <= a.budget_ceiling] or answers
        best = min(within, key=lambda a: (a.total_monthly_cost, CLOUDS.index(a.resources[0].provider)
                                          if a.resources else 0))
        others = ", ".join(f"{a.resources[0].provider} ${a.total_monthly_cost:,.2f}" for a in answers
                           if a is not best and a.resources)
        best.notes.append(f"No provider was chosen, so the rules engine priced the design on each and picked the "
                          f"cheapest ({others} for the others).")
        return best

    async def _finish(self, draft: RawAdvice, request: AdviceRequest, hits: Sequence[SearchHit],
                      policies: Sequence[Policy], free: dict[str, int] | None, notes: list[str], *, provider: str,
                      model: str, cached: bool) -> AdviceAnswer:
        """Guardrails, pricing and per-claim citations shared by model and rules drafts (see `answer.py`)."""
        return await build_answer(draft, Finish(request=request, index=self.index, estimator=self.estimator,
                                                policies=policies, free=free, notes=notes, provider=provider,
                                                model=model, cached=cached))

    # ------------------------------------------------------------------ plan review
    async def review_plan(self, plan: PlanResult, specs: list[ResourceSpec], *, provider: str,
                          budget_monthly: float | None = None, hcl: dict[str, str] | None = None,
                          model: str = "auto", scan: Mapping[str, Any] | None = None) -> PlanReview:
        """Deterministic plan findings (and the plan's security scan), explained and ranked by a model or the rules."""
        from cloud_engine.ai.plan_review import PlanReviewer

        model_provider, notes = await self.aprovider_for(model)
        reviewer = PlanReviewer(self.index, self.estimator, cache=self.cache)
        return await reviewer.review(plan, specs, provider=provider, budget_monthly=budget_monthly, hcl=hcl,
                                     model_provider=model_provider, notes=notes, scan=scan)

    # ------------------------------------------------------------------ FinOps review
    async def review_finops(self, recs: Iterable[Any], summary: Any, *, model: str = "auto") -> FinOpsReview:
        """The FinOps review (see `finops_review.review_recommendations`) with this advisor's cached providers."""
        from cloud_engine.ai.finops_review import review_recommendations

        return await review_recommendations(recs, summary, self.settings, db=self.db, index=self.index,
                                            provider=model, source=self, retry=self.retry)

    # ------------------------------------------------------------------ deploy this
    async def deploy_answer(self, answer: AdviceAnswer, engine: CloudOrchestrator, project_id: int,
                            user_id: int) -> Session:
        """Turn an answer into a DRAFT deployment session ("Deploy this"), through every engine check.

        Only a user's explicit action calls this. The project's provider must match the answer's;
        if any resource is refused (permissions, catalogue, quotas) the session is cancelled and
        the error is raised, so no half-built session is left behind.
        """
        project = await engine.get_project(project_id)
        clouds = {r.provider for r in answer.resources}
        if not answer.resources:
            raise InvalidInput(field="answer", rule="it recommends no resources to deploy")
        if clouds != {project.catalog_provider}:
            raise InvalidInput(field="project", rule=f"{project.name} uses {project.provider}; the answer is for "
                                                     f"{', '.join(sorted(clouds))}")
        session = await engine.start_session(project_id, user_id, purpose=f"advisor: {answer.summary[:80]}")
        try:
            for resource in answer.resources:
                await engine.add_resource(session.id, user_id, resource.spec)
        except BaseException:
            try:
                await engine.cancel(session.id, user_id, reason="advisor design could not be added")
            except Exception:
                log.exception("cancelling the advisor session failed", extra={"session_id": session.id})
            raise
        return await engine.get_session(session.id)
