"""Turning what a user types into safe FTS5 search words: stop words, typos, synonyms, MATCH syntax.

Only runs of letters and digits survive, so quotes, `*`, `:`, `^`, parentheses and emoji never
reach FTS5 as syntax; every term is quoted as a plain phrase. With the index's vocabulary, a
word it does not know is spell-corrected (`spelling.py`); phrase concepts ("too big") add
their topic words as terms, word synonyms add weaker expansions (`synonyms.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cloud_engine.ai.knowledge.spelling import Vocabulary
from cloud_engine.ai.knowledge.synonyms import SYNONYMS, phrase_concepts

MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 24

# Words that carry no topic in the way users ask ("how do I make my ... cheaper?").
_STOP_WORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being below
    best between both but by can could did do does doing done down during each else even ever
    every few for from further get gets getting give go going good got had has have having he her
    here hers how i if in into is it its itself just keep know let like make makes me might more
    most much must my myself need needs no nor not now of off on once only or other our ours out
    over own please practice practices really recommend recommended right same shall she should
    so some still such tell than that the their theirs them then there these they thing things
    this those through to too under until up us use used using very want was way ways we well
    were what when where whether which while who whom why will with within without would you
    your yours yourself
    """.split()
)

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A user query reduced to safe search words: what they typed (corrected), and synonyms we added."""

    terms: tuple[str, ...]
    expansions: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.terms and not self.expansions


def _corrected(words: list[str], vocabulary: Vocabulary | None) -> tuple[list[str], list[tuple[str, str]]]:
    if vocabulary is None:
        return words, []
    out: list[str] = []
    fixes: list[tuple[str, str]] = []
    for word in words:
        if word in SYNONYMS:
            out.append(word)
            continue
        fixed = vocabulary.correct(word)
        if fixed != [word]:
            fixes.append((word, " ".join(fixed)))
        out.extend(fixed)
    return out, fixes


def parse_query(query: str, vocabulary: Vocabulary | None = None) -> ParsedQuery:
    """Lower-cased search words of `query`, with punctuation, operator syntax and stop words removed.

    The FTS5 keywords AND, OR and NOT are stop words, and NEAR or any other word is later
    quoted as a plain phrase. With a `vocabulary`, unknown words are corrected against it.
    Phrase concepts join the terms; synonyms of the terms become `expansions` (never
    repeating a term). Both are deduplicated and capped in total.
    """
    text = query[:MAX_QUERY_CHARS]
    words = [w.lower() for w in _TOKEN_RE.findall(text)]
    typed = [w for w in dict.fromkeys(words) if w not in _STOP_WORDS]
    corrected, fixes = _corrected(typed, vocabulary)
    concepts = phrase_concepts(text)
    terms = list(dict.fromkeys([*concepts, *corrected]))[:MAX_QUERY_TERMS]  # concepts survive the cap
    expansions: list[str] = []
    for word in terms:
        for extra in SYNONYMS.get(word, ()):
            if extra not in terms and extra not in expansions:
                expansions.append(extra)
    return ParsedQuery(tuple(terms), tuple(expansions[: max(0, MAX_QUERY_TERMS - len(terms))]), tuple(fixes))


def query_terms(query: str) -> list[str]:
    """Every word `search` looks for: the user's words first, then synonym expansions."""
    parsed = parse_query(query)
    return [*parsed.terms, *parsed.expansions]


def match_expression(terms: Iterable[str]) -> str | None:
    """An FTS5 MATCH expression OR-ing each term as a quoted phrase, or None if there are none."""
    phrases = ['"' + term.replace('"', '""') + '"' for term in terms]
    return " OR ".join(phrases) if phrases else None


def build_match_query(query: str) -> str | None:
    """The MATCH expression for every word of `query` (terms and expansions), or None."""
    return match_expression(query_terms(query))
