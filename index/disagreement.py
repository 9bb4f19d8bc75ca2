"""Where two outlets tell the same fact with different values: a number, a count, a date, a day.

Corroboration (index.answering) pairs a snippet's sentence with another outlet's sentence that
tells the same fact. This module reads the facts' values out of both sentences and says where
they differ. Values are compared only when each sentence holds exactly one value of that kind
and unit ("87 per cent" against "91 per cent"; "two days" against "2 days" agree), so two
sentences that mention several figures ("asking for 6 per cent, offered 3 per cent") are never
taken for a disagreement: a missed one is better than a false one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.lexical import STOPWORDS, stem

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip
_SCALES = {"thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "k": 1e3}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}  # fmt: skip
BARE = ""  # the key of a number without a unit
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{_MONTH})\.?|(?P<m2>{_MONTH})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?)"
    rf"(?:,?\s+(?P<y>\d{{4}}))?\b",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(rf"\b(?:on|last|next|this)\s+(?P<day>{'|'.join(_WEEKDAYS)})\b", re.IGNORECASE)
_AMOUNT = re.compile(
    rf"(?P<currency>[£$€¥₩])?\s?\b(?P<number>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?(?!\d)|(?:{'|'.join(_NUMBER_WORDS)})\b)"
    rf"(?:\s?(?P<scale>{'|'.join(_SCALES)})\b)?"
    r"(?:\s?(?P<percent>%|per\s?cent|percent)|\s+(?:of\s+)?(?P<unit>[a-z][a-z-]+))?"
    r"(?:\s+(?:a|an|per|each)\s+(?P<rate>[a-z]+))?",  # "£2,600 a day" is a rate, not a total
    re.IGNORECASE,
)
DATED = frozenset({"date", "weekday", "year"})  # the keys of when something happened


@dataclass(frozen=True)
class Value:
    """One value in a sentence: what kind of thing it measures, its meaning, and where it is written."""

    key: str  # what is measured: "%", "£", "day", "date", "weekday"…; only equal keys are compared
    amount: float | tuple[int, ...] | str
    start: int  # offsets in the sentence
    end: int


def values(sentence: str) -> list[Value]:
    """The numbers with their units (key BARE when none is written), the dates and the weekdays
    a sentence gives."""
    found: list[Value] = []
    taken: list[tuple[int, int]] = []
    for match in _DATE.finditer(sentence):
        month = _MONTHS[(match["m1"] or match["m2"]).lower()]
        day = int(match["d1"] or match["d2"])
        if 1 <= day <= 31:
            year = int(match["y"]) if match["y"] else 0
            found.append(Value("date", (month, day) + ((year,) if year else ()), match.start(), match.end()))
            taken.append(match.span())
    for match in _WEEKDAY.finditer(sentence):
        found.append(Value("weekday", match["day"].lower(), match.start("day"), match.end("day")))
    for match in _AMOUNT.finditer(sentence):
        if any(start <= match.start("number") < end for start, end in taken):
            continue  # the day of a date
        found.append(_amount(match))
    return found


def _amount(match: re.Match[str]) -> Value:
    word = match["number"].lower()
    number = float(_NUMBER_WORDS[word]) if word in _NUMBER_WORDS else float(word.replace(",", ""))
    if match["scale"]:
        number *= _SCALES[match["scale"].lower()]
    if match["percent"]:
        key = "%"
    elif match["currency"]:
        key = match["currency"]
    elif match["unit"] and match["unit"].lower() not in STOPWORDS:
        key = stem(match["unit"].lower())  # "days" and "day", "riders" and "rider"
    elif word.isdigit() and len(word) == 4 and 1800 <= number <= 2100:
        key = "year"
    else:
        key = BARE  # a number the sentence does not say is of what ("from eleven hours to eight")
    ends = ("percent",) if key == "%" else ("scale", "number") if key in "£$€¥₩year" else ("unit",)
    end = next(match.end(group) for group in (*ends, "number") if match[group])
    if match["rate"] and key != BARE:
        key, end = f"{key}/{stem(match['rate'].lower())}", match.end("rate")
    start = match.start("currency") if match["currency"] else match.start("number")
    return Value(key, number, start, end)


@dataclass(frozen=True)
class Difference:
    """The same kind of value, different in two sentences: offsets in each sentence."""

    key: str
    first: tuple[int, int]
    second: tuple[int, int]


def differences(first: str, second: str) -> list[Difference]:
    """Values of one key that each sentence gives exactly once, and that differ. A sentence with a
    number of no stated unit may be giving a second value of any kind, elliptically ("cut from
    eleven hours to eight"): its values are not compared."""
    mine, theirs = _by_key(values(first)), _by_key(values(second))
    if BARE in mine or BARE in theirs:
        return []
    found = []
    for key in mine.keys() & theirs.keys():
        a, b = mine[key], theirs[key]
        if len(a) == 1 and len(b) == 1 and not _same(a[0], b[0]):
            found.append(Difference(key, (a[0].start, a[0].end), (b[0].start, b[0].end)))
    return sorted(found, key=lambda d: d.first)


def _by_key(found: list[Value]) -> dict[str, list[Value]]:
    grouped: dict[str, list[Value]] = {}
    for value in found:
        grouped.setdefault(value.key, []).append(value)
    return grouped


def _same(a: Value, b: Value) -> bool:
    if a.key == "date":  # "14 June" and "14 June 2025" agree; a year only counts when both give it
        first, second = a.amount, b.amount
        assert isinstance(first, tuple)
        assert isinstance(second, tuple)
        shared = min(len(first), len(second))
        return first[:shared] == second[:shared]
    return a.amount == b.amount
