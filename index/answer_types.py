"""What kind of thing a question asks for, and whether a passage holds one: a "when" question is
answered by a passage with a date in it, a "how many" question by one with a number.

English only, and deliberately coarse: a passage of the right type gets a small bonus, never a pass.
"""

from __future__ import annotations

import re

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}\b|\d{{1,2}}\s+(?:{_MONTHS})\b|(?:{_MONTHS})\s+(?:19|20)\d\d\b"
    r"|(?:19|20)\d\d\b|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
    r"|(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|yesterday|today|tomorrow|tonight|(?:last|next|this)\s+(?:week|month|year|spring|summer|autumn|fall|winter)"
    r"|\d+\s+(?:days?|weeks?|months?|years?)\s+(?:ago|later|before|after|earlier))",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    "|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand"
    "|million|billion|dozen|dozens|hundreds|thousands|millions|half|twice|single|double|triple"
)
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)

_WHEN = re.compile(
    r"^\s*(?:when\b|what (?:date|day|time|year|month)\b|which (?:date|day|year|month)\b|since when\b)"
    r"|\b(?:on what|in what|what) (?:date|day|year|month)\b",
    re.IGNORECASE,
)
_HOW_MANY = re.compile(
    r"\bhow (?:many|much|long|old|far|often|big|large|tall|fast)\b|\bwhat (?:number|percentage|share|amount)\b",
    re.IGNORECASE,
)

DATE = "date"
NUMBER = "number"


def expected_type(question: str) -> str | None:
    """DATE for "when ..." questions, NUMBER for "how many/much/long ..." ones, else None."""
    if _WHEN.search(question):
        return DATE
    if _HOW_MANY.search(question):
        return NUMBER
    return None


def holds(text: str, kind: str) -> bool:
    """Whether `text` has something of that kind: a date for DATE, a number for NUMBER."""
    pattern = _DATE if kind == DATE else _NUMBER
    return pattern.search(text) is not None
