"""Knowledge loader and search: idempotent sync with the folder, bad files skipped, filters, odd queries."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cloud_engine.ai.knowledge import (
    KnowledgeIndex,
    MalformedEntry,
    build_match_query,
    parse_entry,
    parse_query,
)
from cloud_engine.cli import main as cli_main
from cloud_engine.errors import InvalidInput
from cloud_engine.store import Database


def entry_text(
    entry_id: str,
    *,
    title: str = "Example title",
    provider: str = "aws",
    category: str = "security",
    services: str = "[S3]",
    tags: str = "[bucket]",
    frameworks: str | None = None,
    body: str = "Body text.",
) -> str:
    lines = [
        "---",
        f"id: {entry_id}",
        f"title: {title}",
        f"provider: {provider}",
        f"category: {category}",
        f"services: {services}",
        f"tags: {tags}",
    ]
    if frameworks is not None:
        lines.append(f"frameworks: {frameworks}")
    return "\n".join([*lines, "---", "", body, ""])


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def index() -> AsyncIterator[KnowledgeIndex]:
    db = await Database.open(":memory:")
    try:
        yield KnowledgeIndex(db)
    finally:
        await db.close()


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    write(
        root,
        "aws/security/aws-sec-bucket-public.md",
        entry_text(
            "aws-sec-bucket-public",
            title="Block public S3 buckets",
            services="[S3, IAM Access Analyzer]",
            tags="[bucket, public-access]",
            body="Enable S3 Block Public Access at the account level.",
        ),
    )
    write(
        root,
        "gcp/cost/gcp-cost-spot.md",
        entry_text(
            "gcp-cost-spot",
            title="Use Spot VMs for batch",
            provider="gcp",
            category="cost",
            services="[Compute Engine]",
            tags="[spot, batch]",
            body="Spot VMs are preempted with a 30-second notice; use them for batch work.",
        ),
    )
    write(
        root,
        "azure/reliability/azure-rel-zones.md",
        entry_text(
            "azure-rel-zones",
            title="Spread VMs across availability zones",
            provider="azure",
            category="reliability",
            services="[Virtual Machines, Azure Load Balancer]",
            tags="[vm, multi-zone]",
            body="Two VMs across zones get the 99.99% SLA; a public bucket is unrelated.",
        ),
    )
    write(
        root,
        "general/compliance/general-comp-audit.md",
        entry_text(
            "general-comp-audit",
            title="Keep audit logs for a year",
            provider="general",
            category="compliance",
            services="[Audit Logging]",
            tags="[audit-logging, retention]",
            frameworks="[PCI-DSS, SOX]",
            body="PCI DSS asks for 12 months of audit log history, for every public bucket access too.",
        ),
    )
    write(root, "README.md", "# Knowledge\n\nNo front matter here; the loader skips this file.\n")
    return root


# --- parsing ---------------------------------------------------------------------------------


def test_parse_entry_reads_every_field() -> None:
    text = entry_text(
        "gcp-sec-x",
        title="Title: with a colon",
        provider="gcp",
        services="[Cloud SQL, VPC]",
        tags="[database, private-ip]",
        frameworks="[HIPAA, PCI-DSS]",
        body="Line one.\n\nLine two.",
    )
    entry = parse_entry(text, path="gcp/security/gcp-sec-x.md", sha256="abc")
    assert entry.id == "gcp-sec-x"
    assert entry.title == "Title: with a colon"
    assert entry.services == ("Cloud SQL", "VPC")
    assert entry.tags == ("database", "private-ip")
    assert entry.frameworks == ("HIPAA", "PCI-DSS")
    assert entry.body == "Line one.\n\nLine two."
    assert entry.path == "gcp/security/gcp-sec-x.md"
    with pytest.raises(ValidationError):
        entry.title = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("no front matter at all", "missing front matter"),
        ("---\nid: a\n", "not closed"),
        (entry_text("a", provider="oracle"), "provider"),
        (entry_text("a", category="fun"), "category"),
        (entry_text("a", services="S3, EC2"), "services must be a list"),
        (entry_text("a", services="[]"), "at least one service"),
        (entry_text("a", frameworks="[ISO27001]"), "frameworks"),
        (entry_text("Bad_ID"), "kebab-case"),
        (entry_text("a", body=""), "body"),
        (entry_text("a").replace("title: Example title\n", ""), "missing keys: title"),
        (entry_text("a").replace("provider: aws\n", "provider: aws\nprovider: gcp\n"), "duplicate key"),
        (entry_text("a").replace("provider: aws\n", "provider: aws\nowner: me\n"), "unknown key"),
        (entry_text("a").replace("provider: aws\n", "provider: aws\n  nested\n"), "expected 'key: value'"),
    ],
)
def test_parse_entry_rejects_malformed_text_with_a_reason(text: str, reason_part: str) -> None:
    with pytest.raises(MalformedEntry) as caught:
        parse_entry(text, path="x/y/a.md")
    assert reason_part in caught.value.reason
    assert caught.value.file == "x/y/a.md"


# --- loading ---------------------------------------------------------------------------------


async def test_load_indexes_entries_and_skips_readme(index: KnowledgeIndex, kb_dir: Path) -> None:
    report = await index.load_dir(kb_dir)
    assert (report.added, report.updated, report.removed, report.errors) == (4, 0, 0, [])
    assert await index.count() == 4
    entry = await index.get("aws-sec-bucket-public")
    assert entry is not None
    assert entry.path == "aws/security/aws-sec-bucket-public.md"
    assert entry.services == ("S3", "IAM Access Analyzer")
    assert len(entry.sha256) == 64


async def test_second_load_changes_nothing(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    before = [(h.entry, h.score) for h in await index.search("public bucket", k=10)]
    report = await index.load_dir(kb_dir)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 4)
    assert not report.changed
    assert [(h.entry, h.score) for h in await index.search("public bucket", k=10)] == before


async def test_edited_file_is_updated(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    path = kb_dir / "gcp/cost/gcp-cost-spot.md"
    path.write_text(
        entry_text(
            "gcp-cost-spot",
            title="Use Spot VMs",
            provider="gcp",
            category="cost",
            services="[Compute Engine]",
            tags="[spot]",
            body="Checkpoint renderfarm jobs often.",
        ),
        encoding="utf-8",
    )
    report = await index.load_dir(kb_dir)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 3)
    assert [h.entry.id for h in await index.search("renderfarm")] == ["gcp-cost-spot"]
    assert await index.search("preempted") == []
    entry = await index.get("gcp-cost-spot")
    assert entry is not None and entry.title == "Use Spot VMs"


async def test_deleted_file_is_removed(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    (kb_dir / "aws/security/aws-sec-bucket-public.md").unlink()
    report = await index.load_dir(kb_dir)
    assert report.removed == 1
    assert await index.get("aws-sec-bucket-public") is None
    assert "aws-sec-bucket-public" not in [
        h.entry.id for h in await index.search("S3 block public access", k=10)
    ]
    assert await index.count() == 3


async def test_malformed_entry_is_reported_by_file_and_skipped(index: KnowledgeIndex, kb_dir: Path) -> None:
    write(kb_dir, "aws/cost/aws-cost-broken.md", entry_text("aws-cost-broken", provider="oracle"))
    write(kb_dir, "aws/cost/aws-cost-wrong-name.md", entry_text("aws-cost-other-name"))
    report = await index.load_dir(kb_dir)
    assert report.added == 4
    errors = dict(report.errors)
    assert set(errors) == {"aws/cost/aws-cost-broken.md", "aws/cost/aws-cost-wrong-name.md"}
    assert "provider" in errors["aws/cost/aws-cost-broken.md"]
    assert "does not match file name" in errors["aws/cost/aws-cost-wrong-name.md"]
    assert await index.get("aws-cost-broken") is None


async def test_entry_that_becomes_malformed_leaves_the_index(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    (kb_dir / "gcp/cost/gcp-cost-spot.md").write_text("---\nid: gcp-cost-spot\n", encoding="utf-8")
    report = await index.load_dir(kb_dir)
    assert report.removed == 1
    assert [file for file, _ in report.errors] == ["gcp/cost/gcp-cost-spot.md"]
    assert await index.get("gcp-cost-spot") is None


async def test_duplicate_id_keeps_first_file_and_reports_second(index: KnowledgeIndex, kb_dir: Path) -> None:
    write(kb_dir, "zzz/gcp-cost-spot.md", entry_text("gcp-cost-spot", provider="gcp", category="cost"))
    report = await index.load_dir(kb_dir)
    assert report.errors == [
        ("zzz/gcp-cost-spot.md", "duplicate id 'gcp-cost-spot' (also in gcp/cost/gcp-cost-spot.md)")
    ]
    entry = await index.get("gcp-cost-spot")
    assert entry is not None and entry.path == "gcp/cost/gcp-cost-spot.md"


async def test_non_utf8_file_is_reported(index: KnowledgeIndex, kb_dir: Path) -> None:
    (kb_dir / "aws/security/aws-sec-latin1.md").write_bytes(b"---\nid: x\ntitle: caf\xe9\n---\n")
    report = await index.load_dir(kb_dir)
    assert ("aws/security/aws-sec-latin1.md", "not valid UTF-8") in report.errors


async def test_missing_directory_is_an_input_error(index: KnowledgeIndex, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        await index.load_dir(tmp_path / "nope")


# --- search ----------------------------------------------------------------------------------


async def test_search_ranks_best_match_first_with_positive_descending_scores(
    index: KnowledgeIndex, kb_dir: Path
) -> None:
    await index.load_dir(kb_dir)
    hits = await index.search("how do I block a public S3 bucket?", k=10)
    assert hits[0].entry.id == "aws-sec-bucket-public"
    scores = [h.score for h in hits]
    assert all(s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)


async def test_synonyms_find_entries_that_use_other_words(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    # "preemptible" is not in the Spot entry; the synonym table maps it to "spot".
    assert [h.entry.id for h in await index.search("preemptible")] == ["gcp-cost-spot"]


async def test_provider_filter_includes_general_unless_strict(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    loose = {h.entry.id for h in await index.search("public bucket", provider="aws", k=10)}
    assert loose == {"aws-sec-bucket-public", "general-comp-audit"}
    strict = {
        h.entry.id for h in await index.search("public bucket", provider="aws", strict_provider=True, k=10)
    }
    assert strict == {"aws-sec-bucket-public"}


async def test_category_and_service_filters(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    by_category = await index.search("public bucket", category="reliability", k=10)
    assert [h.entry.id for h in by_category] == ["azure-rel-zones"]
    by_service = await index.search("public bucket", service="access analyzer", k=10)
    assert [h.entry.id for h in by_service] == ["aws-sec-bucket-public"]
    assert await index.search("public bucket", service="Cloud Spanner") == []


async def test_k_limits_results_and_is_validated(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    assert len(await index.search("public bucket", k=1)) == 1
    with pytest.raises(InvalidInput):
        await index.search("public bucket", k=0)
    with pytest.raises(InvalidInput):
        await index.search("public bucket", provider="oracle")
    with pytest.raises(InvalidInput):
        await index.search("public bucket", category="fun")


HOSTILE_QUERIES = [
    "",
    "   ",
    '"',
    '"""unbalanced',
    "NEAR(",
    "NEAR(a b, 2)",
    "*",
    "bucket*",
    "title:bucket",
    ":",
    "AND OR NOT",
    "NOT bucket",
    "bucket AND",
    "(((",
    "^bucket",
    "-bucket +s3",
    "🔥🚀",
    "bucket 🪣 public",
    "Zürich données café",
    "数据库 备份",
    "'; DROP TABLE kb_entries; --",
    "{col1 col2}: x",
    "a" * 5000,
    "x_y_z __ _",
    "\x00\x01 bucket",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
async def test_hostile_queries_never_raise(index: KnowledgeIndex, kb_dir: Path, query: str) -> None:
    await index.load_dir(kb_dir)
    hits = await index.search(query, provider="aws", k=5)
    assert isinstance(hits, list)
    assert await index.count() == 4


async def test_empty_and_stopword_only_queries_return_nothing(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    assert await index.search("") == []
    assert await index.search("how do I do it?") == []


async def test_operator_words_are_searched_as_plain_words(index: KnowledgeIndex, kb_dir: Path) -> None:
    await index.load_dir(kb_dir)
    hits = await index.search("NOT public NEAR bucket")
    assert hits and hits[0].entry.id in {"aws-sec-bucket-public", "general-comp-audit", "azure-rel-zones"}


def test_parse_query_keeps_user_words_before_synonyms() -> None:
    parsed = parse_query("Is my k8s DB exposed?")
    assert parsed.terms == ("k8s", "db", "exposed")
    assert {"kubernetes", "database"} <= set(parsed.expansions)
    assert not set(parsed.terms) & set(parsed.expansions)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_becomes_valid_fts5_syntax(text: str) -> None:
    """Whatever the user types, the MATCH expression parses (checked against a real FTS5 table)."""
    match = build_match_query(text)
    if match is None:
        return
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(
            "CREATE VIRTUAL TABLE t USING fts5(a, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        conn.execute("INSERT INTO t (a) VALUES ('public bucket')")
        conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()
    finally:
        conn.close()


# --- lookups ---------------------------------------------------------------------------------


async def test_get_existing_ids_and_count(index: KnowledgeIndex, kb_dir: Path) -> None:
    assert await index.count() == 0
    await index.load_dir(kb_dir)
    assert await index.get("no-such-entry") is None
    assert await index.existing_ids(["gcp-cost-spot", "made-up-id", "gcp-cost-spot"]) == {"gcp-cost-spot"}
    assert await index.existing_ids([]) == set()
    general = await index.get("general-comp-audit")
    assert general is not None and general.frameworks == ("PCI-DSS", "SOX")


# --- CLI -------------------------------------------------------------------------------------


def test_cli_load_then_search_json(tmp_path: Path, kb_dir: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.db"))
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kb_dir))
    assert cli_main(["kb", "load"]) == 0
    assert "added 4" in capsys.readouterr().out
    assert cli_main(["kb", "search", "public bucket", "--provider", "aws", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["id"] == "aws-sec-bucket-public"
    assert set(rows[0]) == {"id", "title", "provider", "category", "score"}
    assert {row["provider"] for row in rows} <= {"aws", "general"}


def test_cli_search_syncs_changed_files_first(tmp_path: Path, kb_dir: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.db"))
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kb_dir))
    assert cli_main(["kb", "search", "renderfarm"]) == 0
    assert "no matching entries" in capsys.readouterr().out
    write(
        kb_dir,
        "gcp/cost/gcp-cost-render.md",
        entry_text("gcp-cost-render", provider="gcp", category="cost", body="Renderfarm on Spot VMs."),
    )
    assert cli_main(["kb", "search", "renderfarm", "--category", "cost"]) == 0
    captured = capsys.readouterr()
    assert "gcp-cost-render" in captured.out
    assert "added 1" in captured.err
