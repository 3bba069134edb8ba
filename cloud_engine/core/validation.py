"""Validators for user-supplied strings, shared by every model that accepts user text.

Why one module: every name, tag, CIDR and free-text field reaches HCL, SQL or Discord, so
each rule lives once and its error names the field and the rule.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

CLOUD_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
TAG_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
TAG_VALUE_RE = re.compile(r"^[a-zA-Z0-9 _.:/=+@-]{0,63}$")
MAX_TAGS = 20
MAX_DESCRIPTION = 256


def cloud_name(value: str) -> str:
    """Cloud resource and project names: lower-case letter first, then letters, digits, hyphens; ≤ 63."""
    if not isinstance(value, str) or not CLOUD_NAME_RE.fullmatch(value):
        raise ValueError("must match ^[a-z][a-z0-9-]{0,62}$ (start with a lower-case letter; letters, digits, hyphens; at most 63)")
    if value.endswith("-"):
        raise ValueError("must not end with a hyphen")
    return value


def tags(value: dict[str, str]) -> dict[str, str]:
    """Tags/labels: at most 20; keys like cloud labels, values from a conservative charset."""
    if len(value) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for key, val in value.items():
        if not TAG_KEY_RE.fullmatch(key):
            raise ValueError(f"tag key {key!r} must match {TAG_KEY_RE.pattern}")
        if not isinstance(val, str) or not TAG_VALUE_RE.fullmatch(val):
            raise ValueError(f"tag value for {key!r} must be ≤ 63 chars of letters, digits, space and _.:/=+@-")
    return value


def description(value: str) -> str:
    """Free text: any printable unicode up to 256 chars; control characters other than none rejected."""
    if len(value) > MAX_DESCRIPTION:
        raise ValueError(f"at most {MAX_DESCRIPTION} characters")
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs") :
            raise ValueError("must not contain control characters or newlines")
    return value


def cidr(value: str, *, private_only: bool = False) -> str:
    """An IPv4/IPv6 network in CIDR form with no host bits set."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR network ({exc})") from None
    if private_only and not net.is_private:
        raise ValueError(f"{value} must be a private range (RFC 1918 / ULA)")
    return str(net)


def parse_tags(text: str) -> dict[str, str]:
    """Parse 'k=v, k2=v2' as typed in a modal; errors name the bad pair."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.replace("\n", ",").split(","))):
        if "=" not in part:
            raise ValueError(f"tag {part!r} must look like key=value")
        key, val = (s.strip() for s in part.split("=", 1))
        out[key] = val
    return tags(out)
