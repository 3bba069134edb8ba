"""Structured JSON logging with a request id that follows one user action.

A ContextVar carries the request id, so every log line written while handling one
interaction or CLI command (engine, Terraform runner, advisor) carries the same id without
threading it through every call. A masking filter removes known secret values and common
key formats from every record before it is written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Formats that look like credentials wherever they appear in free text.
SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key id
    # key = value, key: value, and the JSON/YAML forms "key": "value" and key: 'value'
    re.compile(
        r"(?i)(aws_secret_access_key|secret_key|client_secret|password|api_key|token)"
        r"([\"']?\s*[=:]\s*[\"']?)([^\s\"',]{8,})"
    ),
    re.compile(r"\bgsk_[A-Za-z0-9]{20,}\b"),  # Groq
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),  # Google API key
    re.compile(r"\b[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,38}\b"),  # Discord bot token
    # a PEM or PGP private key, up to its END line or the end of the text
    re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$)"
    ),
)
MASK = "****"
MIN_SECRET_LINE = 6  # shortest line of a multi-line secret that is masked on its own

_extra_secrets: set[str] = set()
_STD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def register_secrets(values: Iterable[str]) -> None:
    """Remember literal secret values (API keys, tokens) so `mask_secrets` hides them everywhere."""
    _extra_secrets.update(s for v in values if v for s in secret_literals(v) if len(s) >= 6)


def secret_literals(value: str) -> list[str]:
    """The literals that hide `value`: the value itself and, if it spans lines, each telling line.

    Output is masked line by line, so a multi-line value (a key file or a certificate in a
    sensitive variable) never shows whole in one line: each of its lines must be hidden on
    its own. Lines shorter than `MIN_SECRET_LINE` are skipped, they are too likely to be
    ordinary text (`}`, `---`) that masking would wreck everywhere else.
    """
    lines = value.splitlines()
    if len(lines) <= 1:
        return [value]
    return [value, *(s for line in lines if len(s := line.strip()) >= MIN_SECRET_LINE)]


def mask_secrets(text: str, extra: Iterable[str] = ()) -> str:
    """Replace known secret values and anything shaped like a credential with ****."""
    for value in sorted(_literals(extra), key=len, reverse=True):
        text = text.replace(value, MASK)
    for pattern in SECRET_PATTERNS:
        if pattern.groups >= 3:
            text = pattern.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
        else:
            text = pattern.sub(MASK, text)
    return text


def secret_free_cut(text: str, index: int, extra: Iterable[str] = ()) -> int:
    """The largest position <= `index` where cutting `text` splits nothing `mask_secrets` hides.

    Why: an over-long line is cut into pieces that are masked one by one, and a secret
    straddling a cut would be matched by neither piece, leaking in two halves. Only `text`
    is searched, so it must reach past `index` by at least the longest secret.
    """
    literals = _literals(extra)
    spans = [match.span() for pattern in SECRET_PATTERNS for match in pattern.finditer(text)]
    while index > 0:
        starts = [start for start, end in spans if start < index < end]
        starts += [
            found
            for value in literals
            if (found := text.find(value, max(0, index - len(value) + 1), index + len(value) - 1)) != -1
        ]
        if not starts:
            break
        index = min(starts)
    return index


def _literals(extra: Iterable[str]) -> set[str]:
    """Registered secrets plus the caller's extra literals (shorter than 4 characters ignored)."""
    return {*_extra_secrets, *(v for v in extra if v and len(v) >= 4)}


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


@contextmanager
def request_context(request_id: str | None = None) -> Iterator[str]:
    """Bind a request id for the duration of one user action; yields the id."""
    rid = request_id or new_request_id()
    token = request_id_var.set(rid)
    try:
        yield rid
    finally:
        request_id_var.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _STD_ATTRS and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return mask_secrets(json.dumps(payload, default=str))


class _DropVoiceNotices(logging.Filter):
    """discord.py warns at every start that voice support is missing; this bot never uses voice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "discord.client" and "voice will NOT be supported" in str(record.msg))


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Install the JSON formatter on the root logger (idempotent)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        if getattr(handler, "_cloud_engine", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_DropVoiceNotices())
    handler._cloud_engine = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    for noisy in ("discord.http", "discord.gateway", "httpx", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
