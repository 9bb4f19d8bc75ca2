"""Sentence-aware splitting of article text into overlapping chunks with character offsets.

Offsets always point into the article's cleaned text, so any chunk or snippet can be quoted
exactly with `text[start:end]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

Span = tuple[int, int]

# Words that end in a full stop without ending the sentence.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "mt",
        "ft",
        "no",
        "vol",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "gen",
        "sen",
        "rep",
        "gov",
        "lt",
        "col",
        "sgt",
        "capt",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "fig",
        "approx",
        "dept",
        "est",
        "univ",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "u.s",
        "u.k",
    ]
)
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s)""")
_LINE = re.compile(r"[^\n]+")
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?…]*$")
_LIST_NUMBER_CHARS = 12  # "1." to "  2024." : longer text before a full stop is not a list number


_NEXT_CHARACTER = re.compile(r"[ \t]*(\S)")


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the punctuation that ends at `end` closes a sentence.

    Looks at a few characters either side of `end` only, never at the rest of the text, so that
    splitting stays linear in the length of the text (a million tiny sentences included).
    """
    following = _NEXT_CHARACTER.match(text, end)
    if following is not None and following.group(1).islower():
        return False
    if text[end - 1] not in ".\"'”’)]":
        return True
    word = _WORD_BEFORE.search(text[max(0, end - 12) : end].rstrip("\"'”’)]"))
    if word is None:
        return True
    token = word.group(1).rstrip(".").lower()
    if token in _ABBREVIATIONS:
        return False
    # A lone capital ("J. K. Rowling") is an initial, not the end of a sentence.
    return not (len(token) == 1 and token.isalpha() and word.group(1)[0].isupper())


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of `text[start:end]` as (start, end) offsets, each trimmed of spaces.

    A line break always ends a sentence: cleaned articles keep headings and paragraphs on
    lines of their own.
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    for line in _LINE.finditer(text, start, end):
        cursor = line.start()
        for boundary in _BOUNDARY.finditer(text, line.start(), line.end()):
            if boundary.start() - cursor <= _LIST_NUMBER_CHARS and text[cursor : boundary.start()].strip().isdigit():
                continue  # "1. ..." numbers a list item, it does not end a sentence
            if _ends_sentence(text, boundary.end()):
                spans.append((cursor, boundary.end()))
                cursor = boundary.end()
        spans.append((cursor, line.end()))
    return [trimmed for span in spans if (trimmed := _trim(text, span)) is not None]


def _trim(text: str, span: Span) -> Span | None:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _hard_split(text: str, span: Span, size: int) -> Iterator[Span]:
    """A sentence longer than a chunk, cut at word boundaries into pieces of at most `size`."""
    start, end = span
    while end - start > size:
        cut = text.rfind(" ", start, start + size)
        cut = cut if cut > start else start + size
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        yield start, end


@dataclass(frozen=True)
class ChunkingParams:
    size: int = 320
    overlap: int = 100

    def __post_init__(self) -> None:
        if self.size < 50:
            raise ValueError("chunk size must be at least 50 characters")
        if not 0 <= self.overlap < self.size:
            raise ValueError("chunk overlap must be at least 0 and smaller than the chunk size")


def chunk_spans(text: str, params: ChunkingParams) -> list[Span]:
    """Pack whole sentences into chunks of about `params.size` characters.

    Consecutive chunks share trailing sentences of up to `params.overlap` characters, so an
    answer that straddles a boundary is whole in at least one chunk.
    """
    sentences = [piece for span in sentence_spans(text) for piece in _hard_split(text, span, params.size)]
    chunks: list[Span] = []
    first = 0
    while first < len(sentences):
        last = first
        while last + 1 < len(sentences) and sentences[last + 1][1] - sentences[first][0] <= params.size:
            last += 1
        chunks.append((sentences[first][0], sentences[last][1]))
        if last + 1 >= len(sentences):
            break
        # Step back over whole sentences that fit in the overlap, always moving forward, and only
        # while the next chunk still reaches a new sentence: a chunk inside the last adds nothing.
        following = last + 1
        while (
            following - 1 > first
            and sentences[last][1] - sentences[following - 1][0] <= params.overlap
            and sentences[last + 1][1] - sentences[following - 1][0] <= params.size
        ):
            following -= 1
        first = following
    return chunks


_MIN_UNIT_CHARS = 40


def sentence_units(text: str) -> list[Span]:
    """The passages answers are scored and quoted by: the sentences of `text`, a very short one
    ("Oh?", "1.") joined to the sentence after it on the same line."""
    units: list[Span] = []
    pending: Span | None = None
    for sentence in sentence_spans(text):
        span = sentence
        if pending is not None:
            if "\n" in text[pending[1] : span[0]]:
                units.append(pending)
            else:
                span = (pending[0], span[1])
            pending = None
        if span[1] - span[0] < _MIN_UNIT_CHARS:
            pending = span
            continue
        units.append(span)
    if pending is not None:
        units.append(pending)
    return units
