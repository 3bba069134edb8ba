"""Shapes shared by every advisor answer: who wrote it, and how a model reply is parsed.

Two layers on purpose (raw → valid): a model's JSON is parsed into a small raw shape (a bad
field is a validation error that can be fed back in the one re-ask); the user only ever sees
the answer the engine builds after guardrails, pricing and citation checks.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class WrittenBy:
    """Every answer names who wrote it: "rules engine" or `provider:model` (fields of the model it is mixed into)."""

    @property
    def written_by(self) -> str:
        provider, model = getattr(self, "provider"), getattr(self, "model")  # noqa: B009 - set by the pydantic model
        return "rules engine" if provider == "rules" else f"{provider}:{model}"

class ReplyInvalid(ValueError):
    """A model reply that is not the JSON we asked for; `errors` go back to the model verbatim."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class Raw(BaseModel):
    """Base of every raw model-reply shape: unknown keys ignored, strings stripped."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def format_errors(exc: ValidationError, *, prefix: str = "") -> list[str]:
    """Short `path: message` lines, the form the re-ask shows the model."""
    out = []
    for err in exc.errors()[:12]:
        loc = ".".join(str(p) for p in err["loc"])
        out.append(f"{prefix}{loc}: {err['msg']}")
    return out


def load_json_object(text: str) -> dict[str, Any]:
    """Decode a reply as one JSON object, tolerating a ```json fence around it."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`")
        body = body[4:] if body.lower().startswith("json") else body
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ReplyInvalid([f"reply is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]) from None
    except RecursionError:  # "[[[[..." thousands deep: the decoder recurses once per level
        raise ReplyInvalid(["reply is not valid JSON: nested too deeply"]) from None
    except ValueError as exc:  # e.g. an integer over Python's 4300-digit conversion limit
        raise ReplyInvalid([f"reply is not valid JSON: {str(exc)[:120]}"]) from None
    if not isinstance(data, dict):
        raise ReplyInvalid(["reply must be one JSON object"])
    return data
