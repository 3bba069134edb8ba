"""Figures a model may say: only those in the engine's own data, never one it made up.

Why: a savings figure a model invented looks exactly like a real one. Every number in a
model's prose that is not one of the engine's figures (recommendations and summary, with
their rounding) is replaced by `REMOVED`; numbers inside bill text (resource and service
names, tags) do not count, or an uploaded file could vouch for an invented figure.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)


NUMBER_RE = re.compile(r"(?<![\w.\-/])[-+]?\$?\d[\d,]*(?:\.\d+)?%?")
REMOVED = "[figure not in the data]"



# Strings the engine writes itself, so a number inside one is the engine's figure. Every other
# string can come from an uploaded bill (resource and service names, tags, descriptions): a
# number planted there ("web 48,000 USD saving") must not let the model's "$48,000" through.
_REC_TEXT_KEYS = ("id", "action", "needs")
_RISK_TEXT_KEYS = ("reason",)
_SUMMARY_TEXT_KEYS = ("month", "as_of", "start", "end", "day", "method")
# Engine-written evidence strings that carry a copy of bill text.
_EVIDENCE_BILL_KEYS = frozenset({"state_tag", "tags", "tag", "name", "service", "description", "resource_name"})
# Record fields holding bill text, which engine strings may quote (a commitment's action names its service).
_REC_BILL_KEYS = ("resource_name", "resource_id", "provider", "region", "suggested_machine_type", "target_region")


def input_figures(recs: Iterable[Mapping[str, Any]] = (), summary: Mapping[str, Any] | None = None) -> list[float]:
    """The figures the review may show: every numeric value, plus numbers inside engine-written text.

    Numbers inside bill text are never figures, and neither is a number in engine text that
    sits inside a quoted piece of bill text (a service name in a commitment's action).
    """
    out: list[float] = []
    for rec in recs:
        _numeric(rec, out)
        bill = _bill_texts(rec)
        for key in _REC_TEXT_KEYS:
            _texts(rec.get(key), bill, out)
        risk = rec.get("risk")
        if isinstance(risk, Mapping):
            for key in _RISK_TEXT_KEYS:
                _texts(risk.get(key), bill, out)
        evidence = rec.get("evidence")
        if isinstance(evidence, Mapping):
            for key, value in evidence.items():
                if str(key).lower() not in _EVIDENCE_BILL_KEYS:
                    _texts(value, bill, out)
    if summary:
        _numeric(summary, out)
        _summary_texts(summary, out)
    return out


def _numeric(value: Any, out: list[float]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        out.append(float(value))
    elif isinstance(value, Mapping):
        for v in value.values():
            _numeric(v, out)
    elif isinstance(value, list | tuple | set):
        for v in value:
            _numeric(v, out)


def _bill_texts(rec: Mapping[str, Any]) -> list[str]:
    texts = [str(rec[k]) for k in _REC_BILL_KEYS if rec.get(k)]
    texts += [part for part in str(rec.get("resource_id") or "").split(":") if part]
    evidence = rec.get("evidence")
    if isinstance(evidence, Mapping):
        texts += [str(v) for k, v in evidence.items() if str(k).lower() in _EVIDENCE_BILL_KEYS and v]
    return sorted(set(texts), key=len, reverse=True)


def _texts(value: Any, bill: Sequence[str], out: list[float]) -> None:
    """Numbers in engine text (a string or a list of strings), skipping any that overlap quoted bill text."""
    for text in [value] if isinstance(value, str) else value if isinstance(value, list | tuple) else []:
        if not isinstance(text, str):
            continue
        quoted = [(m.start(), m.end()) for b in bill for m in re.finditer(re.escape(b), text)]
        for m in NUMBER_RE.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in quoted):
                continue
            number = _to_float(m.group(0))
            if number is not None:
                out.append(number)


def _summary_texts(summary: Mapping[str, Any], out: list[float]) -> None:
    """Dates and method names of a forecast, cost summary or anomaly report (group keys and services are bill text)."""
    for key in _SUMMARY_TEXT_KEYS:
        _texts(summary.get(key), (), out)
    for key in ("anomalies", "items"):
        for item in summary.get(key) or ():
            if isinstance(item, Mapping):
                for k in _SUMMARY_TEXT_KEYS:
                    _texts(item.get(k), (), out)


def _to_float(text: str) -> float | None:
    try:
        return float(text.replace("$", "").replace(",", "").replace("%", "").lstrip("+"))
    except ValueError:
        return None


def _decimals(text: str) -> int:
    core = text.replace("%", "")
    return len(core.split(".", 1)[1]) if "." in core else 0


def number_allowed(text: str, figures: Sequence[float]) -> bool:
    """True when `text` (as written) is one of the input figures, at the precision written.

    A fraction 0..1 may also appear as a percentage (confidence 0.8 as "80%").
    """
    value = _to_float(text)
    if value is None:
        return False
    places = _decimals(text)
    for fig in figures:
        candidates = [fig] + ([fig * 100] if -1 <= fig <= 1 else [])
        if any(round(abs(c), places) == round(abs(value), places) for c in candidates):
            return True
    return False


def police_numbers(text: str, figures: Sequence[float]) -> str:
    """Replace every number in `text` that is not an input figure."""
    return NUMBER_RE.sub(lambda m: m.group(0) if number_allowed(m.group(0), figures) else REMOVED, text)
