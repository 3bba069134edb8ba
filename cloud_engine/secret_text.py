"""Known secrets in text: refuse them where users type, mask them wherever text is kept.

Why one leaf module: the validators (user tags, descriptions, purposes), the audit log, git
commit messages, the session error column and the streamed Terraform output all ask the
same two questions, "does this text hold a credential?" and "hide the credentials in it",
and must agree on the answer. It imports nothing of the engine but the logging masker, so
every layer can use it without an import cycle.

What counts as a secret: every value registered here (the bot's configured credentials and
keys, see `register_known_secrets`), anything registered with the logging masker, and
credential-shaped strings (an AWS access key id, a private key, API key formats). Output
from Terraform is often JSON, where a secret may appear escaped (`\\/` or `\\u002f` for
`/`, `\\"`, or `\\uXXXX` for any character); those forms are masked too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from cloud_engine.logging_setup import MASK, register_secrets, secret_literals
from cloud_engine.logging_setup import mask_secrets as _mask_plain

__all__ = ["CREDENTIAL_SHAPES", "credential_kind", "escaped_spans", "known_secrets", "mask_secrets",
           "register_known_secrets"]

# Credential formats recognised in any text, each with the words a refusal names it by.
CREDENTIAL_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")),
    ("a Groq API key", re.compile(r"\bgsk_[A-Za-z0-9]{20,}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("a Discord bot token", re.compile(r"\b[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,38}\b")),
    ("a password or secret assignment", re.compile(
        r"(?i)(?:aws_secret_access_key|secret_key|client_secret|password|api_key|token)[\"']?\s*[=:]\s*[\"']?"
        r"[^\s\"',]{8,}")),
)
MIN_KNOWN_SECRET = 6  # shorter registered values are too likely to be ordinary words
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t"}

_known: set[str] = set()


def register_known_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values (credentials, API keys, tokens) so they are refused and masked everywhere.

    They are registered with the logging masker too, so log lines hide them as well.
    """
    literals = {s for v in values if v for s in secret_literals(v) if len(s) >= MIN_KNOWN_SECRET}
    _known.update(literals)
    register_secrets(literals)


def known_secrets() -> frozenset[str]:
    """The secret values registered so far."""
    return frozenset(_known)


def credential_kind(text: str, extra: Iterable[str] = ()) -> str | None:
    """What kind of credential `text` holds ("an AWS access key id", ...), or None if it holds none.

    The answer names the kind only, so a refusal built from it never repeats the secret.
    """
    for label, pattern in CREDENTIAL_SHAPES:
        if pattern.search(text):
            return label
    literals = _literals(extra)
    if any(value in text for value in literals) or escaped_spans(text, literals):
        return "a secret value this bot is configured with"
    if _mask_plain(text) != text:  # a value only the logging masker was told about
        return "a secret value this bot is configured with"
    return None


def mask_secrets(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with every known secret, its JSON-escaped forms and every credential shape replaced by ****.

    For text about to be stored or shown: audit details, commit messages, session errors.
    """
    literals = _literals(extra)
    spans = escaped_spans(text, literals)
    for start, end in reversed(spans):
        text = text[:start] + MASK + text[end:]
    return _mask_plain(text, extra=literals)


def escaped_spans(text: str, literals: Iterable[str]) -> list[tuple[int, int]]:
    """Where `text` holds one of `literals`, each character plain or JSON-escaped, as (start, end).

    Only text with a backslash can hold an escaped form, so most lines cost one `in` test.
    """
    if "\\" not in text:
        return []
    pattern = _escaped_pattern(frozenset(v for v in literals if v and len(v) >= 4))
    return [m.span() for m in pattern.finditer(text)] if pattern is not None else []


def _literals(extra: Iterable[str]) -> frozenset[str]:
    return frozenset({*_known, *(v for v in extra if v and len(v) >= 4)})


@functools.lru_cache(maxsize=64)
def _escaped_pattern(literals: frozenset[str]) -> re.Pattern[str] | None:
    """One regex matching any of `literals` with each character plain or JSON-escaped, longest first."""
    if not literals:
        return None
    forms = ["".join(_char_forms(ch) for ch in value) for value in sorted(literals, key=len, reverse=True)]
    return re.compile("|".join(forms))


def _char_forms(ch: str) -> str:
    """A regex for one character as JSON may write it: itself, a short escape, or \\uXXXX (any hex case)."""
    forms = [re.escape(ch)]
    if ch in _SHORT_ESCAPES:
        forms.append(re.escape(_SHORT_ESCAPES[ch]))
    forms.append(_unicode_escape(ch))
    return f"(?:{'|'.join(forms)})"


def _unicode_escape(ch: str) -> str:
    """\\uXXXX for `ch`, as a surrogate pair above the BMP; hex digits match either case."""
    code = ord(ch)
    units = [code] if code < 0x10000 else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)]
    return "".join("\\\\u" + "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{u:04x}")
                   for u in units)
