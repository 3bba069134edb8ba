"""The one escaping function for user text in HCL, its inverse, and a tiny HCL writer.

Why our own writer: python-hcl2's `dumps` copies strings verbatim, so a tag value holding
`"` or `${` would change the configuration's meaning. Here every Python `str` becomes a
string literal through `escape_hcl_string`; expressions (references, function calls) are
spelled out only by code as `Raw`. The writer lays text out the way `terraform fmt` does
(two-space indent, `=` aligned across runs of single-line attributes), so formatting is
normally a no-op. Every literal it writes is recorded as an `Expectation`, which the
render step checks against what python-hcl2's grammar reads back (`hcl_read.read_hcl`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from cloud_engine.errors import InvalidInput, TerraformError
from cloud_engine.iac.hcl_read import read_hcl

__all__ = [
    "Block",
    "Expectation",
    "Raw",
    "Written",
    "escape_hcl_string",
    "is_identifier",
    "unescape_hcl_literal",
    "verify_roundtrip",
    "write_file",
    "write_files",
]

_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Characters a reader cannot see or that reorder text (Trojan Source) are written as escapes.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cn"})
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def escape_hcl_string(text: str) -> str:
    """Return `text` as one complete, double-quoted HCL string literal that means exactly `text`.

    Backslash, quote, newline, CR and tab use their short escapes; `${` and `%{` become
    `$${` and `%%{` (or `\\u0024{` / `\\u0025{` when no `}` follows, see below) so they never
    start an interpolation or directive; other control, format and unassigned
    characters become \\uXXXX / \\UXXXXXXXX so nothing invisible hides in generated code.
    Lone surrogates cannot be encoded as UTF-8 (Terraform refuses them), so they are
    rejected with InvalidInput rather than silently replaced.
    """
    if not isinstance(text, str):
        raise InvalidInput(field="string", rule=f"expected text, got {type(text).__name__}")
    out: list[str] = ['"']
    length = len(text)
    for i, ch in enumerate(text):
        if ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif ch in "$%" and i + 1 < length and text[i + 1] == "{":
            # `$${` is HCL's escape, but python-hcl2 (our round-trip parser) only accepts it
            # when a `}` follows in the same literal; otherwise \u0024 / \u0025 means the
            # same to Terraform and keeps both parsers in agreement.
            out.append(ch + ch if "}" in text[i + 2 :] else f"\\u{ord(ch):04X}")
        elif ch.isascii() and ch.isprintable():
            out.append(ch)
        else:
            category = unicodedata.category(ch)
            if category == "Cs":
                raise InvalidInput(field="string", rule=f"lone surrogate U+{ord(ch):04X} cannot be encoded")
            if category in _ESCAPED_CATEGORIES:
                code = ord(ch)
                out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
            else:
                out.append(ch)
    out.append('"')
    return "".join(out)


def unescape_hcl_literal(literal: str) -> str:
    """Decode a quoted HCL string literal back to its text, refusing any template sequence.

    Why: python-hcl2 8.x returns string values as their source text (quotes and escapes
    kept), so the render round-trip needs an independent decoder. It follows HCL's rules:
    `$${` means `${`, `%%{` means `%{`, and an undoubled `${`/`%{` is an interpolation, which
    generated literals must never contain (ValueError).
    """
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError(f"not a quoted string literal: {literal!r}")
    body = literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i = _decode_escape(body, i, out)
            continue
        if ch in "$%" and body.startswith(ch + ch + "{", i):
            out.append(ch + "{")
            i += 3
            continue
        if ch in "$%" and body.startswith(ch + "{", i):
            raise ValueError(f"template sequence {ch}{{ at offset {i} in {literal!r}")
        if ch == '"':
            raise ValueError(f"unescaped quote at offset {i} in {literal!r}")
        out.append(ch)
        i += 1
    return "".join(out)


def _decode_escape(body: str, i: int, out: list[str]) -> int:
    selector = body[i + 1 : i + 2]
    simple = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
    if selector in simple:
        out.append(simple[selector])
        return i + 2
    width = {"u": 4, "U": 8}.get(selector)
    digits = body[i + 2 : i + 2 + width] if width else ""
    if not width or len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"invalid escape at offset {i} in {body!r}")
    out.append(chr(int(digits, 16)))
    return i + 2 + width


def is_identifier(name: str) -> bool:
    """Whether `name` is a valid HCL identifier (resource names, attribute and object keys)."""
    return bool(_IDENTIFIER_RE.fullmatch(name))


@dataclass(frozen=True)
class Raw:
    """An HCL expression written verbatim. Only code builds these, never from user text."""

    text: str


Value: TypeAlias = "str | int | float | bool | Raw | Sequence[Value] | Mapping[str, Value] | None"


@dataclass
class Block:
    """A block: `type "label" ... { body }`; attributes with value None are left out."""

    type: str
    labels: tuple[str, ...] = ()
    attrs: dict[str, Value] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Block:
        self.blocks.extend(blocks)
        return self


Step = tuple[str, str | int] | tuple[str, str, int]


@dataclass(frozen=True)
class Expectation:
    """A string literal the writer emitted and where it sits, as steps python-hcl2 can follow.

    Steps: ("block", type, index among same-typed siblings), ("label", text),
    ("key", attribute or object key), ("item", list index).
    """

    path: tuple[Step, ...]
    value: str


@dataclass
class Written:
    text: str
    expectations: list[Expectation]


def write_file(blocks: Iterable[Block]) -> Written:
    """Lay out top-level blocks separated by one blank line, in fmt style."""
    writer = _Writer()
    chunks = [writer.block(b, 0, ()) for b in blocks]
    return Written(text="\n".join(chunks), expectations=writer.expectations)


class _Writer:
    def __init__(self) -> None:
        self.expectations: list[Expectation] = []
        self._sibling_index: dict[tuple[tuple[Step, ...], str], int] = {}

    def block(self, block: Block, depth: int, parent: tuple[Step, ...]) -> str:
        if not is_identifier(block.type):
            raise InvalidInput(field="block", rule=f"{block.type!r} is not an identifier")
        # hcl2 groups same-typed blocks under one key as a list; record the position in it.
        slot = (parent, block.type)
        index = self._sibling_index.get(slot, 0)
        self._sibling_index[slot] = index + 1
        path: tuple[Step, ...] = (*parent, ("block", block.type, index))
        head = block.type
        for label in block.labels:
            path = (*path, ("label", label))
            head += " " + self._literal(label, path)
        pad = "  " * depth
        body = self._body(block, depth + 1, path)
        if not body:
            return f"{pad}{head} {{}}\n"
        return f"{pad}{head} {{\n{body}{pad}}}\n"

    def _body(self, block: Block, depth: int, path: tuple[Step, ...]) -> str:
        items: list[tuple[str, Value]] = [(k, v) for k, v in block.attrs.items() if v is not None]
        lines = self._assignments(items, depth, path)
        parts = [lines] if lines else []
        for child in block.blocks:
            parts.append(self.block(child, depth, path))
        return "\n".join(parts)

    def _assignments(self, items: list[tuple[str, Value]], depth: int, path: tuple[Step, ...]) -> str:
        """Write `key = value` lines, aligning `=` across each run of single-line values."""
        pad = "  " * depth
        out: list[str] = []
        run: list[tuple[str, str]] = []

        def flush() -> None:
            width = max((len(k) for k, _ in run), default=0)
            out.extend(f"{pad}{k.ljust(width)} = {v}\n" for k, v in run)
            run.clear()

        for key, value in items:
            step: Step = ("key", key)
            # A quoted key is checked where it sits: among its siblings, read back by its unescaped text.
            key_text = key if is_identifier(key) else self._literal(key, (*path, ("label", key)))
            value_text = self.value(value, depth, (*path, step))
            if "\n" in value_text:
                flush()
                out.append(f"{pad}{key_text} = {value_text}\n")
            else:
                run.append((key_text, value_text))
        flush()
        return "".join(out)

    def value(self, value: Value, depth: int, path: tuple[Step, ...]) -> str:
        if isinstance(value, Raw):
            return value.text
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, str):
            return self._literal(value, path)
        if isinstance(value, Mapping):
            pairs: list[tuple[str, Value]] = [(k, v) for k, v in value.items() if v is not None]
            if not pairs:
                return "{}"
            return "{\n" + self._assignments(pairs, depth + 1, path) + "  " * depth + "}"
        if isinstance(value, Sequence):
            texts = [self.value(v, depth + 1, (*path, ("item", i))) for i, v in enumerate(value)]
            if not any(isinstance(v, Mapping) for v in value) and all("\n" not in t for t in texts):
                return "[" + ", ".join(texts) + "]"
            inner = "  " * (depth + 1)
            return "[\n" + "".join(f"{inner}{t},\n" for t in texts) + "  " * depth + "]"
        raise InvalidInput(field="value", rule=f"cannot write {type(value).__name__} as HCL")

    def _literal(self, text: str, path: tuple[Step, ...]) -> str:
        self.expectations.append(Expectation(path=path, value=text))
        return escape_hcl_string(text)


def verify_roundtrip(file_name: str, written: Written) -> None:
    """Parse `written.text` with python-hcl2's grammar (`read_hcl`) and check every literal reads back as intended.

    Why: the escaper is the only guard between user text and HCL syntax; this independent
    check (a different parser plus our decoder) turns any escaping bug into a refused render
    (TerraformError phase "render") instead of a configuration that means something else.
    """
    problem = _roundtrip_problem(written.text, tuple(written.expectations))
    if problem is not None:
        raise TerraformError(phase="render", detail=f"{file_name}{problem}")


@functools.lru_cache(maxsize=16384)
def _roundtrip_problem(text: str, expectations: tuple[Expectation, ...]) -> str | None:
    """What is wrong with `text` read back against the literals it should hold (None: nothing).

    Cached by text and expectations together (the check is a pure function of both): a
    project's unchanged blocks are parsed once per process, not at every plan, and two
    literals that escape to the same text are still each checked against their own value.
    """
    try:
        tree = read_hcl(text)
    except Exception as exc:  # lark raises errors of many types; read_hcl adds ValueError
        return f" does not parse: {exc}"
    for exp in expectations:
        node: object = tree
        try:
            for step in exp.path:
                node = _follow(node, step)
            if exp.path[-1][0] == "label":
                got = exp.value
            elif isinstance(node, str):
                got = unescape_hcl_literal(node)
            else:
                raise TypeError(f"reads back {node!r}, not a string literal")
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            return f": {_where(exp)} not found as a literal ({exc})"
        if got != exp.value:
            return f": {_where(exp)} reads back {got!r}, expected {exp.value!r}"
    return None


def _follow(node: object, step: Step) -> object:
    kind = step[0]
    if kind == "block":
        return node[step[1]][step[2]]  # type: ignore[index,misc]
    if kind == "item":
        return node[step[1]]  # type: ignore[index]
    wanted = step[1]
    if not isinstance(node, dict):
        raise TypeError(f"expected a mapping at {wanted!r}")
    if kind == "key" and wanted in node:
        return node[wanted]
    for key, child in node.items():
        if isinstance(key, str) and key.startswith('"') and unescape_hcl_literal(key) == wanted:
            return child
    raise KeyError(wanted)


def _where(exp: Expectation) -> str:
    return "/".join(str(step[1]) for step in exp.path)


def write_files(files: Mapping[str, Sequence[Block]]) -> dict[str, str]:
    """Write each file's blocks and verify their round trip; raises TerraformError(phase="render").

    Why block by block: a file is its top-level blocks joined by blank lines, each written
    on its own (write_file), and a block that reads back whole on its own ends at its closing
    brace, so joining cannot change how any block reads. Checked one at a time, a plan that
    changes five of a project's two hundred resources parses five blocks again, not the
    whole project (`_roundtrip_problem` remembers the rest), and even a first render is
    quicker: python-hcl2 parses many small texts faster than one large one.
    """
    out: dict[str, str] = {}
    for name, blocks in files.items():
        chunks = []
        for block in blocks:
            written = write_file([block])
            verify_roundtrip(name, written)
            chunks.append(written.text)
        out[name] = "\n".join(chunks)
    return out
