"""The engine's services wired together once, for the bot, the CLI and the demo.

Why one container: the bot's setup_hook and every CLI command need the same database,
orchestrator, knowledge index, advisor and FinOps service, opened in the same order and
closed together. Optional parts (advisor, FinOps) are created on first use so a command
that does not need them never pays for them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cloud_engine.core import CloudOrchestrator
from cloud_engine.errors import IllegalTransition
from cloud_engine.settings import Settings
from cloud_engine.store import Database

if TYPE_CHECKING:
    from cloud_engine.ai.advisor import CloudAIAdvisor
    from cloud_engine.ai.knowledge import KnowledgeIndex
    from cloud_engine.ai.schemas import PlanReview
    from cloud_engine.finops.service import FinOpsService
    from cloud_engine.notify import NotificationService

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    engine: CloudOrchestrator
    _extras: dict[str, Any] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Set by `run` when METRICS_PORT is on: the advisor's answers are then counted by provider
    metrics: Any = None

    @classmethod
    async def open(cls, settings: Settings) -> Services:
        """Open the database (running migrations) and build the orchestrator."""
        db = await Database.open(settings.database_file)
        return cls(settings=settings, db=db, engine=CloudOrchestrator(db, settings))

    async def knowledge(self) -> KnowledgeIndex:
        """The retrieval index, synced with `knowledge/` once per process (unchanged files are skipped)."""
        from cloud_engine.ai.knowledge import KnowledgeIndex

        async with self._lock:
            if "knowledge" not in self._extras:
                index = KnowledgeIndex(self.db)
                if await asyncio.to_thread(self.settings.knowledge_dir.is_dir):
                    report = await index.load_dir(self.settings.knowledge_dir)
                    for path, reason in report.errors:
                        log.warning("knowledge entry skipped", extra={"file": str(path), "reason": reason})
                self._extras["knowledge"] = index
            known: KnowledgeIndex = self._extras["knowledge"]
            return known

    async def advisor(self) -> CloudAIAdvisor:
        """The advisor (Groq/Gemini when keys are set, the rules engine always), sharing the engine's checks."""
        from cloud_engine.ai.advisor import CloudAIAdvisor

        index = await self.knowledge()
        async with self._lock:
            if "advisor" not in self._extras:
                advisor = CloudAIAdvisor(self.settings, self.db, index, estimator=self.engine.costs,
                                         engine=self.engine)
                if self.metrics is not None:
                    _count_answers(advisor, self.metrics, self.settings)
                self._extras["advisor"] = advisor
            shared: CloudAIAdvisor = self._extras["advisor"]
            return shared

    async def notifications(self) -> NotificationService:
        """Channel and webhook subscriptions and their delivery (the bot's background loop runs it)."""
        from cloud_engine.notify import NotificationService

        async with self._lock:
            if "notifications" not in self._extras:
                self._extras["notifications"] = NotificationService(self.db, self.settings, self.engine.access,
                                                                    self.engine.clock)
            service: NotificationService = self._extras["notifications"]
            return service

    async def finops(self) -> FinOpsService:
        from cloud_engine.finops.service import FinOpsService

        async with self._lock:
            if "finops" not in self._extras:
                self._extras["finops"] = await FinOpsService.open(self.settings, self.db)
            service: FinOpsService = self._extras["finops"]
            return service

    async def review_plan(self, session_id: int, *, model: str = "auto") -> PlanReview:
        """Review a session's saved plan before approval: deterministic findings, then the advisor's ranking."""
        session = await self.engine.get_session(session_id)
        if session.plan_summary is None or session.state.value not in ("PLAN_READY", "APPROVED"):
            raise IllegalTransition(state=session.state.value, event="review a plan (plan it first)")
        project = await self.engine.get_project(session.project_id)
        deployer = self.engine.deployer
        plan = await deployer.saved_plan(project, session_id)  # type: ignore[attr-defined]
        files = await deployer.workspace(project).read_files()  # type: ignore[attr-defined]
        advisor = await self.advisor()
        return await advisor.review_plan(plan, await self.engine.desired_resources(session), provider=project.provider,
                                         budget_monthly=project.budget_monthly or None, hcl=files, model=model,
                                         scan=session.plan_summary.get("scan"))

    async def close(self) -> None:
        for name, value in list(self._extras.items()):
            closer = getattr(value, "aclose", None) or getattr(value, "close", None)
            if closer is not None:
                try:
                    result = closer()
                    if asyncio.iscoroutine(result):
                        await result
                except Exception:
                    log.exception("closing service failed", extra={"service": name})
        await self.db.close()


def _count_answers(advisor: CloudAIAdvisor, metrics: Any, settings: Settings) -> None:
    """Count each answer's provider, and the rules engine answering although a model key is set.

    Why wrap here: the advisor returns who wrote each answer, so counting needs no change to it.
    """
    advise = advisor.advise
    models_configured = settings.groq_api_key is not None or settings.gemini_api_key is not None

    async def counted(request: Any, **kwargs: Any) -> Any:
        answer = await advise(request, **kwargs)
        metrics.advisor_answer(str(answer.provider), str(request.model), models_configured=models_configured)
        return answer

    advisor.advise = counted  # type: ignore[method-assign]
