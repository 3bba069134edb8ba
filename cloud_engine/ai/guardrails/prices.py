"""Currency amounts in model prose are replaced: only the engine's catalogue prices are shown.

Why a regex and not a model instruction: a model quotes prices from its training data, in any
currency and form, and those figures contradict the catalogue. Every form below is one amount
and is replaced whole; a bare number ("4 vCPUs", "16 GB", "99.9%", "2026-11-15") is never a price.
"""

from __future__ import annotations

import re

# A model writes prices in many ways; each form below is one amount and is replaced whole.
# A bare number ("4 vCPUs", "16 GB", "99.9%", "2026-11-15") is never a price: only a number
# next to a currency symbol, an ISO code or a currency word is.
_AMOUNT = r"\d+(?:[,.]\d{3})*(?:[.,]\d+)?(?:\s?(?:[kKM]\b|bn\b|(?i:thousand|million|billion)\b))?"
_NUMBER_WORD = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
                r"fifty|sixty|seventy|eighty|ninety|hundred|thousand|million)")
_WORD_NUMBER = rf"(?i:(?:a\s+(?=hundred|thousand|million))?{_NUMBER_WORD}(?:[\s-]+(?:and\s+)?{_NUMBER_WORD})*)"
_SYMBOL = r"(?:(?:US|A|AU|C|CA|NZ|HK|S)?\$|€|£|¥|₹|₩)"
# Upper case only: "try 3 times" or "sar" in prose are not amounts.
_ISO = (r"(?:USD|EUR|GBP|JPY|CNY|RMB|CAD|AUD|NZD|CHF|SEK|NOK|DKK|PLN|CZK|HUF|INR|SGD|HKD|KRW|BRL|MXN|ZAR|"
        r"ILS|AED|SAR)")
_WORDS = (r"(?:(?:US|U\.S\.)\s)?(?i:dollars?|bucks|euros?|pounds?(?:\s+sterling)?|yen|yuan|rupees?|francs?|"
          r"kronor|kroner|cents?|pence)")
_PER = r"(?:\s?(?i:/|per|an?|each)\s?(?i:month|mo|hour|hr|h|year|yr|day|GB|TB|GiB|TiB|vCPU|request|query)\b)?"
_PRICE_RE = re.compile(
    rf"(?:[-+]?{_SYMBOL}\s?{_AMOUNT}"  # $12, US$3, €8, £1,200.50, ¥900
    rf"|(?<![\w.,]){_AMOUNT}\s?(?:{_SYMBOL}(?!\w)|{_ISO}\b|{_WORDS}\b)"  # 12 €, 9 USD, 9USD, 12 dollars
    rf"|\b{_ISO}\s?{_AMOUNT}"  # USD 9, EUR 12.50, CHF 40
    rf"|\b{_WORD_NUMBER}\s+{_WORDS}\b)"  # twelve dollars, a hundred euros
    rf"{_PER}")
PRICE_PLACEHOLDER = "(see the engine's estimate)"


def strip_prices(text: str) -> str:
    """Replace currency amounts in model prose: only the engine's catalogue prices are shown."""
    return _PRICE_RE.sub(PRICE_PLACEHOLDER, text)
