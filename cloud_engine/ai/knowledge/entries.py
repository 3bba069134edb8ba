"""Knowledge entry files: the strict front-matter format, validation and directory scanning.

The front matter is a deliberately small, strict subset of YAML (one `key: value` per line,
lists only in `[a, b]` flow form), parsed here without PyYAML: anything outside that subset
is reported as a malformed entry instead of being guessed at (format: `knowledge/README.md`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from cloud_engine.errors import EngineError

PROVIDERS: tuple[str, ...] = ("gcp", "aws", "azure", "general")
# The five Well-Architected pillars (operations = operational excellence) plus compliance
CATEGORIES: tuple[str, ...] = ("security", "cost", "performance", "reliability", "compliance", "operations")
FRAMEWORKS: tuple[str, ...] = ("HIPAA", "GDPR", "PCI-DSS", "SOX")
MAX_K = 50
SKIPPED_FILE_NAMES = frozenset({"readme.md"})

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KEY_RE = re.compile(r"^([a-z_]+):(?:\s+(.*))?$")
_LIST_ITEM_RE = re.compile(r"^[^\[\],\"']+$")
_REQUIRED_KEYS = ("id", "title", "provider", "category", "services", "tags")
_LIST_KEYS = frozenset({"services", "tags", "frameworks"})
_ALLOWED_KEYS = frozenset(_REQUIRED_KEYS) | _LIST_KEYS


class MalformedEntry(EngineError):
    """A knowledge file that could not be parsed or validated; `reason` says why."""

    template = "Malformed knowledge entry {file}: {reason}"
    file: str
    reason: str


class KnowledgeEntry(BaseModel):
    """One validated, immutable knowledge entry; `path` is relative to the loaded directory."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str
    title: str
    provider: Literal["gcp", "aws", "azure", "general"]
    category: Literal["security", "cost", "performance", "reliability", "compliance", "operations"]
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
class ScannedFile:
    rel_path: str
    sha256: str
    entry: KnowledgeEntry | None
    error: str | None


def scan_dir(root: Path) -> list[ScannedFile]:
    """Read, hash and parse every entry file under root (blocking; run in a thread)."""
    scanned: list[ScannedFile] = []
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
            scanned.append(ScannedFile(rel_path, "", None, "not valid UTF-8"))
            continue
        except OSError as exc:
            scanned.append(ScannedFile(rel_path, "", None, f"unreadable: {exc.strerror or exc}"))
            continue
        except MalformedEntry as exc:
            scanned.append(ScannedFile(rel_path, digest, None, exc.reason))
            continue
        if entry.id != file.stem:
            scanned.append(ScannedFile(rel_path, digest, None, f"id {entry.id!r} does not match file name"))
            continue
        scanned.append(ScannedFile(rel_path, digest, entry, None))
    return scanned
