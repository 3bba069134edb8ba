"""Validators for user-supplied strings, shared by every model that accepts user text.

Why one module: every name, tag, CIDR and free-text field reaches HCL, SQL or Discord, so
each rule lives once and its error names the field and the rule.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections.abc import Iterable

from cloud_engine.errors import InvalidInput
from cloud_engine.secret_text import credential_kind

CLOUD_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
TAG_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
TAG_VALUE_RE = re.compile(r"^[a-zA-Z0-9 _.:/=+@-]{0,63}$")
MAX_TAGS = 20
MAX_DESCRIPTION = 256
# Labels the renderer sets itself (iac/providers/_base.py RenderContext.labels); a user tag with
# one of these keys would be silently replaced, so it is refused up front.
RESERVED_TAG_KEYS = frozenset({"project", "managed_by"})
# Unicode categories refused in free text: controls, surrogates, format characters (bidi
# overrides, zero-width characters, tag characters) and line/paragraph separators.
FORBIDDEN_TEXT_CATEGORIES = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp"})
# Ranges a network or subnet may use: RFC 1918 and IPv6 ULA; IPv4 prefixes /8 to /29.
USABLE_PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                                   "fc00::/7"))
IPV4_PREFIX_BOUNDS = (8, 29)
# How much public address space an ingress rule may admit before it counts as "the world":
# a /8 for IPv4, a /32 for IPv6, summed over the rule's collapsed public sources.
WORLD_THRESHOLD = {4: 2**24, 6: 2**96}
_Net = ipaddress.IPv4Network | ipaddress.IPv6Network
# IPv6 addresses that stand for IPv4 ones (::ffff:a.b.c.d): a source here reaches IPv4 hosts.
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_ALL_IPV4, _ALL_IPV6 = ipaddress.IPv4Network("0.0.0.0/0"), ipaddress.IPv6Network("::/0")


def cloud_name(value: str) -> str:
    """Cloud resource and project names: lower-case letter first, then letters, digits, hyphens; ≤ 63."""
    if not isinstance(value, str) or not CLOUD_NAME_RE.fullmatch(value):
        raise ValueError("must match ^[a-z][a-z0-9-]{0,62}$ (start with a lower-case letter; letters, digits, hyphens; at most 63)")
    if value.endswith("-"):
        raise ValueError("must not end with a hyphen")
    return value


def no_credential(value: str) -> str:
    """Refuse text that holds a known secret or a credential-shaped string, naming only its kind.

    Why: tags, descriptions and purposes are shown in Discord, written to the audit log,
    committed to git and rendered into HCL; a key pasted there by mistake would be kept in
    all of them. The message never repeats the secret.
    """
    kind = credential_kind(value)
    if kind is not None:
        raise ValueError(f"contains a credential ({kind}); remove it")
    return value


def tags(value: dict[str, str]) -> dict[str, str]:
    """Tags/labels: at most 20; keys like cloud labels, values from a conservative charset, no credentials."""
    if len(value) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for key, val in value.items():
        if isinstance(key, str) and (kind := credential_kind(key)) is not None:
            raise ValueError(f"a tag key contains a credential ({kind}); remove it")
        if isinstance(val, str) and (kind := credential_kind(val)) is not None:
            raise ValueError(f"tag {key!r} contains a credential ({kind}); remove it")
        if key in RESERVED_TAG_KEYS:
            raise ValueError(f"tag key {key!r} is reserved: Cloud Engine sets {', '.join(sorted(RESERVED_TAG_KEYS))} "
                             "itself; use another key")
        if not TAG_KEY_RE.fullmatch(key):
            raise ValueError(f"tag key {key!r} must match {TAG_KEY_RE.pattern}")
        if not isinstance(val, str) or not TAG_VALUE_RE.fullmatch(val):
            raise ValueError(f"tag value for {key!r} must be ≤ 63 chars of letters, digits, space and _.:/=+@-")
    return value


def description(value: str) -> str:
    """Free text: printable unicode up to 256 chars.

    Control characters, newlines, line/paragraph separators and invisible format characters
    (bidi overrides, zero-width characters) are refused: the text reaches Discord, audit logs
    and commit messages, where they can disguise what it says.
    """
    if len(value) > MAX_DESCRIPTION:
        raise ValueError(f"at most {MAX_DESCRIPTION} characters")
    for ch in value:
        if unicodedata.category(ch) in FORBIDDEN_TEXT_CATEGORIES:
            raise ValueError(f"must not contain control characters, newlines or invisible formatting characters "
                             f"(found U+{ord(ch):04X})")
    return no_credential(value)


def cidr(value: str, *, private_only: bool = False) -> str:
    """An IPv4/IPv6 network in CIDR form with no host bits set."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR network ({exc})") from None
    if private_only:
        if not any(net.version == r.version and net.subnet_of(r) for r in USABLE_PRIVATE_RANGES):  # type: ignore[arg-type]
            raise ValueError(f"{value} must be inside a private range: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 "
                             "or fc00::/7")
        lo, hi = IPV4_PREFIX_BOUNDS
        if net.version == 4 and not lo <= net.prefixlen <= hi:
            raise ValueError(f"{value} must have a prefix length between /{lo} and /{hi}")
    return str(net)


def world_open(sources: Iterable[str]) -> bool:
    """True when these CIDR sources admit a whole address family, or a /8 (IPv4) or /32 (IPv6) of public space.

    Per IP version, the public (non-private) sources are collapsed and their sizes summed, so
    splitting 0.0.0.0/0 into 0.0.0.0/1 + 128.0.0.0/1 (or many smaller pieces) still counts.
    IPv6 sources are first read for the IPv4 space they reach through IPv4-mapped addresses
    (`::ffff:0:0/96` is every IPv4 address, and Python calls it private), and any set of
    sources, private or not, that covers every address of a family is the world.
    """
    nets: dict[int, list[_Net]] = {4: [], 6: []}
    for source in sources:
        net = ipaddress.ip_network(source, strict=False)
        nets[net.version].append(net)
        if isinstance(net, ipaddress.IPv6Network) and (mapped := _mapped_ipv4(net)) is not None:
            nets[4].append(mapped)
    return any(_covers_family(version, found) or _public_size(found) >= WORLD_THRESHOLD[version]
               for version, found in nets.items() if found)


def _mapped_ipv4(net: ipaddress.IPv6Network) -> ipaddress.IPv4Network | None:
    """The IPv4 network an IPv6 source reaches through IPv4-mapped addresses, or None."""
    if not net.overlaps(_IPV4_MAPPED):
        return None
    if net.prefixlen <= _IPV4_MAPPED.prefixlen:
        return _ALL_IPV4
    low = int(net.network_address) & 0xFFFFFFFF
    return ipaddress.IPv4Network((low, net.prefixlen - _IPV4_MAPPED.prefixlen))


def _covers_family(version: int, nets: list[_Net]) -> bool:
    """Whether the networks together hold every address of their family (collapsed into /0)."""
    return list(ipaddress.collapse_addresses(nets)) == [_ALL_IPV4 if version == 4 else _ALL_IPV6]  # type: ignore[type-var]


def _public_size(nets: list[_Net]) -> int:
    """How many public (non-private) addresses the networks hold, overlaps counted once."""
    public = [n for n in nets if not n.is_private]
    collapsed: list[_Net] = list(ipaddress.collapse_addresses(public)) if public else []  # type: ignore[type-var]
    return sum(n.num_addresses for n in collapsed)


def port(value: object) -> int | str:
    """One port (1-65535) or a range 'a-b' with a <= b; returns an int or the normalised 'a-b'."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"port {value!r} must be a number or a range like 8000-8080")
    text = str(value).strip()
    lo, _, hi = text.partition("-")
    if not lo.isdigit() or (hi and not hi.isdigit()) or not lo.isascii() or not hi.isascii():
        raise ValueError(f"port {text!r} must be a number or a range like 8000-8080")
    if not 1 <= int(lo) <= 65535 or (hi and not int(lo) <= int(hi) <= 65535):
        raise ValueError(f"port {text!r} must be within 1-65535")
    return int(lo) if not hi else f"{int(lo)}-{int(hi)}"


def port_range(value: int | str) -> tuple[int, int]:
    """A validated port or 'a-b' range as an inclusive (from, to) pair."""
    lo, _, hi = str(value).partition("-")
    return int(lo), int(hi or lo)


def non_negative_number(value: object) -> bool:
    """True for a finite int/float >= 0 (bools excluded)."""
    return (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            and value >= 0)


def parse_tags(text: str) -> dict[str, str]:
    """Parse 'k=v, k2=v2' as typed in a modal; errors are InvalidInput naming the bad pair or key."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.replace("\n", ",").split(","))):
        if "=" not in part:
            raise InvalidInput(field="tags", rule=f"tag {part!r} must look like key=value")
        key, val = (s.strip() for s in part.split("=", 1))
        if key in out:
            raise InvalidInput(field=f"tags.{key}", rule=f"tag key {key!r} is given more than once")
        out[key] = val
    try:
        return tags(out)
    except ValueError as exc:
        raise InvalidInput(field="tags", rule=str(exc)) from None
