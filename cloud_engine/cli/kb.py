"""`main.py kb load|search|eval`: manage and query the knowledge base from the shell.

The same `KnowledgeIndex` the advisor uses, so what `kb search` prints is what the bot
would retrieve. Search and eval first sync the index with `settings.knowledge_dir`
(idempotent and cheap: unchanged files are skipped by hash), so results never come from a
stale index.
"""

from __future__ import annotations

import argparse
import json
import sys

from cloud_engine.ai.kb_eval import RECALL_K, evaluate
from cloud_engine.ai.knowledge import CATEGORIES, MAX_K, PROVIDERS, KnowledgeIndex, LoadReport
from cloud_engine.settings import REPO_ROOT, Settings
from cloud_engine.store import Database

DEFAULT_EVAL_FILE = REPO_ROOT / "tests" / "data" / "retrieval_eval.jsonl"
MIN_RECALL_AT_5 = 0.85


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("kb", help="knowledge base: load, search, evaluate retrieval")
    actions = parser.add_subparsers(dest="kb_action", metavar="ACTION", required=True)

    load = actions.add_parser("load", help="index knowledge/ into the database")
    load.set_defaults(handler=handle_load)

    search = actions.add_parser("search", help="search the knowledge base")
    search.add_argument("query", help="free text, e.g. 'public bucket'")
    search.add_argument("--provider", choices=PROVIDERS, help="only this provider (plus 'general' entries)")
    search.add_argument("--category", choices=CATEGORIES)
    search.add_argument("--service", help="only entries naming this service (substring, case-insensitive)")
    search.add_argument("--k", type=int, default=5, help=f"number of results, 1-{MAX_K} (default 5)")
    search.add_argument("--json", action="store_true", help="print JSON instead of a table")
    search.set_defaults(handler=handle_search)

    ev = actions.add_parser("eval", help=f"measure recall@{RECALL_K} and MRR on labelled queries")
    ev.add_argument("--file", default=str(DEFAULT_EVAL_FILE), help="JSONL file of labelled queries")
    ev.set_defaults(handler=handle_eval)


def _print_errors(report: LoadReport) -> None:
    for file, reason in report.errors:
        print(f"  skipped {file}: {reason}", file=sys.stderr)


async def _open_synced(settings: Settings) -> tuple[Database, KnowledgeIndex]:
    db = await Database.open(settings.database_file)
    index = KnowledgeIndex(db)
    try:
        report = await index.load_dir(settings.knowledge_dir)
    except BaseException:
        await db.close()
        raise
    if report.changed or report.errors:
        print(f"knowledge index synced: {report.summary()}", file=sys.stderr)
        _print_errors(report)
    return db, index


async def handle_load(args: argparse.Namespace, settings: Settings) -> int:
    db = await Database.open(settings.database_file)
    try:
        index = KnowledgeIndex(db)
        report = await index.load_dir(settings.knowledge_dir)
        print(f"{report.summary()} ({await index.count()} entries in {settings.database_file})")
        _print_errors(report)
    finally:
        await db.close()
    return 0


async def handle_search(args: argparse.Namespace, settings: Settings) -> int:
    db, index = await _open_synced(settings)
    try:
        hits = await index.search(
            args.query, provider=args.provider, category=args.category, service=args.service, k=args.k
        )
    finally:
        await db.close()
    if args.json:
        rows = [
            {
                "id": h.entry.id,
                "title": h.entry.title,
                "provider": h.entry.provider,
                "category": h.entry.category,
                "score": round(h.score, 4),
            }
            for h in hits
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not hits:
        print("no matching entries")
        return 0
    for h in hits:
        print(f"{h.score:7.2f}  {h.entry.id}  [{h.entry.provider}/{h.entry.category}]  {h.entry.title}")
    return 0


async def handle_eval(args: argparse.Namespace, settings: Settings) -> int:
    db, index = await _open_synced(settings)
    try:
        report = await evaluate(index, args.file)
    finally:
        await db.close()
    print(report.summary())
    for query in report.misses:
        print(f"  miss: {query}")
    if report.recall_at_5 < MIN_RECALL_AT_5:
        print(f"recall@{RECALL_K} {report.recall_at_5:.3f} is below {MIN_RECALL_AT_5}", file=sys.stderr)
        return 1
    return 0
