"""Typo tolerance: correct a query word against the index's own vocabulary.

Why spell-correction and not an FTS5 trigram table: a trigram index would need a schema
migration and matches substrings of every word (noisy on a 190-entry corpus), while the
entries' own words are a small, exact dictionary. A word the index does not know is replaced
by the most frequent indexed word within a small edit distance (symmetric-delete lookup, with
transpositions counted as one edit), or split into two indexed words ("cloudsql" → "cloud sql").
Short words are left alone: at four letters one edit turns "shop" into "stop".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import combinations

MIN_CORRECT_LEN = 5  # shorter words are never corrected
MAX_CORRECT_LEN = 30  # nor are longer ones: no real word is, and the delete set grows as n²
TWO_EDITS_LEN = 8  # words this long may be two edits away
MIN_SPLIT_PART = 3


def _deletes(word: str, distance: int) -> set[str]:
    out = set()
    for n in range(1, distance + 1):
        for idx in combinations(range(len(word)), n):
            out.add("".join(ch for i, ch in enumerate(word) if i not in idx))
    return out


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap adjacent)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


class Vocabulary:
    """The words of the indexed entries with their frequencies, and a corrector over them."""

    def __init__(self, words: Iterable[str]) -> None:
        self.counts: Counter[str] = Counter(w for w in words if w.isalpha())
        self._deletes: dict[str, set[str]] | None = None

    def _by_delete(self) -> dict[str, set[str]]:
        """The symmetric-delete table, built on the first unknown word (most queries have none)."""
        if self._deletes is None:
            table: dict[str, set[str]] = {}
            for word in self.counts:
                if len(word) < MIN_CORRECT_LEN - 1:
                    continue
                for variant in {word} | _deletes(word, 2 if len(word) >= TWO_EDITS_LEN - 1 else 1):
                    table.setdefault(variant, set()).add(word)
            self._deletes = table
        return self._deletes

    def __contains__(self, word: object) -> bool:
        return word in self.counts

    def correct(self, word: str) -> list[str]:
        """The indexed word(s) `word` most likely meant; `[word]` when it is known or uncorrectable."""
        if word in self.counts or not MIN_CORRECT_LEN <= len(word) <= MAX_CORRECT_LEN or not word.isalpha():
            return [word]
        one = self._nearest(word, 1)
        if one:
            return [one]
        split = self._split(word)  # "cloudsql" is two words before it is two typos of "clouds"
        if split:
            return split
        two = self._nearest(word, 2) if len(word) >= TWO_EDITS_LEN else None
        return [two] if two else [word]

    def _nearest(self, word: str, distance: int) -> str | None:
        table = self._by_delete()
        candidates: set[str] = set()
        for variant in {word} | _deletes(word, distance):
            candidates |= table.get(variant, set())
        scored = [(d, -self.counts[c], c) for c in candidates if (d := edit_distance(word, c)) <= distance]
        return min(scored)[2] if scored else None

    def _split(self, word: str) -> list[str] | None:
        best: tuple[int, list[str]] | None = None
        for cut in range(MIN_SPLIT_PART, len(word) - MIN_SPLIT_PART + 1):
            left, right = word[:cut], word[cut:]
            if left in self.counts and right in self.counts:
                score = min(self.counts[left], self.counts[right])
                if best is None or score > best[0]:
                    best = (score, [left, right])
        return best[1] if best else None
