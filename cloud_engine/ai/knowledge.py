"""The knowledge base: markdown best-practice entries and their SQLite FTS5 retrieval index.

Why FTS5/BM25 rather than embeddings: the corpus is a few hundred short, keyword-dense
entries written for this project; lexical ranking with column weights, stemming and a small
synonym table retrieves them well (see `kb_eval.py` and `tests/data/retrieval_eval.jsonl`),
runs offline in the one SQLite database, and gives the advisor stable, citable entry ids.

File format (see `knowledge/README.md`)::

    ---
    id: gcp-sec-cloud-sql-private-ip
    title: Give Cloud SQL a private IP only
    provider: gcp
    category: security
    services: [Cloud SQL, VPC]
    tags: [database, private-ip]
    frameworks: [HIPAA, PCI-DSS]
    ---
    Body text in markdown.

The front matter is a deliberately small, strict subset of YAML (one `key: value` per
line, lists only in `[a, b]` flow form), parsed here without PyYAML: anything outside that
subset is reported as a malformed entry instead of being guessed at.

The index mirrors one directory: `load_dir` adds new files, updates changed ones (by
sha256 of the file bytes), removes entries whose file is gone, and skips malformed files
with a reason. A file that becomes malformed therefore drops out of the index until fixed,
so the advisor never cites text that no longer exists on disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from cloud_engine.errors import EngineError, InvalidInput
from cloud_engine.store import Database

__all__ = [
    "CATEGORIES",
    "FRAMEWORKS",
    "PROVIDERS",
    "KnowledgeEntry",
    "KnowledgeIndex",
    "LoadReport",
    "MalformedEntry",
    "SearchHit",
    "ParsedQuery",
    "build_match_query",
    "match_expression",
    "parse_entry",
    "parse_query",
    "query_terms",
]

PROVIDERS: tuple[str, ...] = ("gcp", "aws", "azure", "general")
CATEGORIES: tuple[str, ...] = ("security", "cost", "performance", "reliability", "compliance")
FRAMEWORKS: tuple[str, ...] = ("HIPAA", "GDPR", "PCI-DSS", "SOX")
MAX_K = 50
SKIPPED_FILE_NAMES = frozenset({"readme.md"})

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KEY_RE = re.compile(r"^([a-z_]+):(?:\s+(.*))?$")
_LIST_ITEM_RE = re.compile(r"^[^\[\],\"']+$")
_REQUIRED_KEYS = ("id", "title", "provider", "category", "services", "tags")
_LIST_KEYS = frozenset({"services", "tags", "frameworks"})
_ALLOWED_KEYS = frozenset(_REQUIRED_KEYS) | _LIST_KEYS

# Names a user may type for each provider; indexed with the entry so "aws ..." favours AWS.
_PROVIDER_TERMS: dict[str, str] = {
    "gcp": "gcp google cloud platform",
    "aws": "aws amazon web services",
    "azure": "azure microsoft",
    "general": "general multi cloud",
}

# bm25() column weights, in kb_fts column order: title, services, tags, body, provider_terms.
# Titles and tags are written to name the topic, so a hit there says more than one in prose;
# tuned against tests/data/retrieval_eval.jsonl.
_BM25_WEIGHTS: tuple[float, ...] = (6.0, 3.0, 4.0, 1.0, 1.5)

# Synonym expansions are scored in a second BM25 pass and count this much of a typed word:
# they rescue queries whose words the entries never use ("bucket" -> "blob") without letting
# a generic synonym outrank an entry that matches what the user actually wrote.
_EXPANSION_WEIGHT = 0.4
# How many best matches each BM25 pass contributes before the two are combined.
_CANDIDATES = 200

_MAX_QUERY_CHARS = 1000
_MAX_QUERY_TERMS = 24

# Words that carry no topic in the way users ask ("how do I make my ... cheaper?").
_STOP_WORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being below
    best between both but by can could did do does doing done down during each else even ever
    every few for from further get gets getting give go going good got had has have having he her
    here hers how i if in into is it its itself just keep know let like make makes me might more
    most much must my myself need needs no nor not now of off on once only or other our ours out
    over own please practice practices really recommend recommended right same shall she should
    so some still such tell than that the their theirs them then there these they thing things
    this those through to too under until up us use used using very want was way ways we well
    were what when where whether which while who whom why will with within without would you
    your yours yourself
    """.split()
)

# Light query expansion from the words users type to the words entries use. Keys are lower-case
# query words; values are added (OR-ed) alongside the original word.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "vm": ("instance", "compute", "virtual", "machine"),
    "vms": ("instance", "compute", "virtual", "machine"),
    "server": ("instance", "vm"),
    "servers": ("instance", "vm"),
    "bucket": ("storage", "object", "s3", "gcs", "blob"),
    "buckets": ("storage", "object", "s3", "gcs", "blob"),
    "k8s": ("kubernetes", "gke", "eks", "aks"),
    "kubernetes": ("gke", "eks", "aks"),
    "cluster": ("kubernetes",),
    "db": ("database", "sql"),
    "dbs": ("database", "sql"),
    "database": ("sql",),
    "postgres": ("postgresql", "database"),
    "mysql": ("database",),
    "firewall": ("nsg", "ingress"),
    "cheaper": ("cost", "save"),
    "cheap": ("cost", "save"),
    "expensive": ("cost",),
    "bill": ("cost", "billing"),
    "spend": ("cost", "spending"),
    "saving": ("cost", "save"),
    "savings": ("cost", "save"),
    "ri": ("reserved", "instances"),
    "ris": ("reserved", "instances"),
    "preemptible": ("spot",),
    "spot": ("preemptible",),
    "egress": ("transfer",),
    "slow": ("latency", "performance"),
    "latency": ("performance",),
    "outage": ("availability", "failover"),
    "downtime": ("availability", "failover"),
    "ha": ("availability", "zone"),
    "dr": ("disaster", "recovery"),
    "secrets": ("secret", "vault"),
    "password": ("secret", "credential"),
    "passwords": ("secret", "credential"),
    "mfa": ("multi", "factor"),
    "2fa": ("mfa", "multi", "factor"),
    "logs": ("logging", "audit"),
    "audit": ("logging",),
    "gdpr": ("residency", "personal"),
    "hipaa": ("phi", "baa"),
    "pci": ("cardholder",),
    "sox": ("financial", "segregation"),
    "tls": ("transit", "https"),
    "ssl": ("tls", "https"),
    "smaller": ("rightsizing", "underutilized"),
    "oversized": ("rightsizing", "underutilized"),
    "downsize": ("rightsizing", "underutilized"),
    "idle": ("unused", "unattached"),
    "unused": ("idle", "orphaned"),
    "green": ("carbon",),
    "co2": ("carbon", "emissions"),
    "sustainability": ("carbon",),
    "tags": ("labels", "tagging"),
    "labels": ("tags", "labeling"),
    "alerts": ("alert", "budget"),
    "subnet": ("network", "vpc"),
    "subnets": ("network", "vpc"),
    "vnet": ("network", "subnet"),
    "iops": ("throughput", "disk"),
    "disk": ("volume",),
    "ssh": ("rdp", "bastion"),
    "rdp": ("ssh", "bastion"),
}

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)


class MalformedEntry(EngineError):
    """A knowledge file that could not be parsed or validated; `reason` says why."""

    template = "Malformed knowledge entry {file}: {reason}"


class KnowledgeEntry(BaseModel):
    """One validated, immutable knowledge entry; `path` is relative to the loaded directory."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str
    title: str
    provider: Literal["gcp", "aws", "azure", "general"]
    category: Literal["security", "cost", "performance", "reliability", "compliance"]
    services: tuple[str, ...]
    tags: tuple[str, ...]
    frameworks: tuple[Literal["HIPAA", "GDPR", "PCI-DSS", "SOX"], ...] = ()
    body: str
    path: str
    sha256: str

    @field_validator("id")
    @classmethod
    def _kebab_id(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError("must be kebab-case: lower-case letters, digits and single hyphens")
        return value

    @field_validator("title", "body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("services")
    @classmethod
    def _some_services(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must name at least one service")
        return value

    @field_validator("services", "tags", "frameworks")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len({v.lower() for v in value}) != len(value):
            raise ValueError("must not repeat an item")
        return value


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result; `score` is the negated BM25 rank, so higher is better."""

    entry: KnowledgeEntry
    score: float


@dataclass(slots=True)
class LoadReport:
    """What one `load_dir` call changed; `errors` holds (relative file path, reason) pairs."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when the index differs from before the load."""
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """One line for the CLI and logs."""
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"removed {self.removed}, errors {len(self.errors)}"
        )


def _parse_list(raw: str, key: str) -> list[str]:
    if not (raw.startswith("[") and raw.endswith("]")):
        raise ValueError(f"{key} must be a list written as [a, b]")
    inner = raw[1:-1].strip()
    if not inner:
        return []
    items = [item.strip() for item in inner.split(",")]
    for item in items:
        if not item or not _LIST_ITEM_RE.match(item):
            raise ValueError(f"{key} has an empty or unsupported item {item!r}")
    return items


def _parse_scalar(raw: str, key: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    if raw.startswith(("[", "{", "|", ">", "&", "*", "!")):
        raise ValueError(f"{key} must be a plain one-line value")
    return raw


def _split_front_matter(text: str) -> tuple[list[str], str]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ValueError("missing front matter: the file must start with a '---' line")
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            return lines[1:end], "\n".join(lines[end + 1 :]).strip()
    raise ValueError("front matter is not closed by a '---' line")


def parse_entry(text: str, *, path: str, sha256: str = "") -> KnowledgeEntry:
    """Parse and validate one entry file's text, raising `MalformedEntry` with a short reason."""
    try:
        header, body = _split_front_matter(text)
        data: dict[str, Any] = {}
        for number, line in enumerate(header, start=2):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _KEY_RE.match(line.rstrip())
            if not match:
                raise ValueError(f"line {number}: expected 'key: value', got {line.strip()!r}")
            key, raw = match.group(1), (match.group(2) or "").strip()
            if key not in _ALLOWED_KEYS:
                raise ValueError(f"line {number}: unknown key {key!r}")
            if key in data:
                raise ValueError(f"line {number}: duplicate key {key!r}")
            data[key] = _parse_list(raw, key) if key in _LIST_KEYS else _parse_scalar(raw, key)
        missing = [key for key in _REQUIRED_KEYS if key not in data]
        if missing:
            raise ValueError(f"missing keys: {', '.join(missing)}")
        return KnowledgeEntry(**data, body=body, path=path, sha256=sha256)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise MalformedEntry(file=path, reason=f"{where}: {first['msg']}") from None
    except ValueError as exc:
        raise MalformedEntry(file=path, reason=str(exc)) from None


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A user query reduced to safe search words: what they typed, and synonyms we added."""

    terms: tuple[str, ...]
    expansions: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.terms and not self.expansions


def parse_query(query: str) -> ParsedQuery:
    """Lower-cased search words of `query`, with punctuation, operator syntax and stop words removed.

    Only runs of letters and digits survive, so quotes, `*`, `:`, `^`, parentheses and emoji
    never reach FTS5 as syntax; the FTS5 keywords AND, OR and NOT are stop words, and NEAR or
    any other word is later quoted as a plain phrase. Synonyms of the remaining words become
    `expansions` (never repeating a term). Both are deduplicated and capped in total.
    """
    words = [w.lower() for w in _TOKEN_RE.findall(query[:_MAX_QUERY_CHARS])]
    terms = list(dict.fromkeys(w for w in words if w not in _STOP_WORDS))[:_MAX_QUERY_TERMS]
    expansions: list[str] = []
    for word in terms:
        for extra in _SYNONYMS.get(word, ()):
            if extra not in terms and extra not in expansions:
                expansions.append(extra)
    return ParsedQuery(tuple(terms), tuple(expansions[: max(0, _MAX_QUERY_TERMS - len(terms))]))


def query_terms(query: str) -> list[str]:
    """Every word `search` looks for: the user's words first, then synonym expansions."""
    parsed = parse_query(query)
    return [*parsed.terms, *parsed.expansions]


def match_expression(terms: Iterable[str]) -> str | None:
    """An FTS5 MATCH expression OR-ing each term as a quoted phrase, or None if there are none."""
    phrases = ['"' + term.replace('"', '""') + '"' for term in terms]
    return " OR ".join(phrases) if phrases else None


def build_match_query(query: str) -> str | None:
    """The MATCH expression for every word of `query` (terms and expansions), or None."""
    return match_expression(query_terms(query))


@dataclass(frozen=True, slots=True)
class _ScannedFile:
    rel_path: str
    sha256: str
    entry: KnowledgeEntry | None
    error: str | None


def _scan_dir(root: Path) -> list[_ScannedFile]:
    """Read, hash and parse every entry file under root (blocking; run in a thread)."""
    scanned: list[_ScannedFile] = []
    for file in sorted(root.rglob("*.md")):
        rel = file.relative_to(root)
        if file.name.lower() in SKIPPED_FILE_NAMES or any(p.startswith(".") for p in rel.parts):
            continue
        rel_path = rel.as_posix()
        try:
            raw = file.read_bytes()
            digest = hashlib.sha256(raw).hexdigest()
            entry = parse_entry(raw.decode("utf-8"), path=rel_path, sha256=digest)
        except UnicodeDecodeError:
            scanned.append(_ScannedFile(rel_path, "", None, "not valid UTF-8"))
            continue
        except OSError as exc:
            scanned.append(_ScannedFile(rel_path, "", None, f"unreadable: {exc.strerror or exc}"))
            continue
        except MalformedEntry as exc:
            scanned.append(_ScannedFile(rel_path, digest, None, exc.reason))
            continue
        if entry.id != file.stem:
            scanned.append(_ScannedFile(rel_path, digest, None, f"id {entry.id!r} does not match file name"))
            continue
        scanned.append(_ScannedFile(rel_path, digest, entry, None))
    return scanned


def _row_to_entry(row: dict[str, Any]) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=row["id"],
        title=row["title"],
        provider=row["provider"],
        category=row["category"],
        services=tuple(json.loads(row["services"])),
        tags=tuple(json.loads(row["tags"])),
        frameworks=tuple(json.loads(row["frameworks"])),
        body=row["body"],
        path=row["path"],
        sha256=row["sha256"],
    )


def _entry_params(entry: KnowledgeEntry) -> tuple[Any, ...]:
    return (
        entry.id,
        entry.path,
        entry.sha256,
        entry.title,
        entry.provider,
        entry.category,
        json.dumps(list(entry.services)),
        json.dumps(list(entry.tags)),
        json.dumps(list(entry.frameworks)),
        entry.body,
    )


def _fts_params(doc: int, entry: KnowledgeEntry) -> tuple[Any, ...]:
    # Tags are written kebab-case ("private-ip"); the tokenizer splits them into words.
    return (
        doc,
        entry.title,
        " ; ".join(entry.services),
        " ; ".join(entry.tags + entry.frameworks),
        entry.body,
        _PROVIDER_TERMS[entry.provider],
    )


# One BM25 pass over kb_fts with the metadata filters; `rank` is bm25() (lower = better).
# The provider clause admits provider 'general' entries unless strict is requested.
_RANK_SQL = (
    "SELECT kb_fts.rowid AS doc, bm25(kb_fts, ?, ?, ?, ?, ?) AS rank"
    " FROM kb_fts JOIN kb_entries e ON e.doc = kb_fts.rowid"
    " WHERE kb_fts MATCH ?"
    " AND (? IS NULL OR e.provider = ? OR (? = 0 AND e.provider = 'general'))"
    " AND (? IS NULL OR e.category = ?)"
    " AND (? IS NULL OR EXISTS (SELECT 1 FROM json_each(e.services) s"
    "      WHERE instr(lower(s.value), lower(?)) > 0))"
    " ORDER BY rank LIMIT ?"
)


class KnowledgeIndex:
    """Knowledge entries in the main SQLite database, with BM25 search and metadata filters."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def load_dir(self, path: str | Path) -> LoadReport:
        """Make the index mirror the entry files under `path`; idempotent, never fails on a bad file."""
        root = Path(path)
        if not await asyncio.to_thread(root.is_dir):
            raise InvalidInput(field="knowledge directory", rule=f"{root} is not a directory")
        scanned = await asyncio.to_thread(_scan_dir, root)
        report = LoadReport()
        wanted: dict[str, KnowledgeEntry] = {}
        seen_in: dict[str, str] = {}
        for item in scanned:
            if item.entry is None:
                report.errors.append((item.rel_path, item.error or "malformed"))
            elif item.entry.id in wanted:
                report.errors.append(
                    (item.rel_path, f"duplicate id {item.entry.id!r} (also in {seen_in[item.entry.id]})")
                )
            else:
                wanted[item.entry.id] = item.entry
                seen_in[item.entry.id] = item.rel_path

        async with self.db.transaction() as conn:
            async with conn.execute("SELECT doc, id, path, sha256 FROM kb_entries") as cur:
                existing = {row["id"]: row for row in await cur.fetchall()}
            for entry_id in existing.keys() - wanted.keys():
                doc = existing[entry_id]["doc"]
                await conn.execute("DELETE FROM kb_fts WHERE rowid = ?", (doc,))
                await conn.execute("DELETE FROM kb_entries WHERE doc = ?", (doc,))
                report.removed += 1
            for entry_id, entry in wanted.items():
                old = existing.get(entry_id)
                if old is not None and old["sha256"] == entry.sha256 and old["path"] == entry.path:
                    report.unchanged += 1
                    continue
                if old is None:
                    async with conn.execute(
                        "INSERT INTO kb_entries (id, path, sha256, title, provider, category, services, tags,"
                        " frameworks, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        _entry_params(entry),
                    ) as cur:
                        doc = cur.lastrowid
                    report.added += 1
                else:
                    doc = old["doc"]
                    await conn.execute(
                        "UPDATE kb_entries SET id = ?, path = ?, sha256 = ?, title = ?, provider = ?, category = ?,"
                        " services = ?, tags = ?, frameworks = ?, body = ?, loaded_at = datetime('now')"
                        " WHERE doc = ?",
                        (*_entry_params(entry), doc),
                    )
                    await conn.execute("DELETE FROM kb_fts WHERE rowid = ?", (doc,))
                    report.updated += 1
                await conn.execute(
                    "INSERT INTO kb_fts (rowid, title, services, tags, body, provider_terms) VALUES (?, ?, ?, ?, ?, ?)",
                    _fts_params(doc, entry),
                )
        return report

    async def search(
        self,
        query: str,
        *,
        provider: str | None = None,
        category: str | None = None,
        service: str | None = None,
        k: int = 5,
        strict_provider: bool = False,
    ) -> list[SearchHit]:
        """Best `k` entries for free-text `query`, optionally filtered; never raises on odd text.

        A `provider` filter also admits provider "general" entries (compliance and FinOps
        guidance that applies everywhere) unless `strict_provider` is set. `service` matches
        case-insensitively anywhere in a service name ("sql" finds "Cloud SQL"). A query with
        no searchable words returns no hits.
        """
        if not 1 <= k <= MAX_K:
            raise InvalidInput(field="k", rule=f"must be between 1 and {MAX_K}")
        if provider is not None and provider not in PROVIDERS:
            raise InvalidInput(field="provider", rule=f"must be one of {', '.join(PROVIDERS)}")
        if category is not None and category not in CATEGORIES:
            raise InvalidInput(field="category", rule=f"must be one of {', '.join(CATEGORIES)}")
        service = service.strip() if service else None
        parsed = parse_query(query)
        if parsed.empty:
            return []
        filters = (provider, provider, int(strict_provider), category, category, service, service)
        scores: dict[int, float] = {}
        for terms, weight in ((parsed.terms, 1.0), (parsed.expansions, _EXPANSION_WEIGHT)):
            match = match_expression(terms)
            if match is None:
                continue
            rows = await self.db.fetchall(_RANK_SQL, (*_BM25_WEIGHTS, match, *filters, _CANDIDATES))
            for row in rows:
                scores[row["doc"]] = scores.get(row["doc"], 0.0) - weight * float(row["rank"])
        best = sorted(scores.items(), key=lambda item: -item[1])[:k]
        if not best:
            return []
        rows = await self.db.fetchall(
            "SELECT doc, id, path, sha256, title, provider, category, services, tags, frameworks, body"
            " FROM kb_entries WHERE doc IN (SELECT value FROM json_each(?))",
            (json.dumps([doc for doc, _ in best]),),
        )
        by_doc = {row["doc"]: _row_to_entry(row) for row in rows}
        hits = [SearchHit(entry=by_doc[doc], score=score) for doc, score in best if doc in by_doc]
        return sorted(hits, key=lambda hit: (-hit.score, hit.entry.id))

    async def get(self, entry_id: str) -> KnowledgeEntry | None:
        """The entry with this id, or None."""
        row = await self.db.fetchone(
            "SELECT id, path, sha256, title, provider, category, services, tags, frameworks, body"
            " FROM kb_entries WHERE id = ?",
            (entry_id,),
        )
        return _row_to_entry(row) if row else None

    async def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """The subset of `ids` present in the index (lets the advisor drop invented citations)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return set()
        rows = await self.db.fetchall(
            "SELECT id FROM kb_entries WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(wanted),)
        )
        return {row["id"] for row in rows}

    async def count(self) -> int:
        """How many entries the index holds."""
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM kb_entries")
        return int(row["n"]) if row else 0
