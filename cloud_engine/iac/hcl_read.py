"""Reading HCL back for the render's round-trip check: python-hcl2's grammar, our own small walk.

Why not `hcl2.loads`: the check runs before every plan, and most of `hcl2.loads`' time is
spent in work the check never uses. It records each node's line and column (for hcl2's
reconstructor), then builds a typed rule tree and serializes it, re-printing every
expression as `${...}` text. What decides whether our escaping holds is the part that
stays hcl2's own: its grammar, lexer and post-lexer decide where each string literal
starts and ends and whether it holds an interpolation. `read_hcl` walks that parse tree
straight into the dict shape `hcl2.loads` returns, about 2.5 times faster in all. Where it
would print an expression, it puts `EXPRESSION`: the check only ever compares string
literals. Tests hold `read_hcl` equal to `hcl2.loads` (expressions aside) on every golden
file and on arbitrary escaped text.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import hcl2.parser
from hcl2.postlexer import PostLexer
from lark import Lark, Token, Tree

__all__ = ["EXPRESSION", "read_hcl"]


class _Expression:
    """Stands for any value that is not a literal, object or tuple (references, calls, templates)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EXPRESSION"


EXPRESSION = _Expression()
_LITERAL_VALUES = {"true": True, "false": False, "null": None}
_READER_LOCK = threading.Lock()  # renders run in worker threads; build (and write the cache) once
_reader: Lark | None = None


def _hcl2_reader() -> Lark:
    """python-hcl2's own grammar and post-lexer, built without line/column tracking.

    The built tables are cached beside hcl2's own cache, in its package directory: Lark's
    default cache is a pickle in the shared temp dir, which another local user could
    plant. Where that directory is read-only the tables are built in memory (about 2 s, once).
    """
    global _reader
    with _READER_LOCK:
        if _reader is None:
            cache = Path(hcl2.parser.__file__).with_name(".lark_cache_cloud_engine.bin")
            _reader = Lark.open("hcl2.lark", rel_to=hcl2.parser.__file__, parser="lalr", propagate_positions=False,
                                postlex=PostLexer(), cache=str(cache) if os.access(cache.parent, os.W_OK) else False)
        return _reader


def read_hcl(text: str) -> dict[str, object]:
    """The dict `hcl2.loads(text)` returns, with EXPRESSION for every non-literal expression.

    String literals are their source text, quotes and escapes kept (as hcl2 8.x gives
    them); blocks are lists under their type, nested by label, marked `__is_block__`.
    Raises ValueError for a duplicate attribute or object key (Terraform refuses those
    too) and lark's errors for text the grammar rejects.
    """
    # hcl2.loads appends the same newline: its grammar cannot match end of file.
    start = _hcl2_reader().parse(text + "\n")
    body = start.children[0]
    assert isinstance(body, Tree)  # the grammar's start rule is one body
    return _body(body)


def _body(body: Tree[Any]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in body.children:
        if item.data == "attribute":
            name, _eq, value = item.children
            _put(out, _name(name), _value(value))
        elif item.data == "block":
            head: list[Any] = []  # names and quoted labels (EXPRESSION for a templated one)
            inner: dict[str, object] = {}
            for part in item.children:
                if not isinstance(part, Tree) or part.data == "new_line_or_comment":
                    continue
                if part.data == "body":
                    inner = _body(part)
                else:
                    head.append(_string(part) if part.data == "string" else _name(part))
            inner["__is_block__"] = True
            for label in reversed(head[1:]):
                inner = {label: inner}
            blocks = out.setdefault(head[0], [])
            if not isinstance(blocks, list):
                raise ValueError(f"{head[0]} is both an attribute and a block")
            blocks.append(inner)
    return out


def _put(mapping: dict[Any, object], key: object, value: object) -> None:
    if key in mapping:
        raise ValueError(f"{key} is defined twice")
    mapping[key] = value


def _name(node: Tree[Any]) -> str:
    """An identifier, keyword or true/false/null used as a name: its text."""
    token = node.children[0]
    assert isinstance(token, Token)
    return str(token.value)


def _string(node: Tree[Any]) -> str | _Expression:
    """A quoted string's source text, or EXPRESSION when it holds an interpolation or directive."""
    parts = ['"']
    for part in node.children:
        if isinstance(part, Tree):  # string_part: one token, or a template tree
            piece = part.children[0]
            if not isinstance(piece, Token):
                return EXPRESSION
            parts.append(piece.value)
    parts.append('"')
    return "".join(parts)


def _value(node: Tree[Any]) -> object:
    if node.data == "unary_op":  # `-5` lexes as minus and 5; hcl2 reads it as the number
        operator, operand = node.children
        number = _value(operand) if operator == "-" else None
        return -number if type(number) in (int, float) else EXPRESSION  # type: ignore[operator]
    if node.data != "expr_term" or len(node.children) != 1:  # operators, conditionals, parentheses
        return EXPRESSION
    term = node.children[0]
    if not isinstance(term, Tree):
        return EXPRESSION
    kind = term.data
    if kind == "string":
        return _string(term)
    if kind in ("int_lit", "float_lit"):
        text = _name(term)
        return int(text) if kind == "int_lit" else float(text)
    if kind == "literal_value":
        return _LITERAL_VALUES[_name(term)]
    if kind == "tuple":
        return [_value(child) for child in term.children
                if isinstance(child, Tree) and child.data != "new_line_or_comment"]
    if kind == "object":
        out: dict[str | _Expression, object] = {}
        for elem in term.children:
            if isinstance(elem, Tree) and elem.data == "object_elem":
                key_node, _sep, value = elem.children
                _put(out, _object_key(key_node.children[0]), _value(value))
        return out
    return EXPRESSION


def _object_key(key: Tree[Any]) -> str | _Expression:
    """`name`, `"quoted"` or a keyword, as hcl2 spells the key; a computed key is its own EXPRESSION."""
    if key.data == "keyword":
        return _name(key)
    if key.data == "expr_term" and len(key.children) == 1 and isinstance(term := key.children[0], Tree):
        if term.data in ("identifier", "literal_value"):
            return _name(term)
        if term.data == "string" and isinstance(text := _string(term), str):
            return text
    return _Expression()  # a new one each time: two computed keys are two keys
