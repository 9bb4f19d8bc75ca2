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

_WHO = re.compile(
    r"^\s*(?:who|whom|whose)\b|\b(?:which|what) (?:person|people|man|woman|director|member)\b", re.IGNORECASE
)
# A name: capitalised words, not counting the first word of a sentence or line.
_NAME = re.compile(r"(?<![.!?:\n\"“‘'] )(?<!^)(?<!\n)\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")

DATE = "date"
NUMBER = "number"
PERSON = "person"


def expected_type(question: str) -> str | None:
    """DATE for "when ..." questions, NUMBER for "how many/much/long ...", PERSON for "who ...", else None."""
    if _WHEN.search(question):
        return DATE
    if _HOW_MANY.search(question):
        return NUMBER
    if _WHO.search(question):
        return PERSON
    return None


def holds(text: str, kind: str, question: str = "") -> bool:
    """Whether `text` has something of that kind that the question does not already give: a date for
    DATE, a number for NUMBER, a name (capitalised words inside a sentence) for PERSON."""
    if kind == PERSON:
        asked = question.lower()
        return any(m.group().lower() not in asked for m in _NAME.finditer(text))
    pattern = _DATE if kind == DATE else _NUMBER
    asked_values = {m.group().lower() for m in pattern.finditer(question)}
    return any(m.group().lower() not in asked_values for m in pattern.finditer(text))


_COUNT = r"(?:two|three|four|five|six|seven|eight|nine|ten|several|\d{1,2})"
# "gave three reasons", "set out 3 grievances": a count, then (after at most two words) a plural noun.
_ANNOUNCE = re.compile(rf"\b{_COUNT}\s+(?:[a-z]+\s+){{0,2}}?[a-z]{{3,}}s\b", re.IGNORECASE)
# A list item starts its line: "1.", "2)", "- ", "• ", or "First,", "Second,", ... "Finally,".
_ITEM = re.compile(
    r"\s*(?:\(?\d{1,2}[.)]\s|[-•*–]\s|(?:first|second|third|fourth|fifth|sixth|finally|lastly)\b)",
    re.IGNORECASE,
)
MAX_ITEMS = 10


def announces(sentence: str) -> bool:
    """Whether a sentence introduces points that follow it: it ends with a colon, or counts them
    ("Taehyung gave three reasons", "she set out 3 demands")."""
    return sentence.rstrip().endswith(":") or _ANNOUNCE.search(sentence) is not None


def list_items(text: str, units: list[tuple[int, int]], announcer: int) -> list[int]:
    """Indexes in `units` (sentence spans of `text`) of the points announced by `units[announcer]`:
    the list items on the lines after it ("1. ...", "- ...", "First, ..."), or, after a sentence
    ending with a colon and no list, the sentence it introduces (a quote)."""
    items: list[int] = []
    gap = 0
    for i in range(announcer + 1, len(units)):
        start = units[i][0]
        if "\n" not in text[units[i - 1][1] : start]:
            continue  # only sentences that start a line can be list items
        if _ITEM.match(text, start):
            items.append(i)
            gap = 0
            if len(items) == MAX_ITEMS:
                break
        else:
            gap += 1
            if gap > 2:
                break
    if (
        not items
        and announcer + 1 < len(units)
        and text[units[announcer][0] : units[announcer][1]].rstrip().endswith(":")
    ):
        items.append(announcer + 1)
    return items
