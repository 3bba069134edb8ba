"""`main.py advise "USE CASE"`: ask the advisor from the command line (same service as /cloud-advise).

Loads the knowledge directory into the index first (a no-op when unchanged), prints the
answer with its sources and the model that wrote it ("rules engine" when no model did), or
the whole answer as JSON with `--json`. The CLI never deploys anything.
"""

from __future__ import annotations

import argparse
import json

from pydantic import ValidationError

from cloud_engine.ai.advisor import CloudAIAdvisor
from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.ai.schemas import AdviceAnswer, AdviceRequest
from cloud_engine.cli.failures import BAD_INPUT, CliFailure, validation_lines
from cloud_engine.settings import Settings
from cloud_engine.store import Database


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("advise", help="architecture advice for a use case (offline rules engine without AI keys)")
    parser.add_argument("use_case", help='what to build, e.g. "web app with postgres for a small shop"')
    parser.add_argument("--provider", choices=["any", "gcp", "aws", "azure"], default="any")
    parser.add_argument("--budget", choices=["low", "medium", "high"], default="medium")
    parser.add_argument("--security", choices=["standard", "enhanced", "compliance"], default="standard")
    parser.add_argument("--compliance", choices=["none", "HIPAA", "GDPR", "PCI-DSS", "SOX"], default="none")
    parser.add_argument("--region", default=None, help="a catalogue region (default: the provider's usual one)")
    parser.add_argument("--model", default="auto", help="auto, rules, groq:<model> or gemini:<model>")
    parser.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    parser.set_defaults(handler=handle)


def render(answer: AdviceAnswer) -> str:
    """Plain-text rendering: summary, resources with prices, guardrails, risks, sources, author."""
    lines = [f"Advice (written by {answer.written_by}{', cached' if answer.cached else ''})", "", answer.summary, ""]
    lines += [f"{s.step.title()}: {s.text}" for s in answer.reasoning]
    lines += ["", f"Resources ({answer.resources[0].provider if answer.resources else '-'}):"]
    for r in answer.resources:
        src = f" [{', '.join(r.citations)}]" if r.citations else ""
        lines.append(f"  - {r.spec.kind} {r.spec.name} ({r.spec.region}): ${r.monthly_cost:,.2f}/month – "
                     f"{r.cost_detail}")
        lines.append(f"      {r.rationale}{src}")
    lines.append(f"  Total: ${answer.total_monthly_cost:,.2f}/month (ceiling ${answer.budget_ceiling:,.0f}); "
                 f"prices: {answer.cost_source}")
    lines += ["", "Guardrails:"]
    for g in answer.guardrails:
        mark = "corrected" if g.corrected else ("ok" if g.passed else "FAILED")
        if not g.enforced:
            mark = "action"
        lines.append(f"  [{mark}] {g.name}: {g.detail}")
    if answer.risks:
        lines += ["", "Risks:"]
        lines += [f"  - {r.text}" + (f" [{', '.join(r.citations)}]" if r.citations else " (unsourced)")
                  for r in answer.risks]
    lines += ["", "Sources: " + (", ".join(answer.citations) if answer.citations else "none")]
    if answer.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in answer.notes]
    return "\n".join(lines)


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    try:
        request = AdviceRequest(use_case=args.use_case, provider=args.provider, budget=args.budget,
                                security=args.security, compliance=args.compliance, model=args.model,
                                region=args.region)
    except ValidationError as exc:
        raise CliFailure("; ".join(validation_lines(exc, AdviceRequest)), BAD_INPUT) from None
    db = await Database.open(settings.database_file)
    advisor: CloudAIAdvisor | None = None
    try:
        index = KnowledgeIndex(db)
        if settings.knowledge_dir.is_dir():
            await index.load_dir(settings.knowledge_dir)
        advisor = CloudAIAdvisor(settings, db, index)
        answer = await advisor.advise(request)
    finally:
        if advisor is not None:
            await advisor.aclose()
        await db.close()
    print(json.dumps(answer.model_dump(mode="json"), indent=2) if args.json else render(answer))
    return 0
