"""Masking secrets in streamed output: the values the engine knows, PEM/PGP blocks, escaped forms.

Why apart: the same masker serves the line stream, the runner's plan reads and the
cut of over-long lines; it knows nothing of processes or sinks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cloud_engine.iac.sinks import strip_ansi
from cloud_engine.logging_setup import MASK, secret_free_cut, secret_literals
from cloud_engine.secret_text import escaped_spans, known_secrets, mask_secrets

__all__ = ["LineMasker", "Masker"]

_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")  # PEM and PGP
_PEM_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")
# How far around a cut of an over-long line secrets are looked for (at least the longest literal).
_CUT_WINDOW = 8 * 1024
_MAX_ESCAPED_CHAR = 12  # the longest JSON form of one character: a surrogate pair, \ud83d\ude00
_MAX_LINE_BYTES = 256 * 1024


class Masker:
    """Hides secrets in output: registered secrets, credential-shaped strings and extra literals.

    The extra literals are what only the caller knows: provider credentials passed in the
    child's environment and values of sensitive Terraform variables. `add` may be called
    while a phase runs (e.g. after a plan reveals sensitive values). Terraform prints JSON,
    so each secret is also hidden in its JSON-escaped forms (`\\/`, `\\u002f`, `\\"`, ...).
    """

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self._extra: set[str] = set()
        self.add(extra)

    def add(self, values: Iterable[str]) -> None:
        """Remember more literal values to hide (shorter than 4 characters are ignored).

        A multi-line value also adds each of its lines, because output is masked line by line.
        """
        self._extra.update(s for v in values if isinstance(v, str) for s in secret_literals(v) if len(s) >= 4)

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._extra)

    def __call__(self, text: str) -> str:
        return mask_secrets(text, extra=self._extra)

    def safe_cut(self, text: str, index: int) -> int:
        """The largest position <= `index` where cutting `text` splits no secret this masker hides."""
        literals = self._extra | known_secrets()
        while True:
            index = secret_free_cut(text, index, extra=literals)
            starts = [start for start, end in escaped_spans(text, literals) if start < index < end]
            if not starts:
                return index
            index = min(starts)

    @property
    def cut_window(self) -> int:
        """Bytes to see on each side of a cut to be sure no secret straddles it (escaped forms included)."""
        return max(_CUT_WINDOW, *(_MAX_ESCAPED_CHAR * len(v) for v in self._extra | known_secrets()), 0)

    def line_masker(self) -> LineMasker:
        """A stateful per-stream masker that also hides multi-line private keys."""
        return LineMasker(self)


class LineMasker:
    """Masks one stream line by line, remembering whether it is inside a PEM private key.

    `mask_secrets` hides a PEM block when it sees all of it; a line stream only ever shows
    one line, so the key body lines after `-----BEGIN ... PRIVATE KEY-----` would leak
    without this state.
    """

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._in_key = False

    def __call__(self, line: str) -> str:
        line = strip_ansi(line)
        head = ""
        if self._in_key:
            end = _PEM_END.search(line)
            if end is None:
                return MASK
            self._in_key = False
            head, line = MASK, line[end.end() :]
        return head + self._mask_outside_key(line)

    def _mask_outside_key(self, line: str) -> str:
        """Mask text that starts outside a key; the last BEGIN decides if the next line is inside one.

        Earlier keys on the line are whole (BEGIN..END) and `mask_secrets` hides them; only a
        BEGIN with no END after it leaves the stream inside a key.
        """
        begins = list(_PEM_BEGIN.finditer(line)) if "-----BEGIN " in line else []
        if begins and _PEM_END.search(line, begins[-1].end()) is None:
            self._in_key = True
            return self._masker(line[: begins[-1].start()]) + MASK
        return self._masker(line)

    def safe_cut(self, text: str, index: int) -> int:
        """See `Masker.safe_cut`."""
        return self._masker.safe_cut(text, index)

    @property
    def cut_window(self) -> int:
        """See `Masker.cut_window`."""
        return self._masker.cut_window


def _split_lines(data: bytes, masker: LineMasker) -> tuple[list[bytes], bytes]:
    """Complete lines and the unfinished rest; an over-long rest is cut into a line of its own.

    The cap bounds memory when a child prints megabytes without a newline. Splitting on
    b"\n" never cuts a UTF-8 character (its bytes are all >= 0x80); a cut of an over-long
    rest falls on a character boundary and outside any secret, since each piece is masked
    on its own. The cut waits until `masker.cut_window` bytes follow it, so a secret
    straddling it is seen whole.
    """
    *complete, rest = data.split(b"\n")
    if len(rest) <= _MAX_LINE_BYTES:
        return complete, rest
    window = masker.cut_window
    while len(rest) > _MAX_LINE_BYTES + window:
        cut = _secret_free_cut(rest, _MAX_LINE_BYTES, window, masker)
        complete.append(rest[:cut])
        rest = rest[cut:]
    return complete, rest


def _secret_free_cut(data: bytes, limit: int, window: int, masker: LineMasker) -> int:
    """A byte offset <= `limit` on a UTF-8 character boundary that splits no secret.

    Only `window` bytes either side of `limit` are decoded and searched; surrogateescape
    keeps invalid bytes, so the text maps back to exactly the same bytes.
    """
    cut = _char_start(data, limit)
    low = _char_start(data, max(1, cut - window))
    text = data[low : _char_start(data, cut + window)].decode("utf-8", "surrogateescape")
    index = len(data[low:cut].decode("utf-8", "surrogateescape"))
    safe = masker.safe_cut(text, index)
    return low + len(text[:safe].encode("utf-8", "surrogateescape"))


def _char_start(data: bytes, index: int) -> int:
    """`index`, moved back to the first byte of the UTF-8 character it falls in."""
    for _ in range(3):  # a character has at most 3 continuation bytes
        if 0 < index < len(data) and data[index] & 0xC0 == 0x80:
            index -= 1
    return index
