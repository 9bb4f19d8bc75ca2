"""Tests of index.chunking: sentence offsets, chunk packing with overlap, and chunking parameters."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunking import ChunkingParams, Span, chunk_spans, sentence_spans

# No example database on disk and no deadline: these are tests, not benchmarks.
PROPERTY = settings(max_examples=200, database=None, deadline=None)


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def pieces(text: str, spans: list[Span]) -> list[str]:
    return [text[start:end] for start, end in spans]


# --- sentence_spans: where sentences end ------------------------------------------------------


def test_sentences_end_at_full_stops_question_and_exclamation_marks() -> None:
    assert sentences("The bridge opened. Was it late? Yes! It was…  Nobody minded.") == [
        "The bridge opened.",
        "Was it late?",
        "Yes!",
        "It was…",
        "Nobody minded.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith repainted the bridge.",
        "Mrs. Jones and Dr. Patel opened it.",
        "The board met on Jan. 5 to approve it.",
        "It cost approx. four million.",
        "Bring tools, e.g. brushes and ladders.",
        "They started at 6 a.m. Monday and stopped at 5 p.m. on Friday.",
        "J. K. Rowling wrote the book.",
        "She moved to the U.S. in 1990.",
        "The bridge is on St. Anne's Road.",
    ],
)
def test_abbreviations_and_initials_do_not_end_a_sentence(text: str) -> None:
    assert sentences(text) == [text]


def test_a_full_stop_before_a_lowercase_word_does_not_end_a_sentence() -> None:
    assert sentences("The bridge was 3.5 km long. the council said so.") == [
        "The bridge was 3.5 km long. the council said so."
    ]


def test_a_question_in_quotes_ends_the_sentence_before_the_next_word() -> None:
    text = 'So I asked, "Who on earth is like that?" Then, by chance, she called.'
    assert sentences(text) == ['So I asked, "Who on earth is like that?"', "Then, by chance, she called."]


def test_a_quote_that_ends_in_a_full_stop_ends_the_sentence() -> None:
    text = "She said, \u201cThe bridge is safe.\u201d Engineers agreed. (It was.) Work resumed."
    assert sentences(text) == [
        "She said, \u201cThe bridge is safe.\u201d",
        "Engineers agreed.",
        "(It was.)",
        "Work resumed.",
    ]


def test_a_quote_followed_by_a_lowercase_word_goes_on() -> None:
    assert sentences('"Is it safe?" she asked. It was.') == ['"Is it safe?" she asked.', "It was."]


def test_list_numbers_do_not_end_a_sentence() -> None:
    assert sentences("1. Foo is first.\n2. Bar is second. 3. Baz is third.") == [
        "1. Foo is first.",
        "2. Bar is second.",
        "3. Baz is third.",
    ]


def test_a_numbered_heading_is_one_sentence() -> None:
    assert sentences("1. She admires the director.") == ["1. She admires the director."]


def test_a_line_break_always_ends_a_sentence() -> None:
    text = "Bridge reopens after repairs\nThe work took Mr.\nSmith two years, and\nit cost a lot"
    assert sentences(text) == [
        "Bridge reopens after repairs",
        "The work took Mr.",
        "Smith two years, and",
        "it cost a lot",
    ]


def test_blank_lines_and_spaces_give_no_sentences() -> None:
    assert sentence_spans("") == []
    assert sentence_spans("   \n\n \t \n") == []


def test_offsets_point_at_trimmed_sentences_in_the_text() -> None:
    text = "  The bridge opened.   It was late!  \n\n   Nobody minded.  "
    spans = sentence_spans(text)
    assert spans == [(2, 20), (23, 35), (42, 56)]
    assert pieces(text, spans) == ["The bridge opened.", "It was late!", "Nobody minded."]


def test_sentences_of_a_window_stay_inside_the_window() -> None:
    text = "The bridge opened. It was late. Nobody minded. The mayor cut a ribbon."
    start = text.index("It was")
    end = text.index(" The mayor")
    spans = sentence_spans(text, start, end)
    assert pieces(text, spans) == ["It was late.", "Nobody minded."]
    assert all(start <= s < e <= end for s, e in spans)


# --- ChunkingParams ---------------------------------------------------------------------------


def test_default_chunking_params_are_valid() -> None:
    params = ChunkingParams()
    assert 0 <= params.overlap < params.size


def test_the_smallest_allowed_chunk_and_largest_overlap_are_accepted() -> None:
    assert ChunkingParams(size=50, overlap=49) == ChunkingParams(50, 49)


@pytest.mark.parametrize(
    ("size", "overlap", "message"),
    [
        (49, 0, "chunk size must be at least 50 characters"),
        (0, 0, "chunk size must be at least 50 characters"),
        (100, -1, "chunk overlap must be at least 0 and smaller than the chunk size"),
        (100, 100, "chunk overlap must be at least 0 and smaller than the chunk size"),
        (100, 250, "chunk overlap must be at least 0 and smaller than the chunk size"),
    ],
)
def test_bad_chunking_params_are_refused_with_a_reason(size: int, overlap: int, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ChunkingParams(size=size, overlap=overlap)


# --- chunk_spans ------------------------------------------------------------------------------


def sentence(letter: str, length: int) -> str:
    """A sentence of exactly `length` characters: a capital, then lowercase, then a full stop."""
    return letter.upper() + letter * (length - 2) + "."


def test_empty_text_gives_no_chunks() -> None:
    assert chunk_spans("", ChunkingParams()) == []
    assert chunk_spans(" \n\n \n", ChunkingParams()) == []


def test_a_short_text_is_one_trimmed_chunk() -> None:
    text = "\n  The bridge opened. Nobody minded.  \n"
    assert pieces(text, chunk_spans(text, ChunkingParams())) == ["The bridge opened. Nobody minded."]


def test_whole_sentences_are_packed_up_to_the_size() -> None:
    text = " ".join(sentence(letter, 30) for letter in "abcdef")  # sentences start every 31 characters
    spans = chunk_spans(text, ChunkingParams(size=100, overlap=0))
    assert pieces(text, spans) == [
        " ".join(sentence(letter, 30) for letter in "abc"),
        " ".join(sentence(letter, 30) for letter in "def"),
    ]


def test_consecutive_chunks_share_the_trailing_sentences_that_fit_in_the_overlap() -> None:
    text = " ".join(sentence(letter, 20) for letter in "abcdefgh")  # sentences start every 21 characters
    spans = chunk_spans(text, ChunkingParams(size=104, overlap=41))
    assert pieces(text, spans) == [
        " ".join(sentence(letter, 20) for letter in "abcde"),
        " ".join(sentence(letter, 20) for letter in "defgh"),
    ]
    assert spans[0][1] - spans[1][0] == 41


def test_no_sentence_is_shared_when_none_fits_in_the_overlap() -> None:
    text = " ".join(sentence(letter, 40) for letter in "abcd")
    spans = chunk_spans(text, ChunkingParams(size=90, overlap=39))
    assert pieces(text, spans) == [
        f"{sentence('a', 40)} {sentence('b', 40)}",
        f"{sentence('c', 40)} {sentence('d', 40)}",
    ]


def test_a_chunk_is_never_inside_the_chunk_before_it() -> None:
    # b fits in the overlap, but b and c do not fit in one chunk: sharing b would give a chunk of b alone.
    text = f"{sentence('a', 50)} {sentence('b', 46)} {sentence('c', 80)}"
    spans = chunk_spans(text, ChunkingParams(size=100, overlap=60))
    assert pieces(text, spans) == [f"{sentence('a', 50)} {sentence('b', 46)}", sentence("c", 80)]


def test_a_sentence_longer_than_the_size_is_cut_at_word_boundaries() -> None:
    words = [f"word{number:02d}" for number in range(40)]  # 6 characters each
    text = " ".join(words) + "."
    spans = chunk_spans(text, ChunkingParams(size=60, overlap=0))
    assert len(spans) > 1
    for start, end in spans:
        assert end - start <= 60
        assert start == 0 or text[start - 1] == " "
        assert end == len(text) or text[end] == " "
    assert " ".join(pieces(text, spans)) == text


def test_a_word_longer_than_the_size_is_cut_at_the_size() -> None:
    text = "x" * 130
    assert chunk_spans(text, ChunkingParams(size=50, overlap=0)) == [(0, 50), (50, 100), (100, 130)]


def test_a_long_sentence_does_not_swallow_its_neighbours() -> None:
    long = " ".join(["lengthy"] * 20) + "."  # 160 characters
    text = f"Short one. {long.capitalize()} Short two."
    spans = chunk_spans(text, ChunkingParams(size=60, overlap=0))
    assert all(end - start <= 60 for start, end in spans)
    assert pieces(text, spans)[0].startswith("Short one.")
    assert pieces(text, spans)[-1].endswith("Short two.")


def test_chunks_never_cross_into_the_middle_of_a_sentence() -> None:
    text = "\n\n".join("The ferry left at dawn. Mr. Okafor waved from the pier. It was cold!" for _ in range(6))
    starts_and_ends = sentence_spans(text)
    starts = {start for start, _ in starts_and_ends}
    ends = {end for _, end in starts_and_ends}
    for start, end in chunk_spans(text, ChunkingParams(size=120, overlap=40)):
        assert start in starts
        assert end in ends


# --- properties -------------------------------------------------------------------------------

_WORDS = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
    st.sampled_from(["Mr.", "Dr.", "U.S.", "J.", "e.g.", "1.", "2024.", '"Why?"', "(yes)", "it's", "’tis", "3.5"]),
    st.text(alphabet="abcdefghij", min_size=40, max_size=160),  # longer than some chunk sizes
)
_SENTENCES = st.builds(
    lambda words, end: " ".join(words).capitalize() + end,
    st.lists(_WORDS, min_size=1, max_size=25),
    st.sampled_from([".", "?", "!", '."', "", "…"]),
)
_LINES = st.lists(_SENTENCES, min_size=1, max_size=6).map(" ".join)
# Cleaned article text: lines of single-spaced words, paragraphs apart by one blank line or none.
ARTICLE_TEXT = st.lists(st.tuples(_LINES, st.sampled_from(["\n", "\n\n"])), max_size=8).map(
    lambda lines: "".join(line + gap for line, gap in lines).strip()
)


@st.composite
def chunking_params(draw: st.DrawFn) -> ChunkingParams:
    size = draw(st.integers(min_value=50, max_value=400))
    return ChunkingParams(size=size, overlap=draw(st.integers(min_value=0, max_value=size - 1)))


def covered(spans: list[Span], length: int) -> list[bool]:
    marks = [False] * length
    for start, end in spans:
        marks[start:end] = [True] * (end - start)
    return marks


@PROPERTY
@given(text=ARTICLE_TEXT)
def test_sentence_offsets_are_trimmed_in_order_and_cover_every_word(text: str) -> None:
    spans = sentence_spans(text)
    for start, end in spans:
        piece = text[start:end]
        assert piece
        assert piece == piece.strip()
        assert "\n" not in piece
    assert all(left[1] <= right[0] for left, right in itertools.pairwise(spans))
    marks = covered(spans, len(text))
    assert all(marks[i] for i, char in enumerate(text) if not char.isspace())


@PROPERTY
@given(text=ARTICLE_TEXT, params=chunking_params())
def test_chunks_fit_the_size_move_forward_and_overlap_at_most_the_overlap(text: str, params: ChunkingParams) -> None:
    spans = chunk_spans(text, params)
    assert (spans == []) == (text.strip() == "")
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert end - start <= params.size
        assert text[start:end] == text[start:end].strip()
    for (start, end), (next_start, next_end) in itertools.pairwise(spans):
        assert next_start > start
        assert next_end > end
        assert end - next_start <= params.overlap


@PROPERTY
@given(text=ARTICLE_TEXT, params=chunking_params())
def test_every_sentence_is_in_some_chunk(text: str, params: ChunkingParams) -> None:
    spans = chunk_spans(text, params)
    marks = covered(spans, len(text))
    assert all(marks[i] for i, char in enumerate(text) if not char.isspace())
    for start, end in sentence_spans(text):
        if end - start <= params.size:
            assert any(chunk_start <= start and end <= chunk_end for chunk_start, chunk_end in spans)


@PROPERTY
@given(text=ARTICLE_TEXT, params=chunking_params())
def test_chunks_start_and_end_on_sentence_or_word_boundaries(text: str, params: ChunkingParams) -> None:
    starts = {start for start, _ in sentence_spans(text)}
    ends = {end for _, end in sentence_spans(text)}
    spans = chunk_spans(text, params)
    chunk_ends = {end for _, end in spans}
    for start, end in spans:
        # A word longer than the chunk is cut at exactly the size, and the next chunk starts there.
        assert start in starts or text[start - 1] == " " or start in chunk_ends
        assert end in ends or text[end] == " " or end - start == params.size
