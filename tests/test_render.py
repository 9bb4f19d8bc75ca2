"""Embeds stay within Discord's limits whatever the engine returns, cut at word boundaries."""

from __future__ import annotations

import re

import pytest

from bot import render
from index import Answer, Answerer, Citation, Source, StoredIndex


@pytest.fixture
def index(bundled_answerer: Answerer) -> StoredIndex:
    return bundled_answerer.index


def _source(n: int, *, title: str = "A title", url: str | None = "https://example.org/a") -> Source:
    return Source(f"article-{n}.md", title, f"Outlet {n}", "2024-01-30", url, 0, 10)


def test_cut_keeps_whole_words_and_marks_the_cut() -> None:
    text = "The harbour ferry strike ended after eleven hours of talks"

    assert render.cut(text, 100) == text
    cut = render.cut(text, 30)
    assert len(cut) <= 30
    assert cut == "The harbour ferry strike…"


def test_an_answer_embed_numbers_snippets_and_lists_sources_once(index: StoredIndex) -> None:
    shared = _source(1)
    answer = Answer(
        "why?",
        abstained=False,
        citations=(
            Citation(1, "First *quoted* passage.", 0.8, (shared, _source(2, url=None))),
            Citation(2, "Second passage.", 0.7, (shared,)),
        ),
    )

    embed = render.answer_embed(answer, index)

    assert embed.title == "why?"
    assert embed.description == (
        "**1.** “First \\*quoted\\* passage.” `[1]``[2]` · reported by 2 outlets\n\n**2.** “Second passage.” `[1]`"
    )
    sources = embed.fields[0].value or ""
    assert sources.splitlines() == [
        "`[1]` **Outlet 1** · [A title](https://example.org/a) · 2024-01-30",
        "`[2]` **Outlet 2** · “A title” · 2024-01-30",
    ]
    assert embed.footer.text is not None
    assert embed.footer.text.startswith("Index built ")


def test_a_huge_answer_is_cut_to_discords_limits(index: StoredIndex) -> None:
    words = "word " * 400
    citations = tuple(
        Citation(n, words, 0.5, tuple(_source(n * 100 + k, title=words[:300]) for k in range(12))) for n in range(1, 11)
    )
    answer = Answer("why " * 200, abstained=False, citations=citations)

    embed = render.answer_embed(answer, index)

    assert len(embed.title or "") <= render.TITLE_LIMIT
    assert len(embed.description or "") <= render.DESCRIPTION_LIMIT
    assert all(len(f.value or "") <= render.FIELD_LIMIT for f in embed.fields)
    assert len(embed.fields) <= render.FIELDS_LIMIT
    assert len(embed) <= render.EMBED_LIMIT
    assert (embed.title or "").endswith("why…")
    assert "**1.**" in (embed.description or "")


def test_sources_lists_articles_newest_first(index: StoredIndex) -> None:
    embed = render.sources_embed(index)

    lines = (embed.description or "").splitlines()
    assert len(lines) == len(index.entries)
    assert lines[0].startswith("• **allkpop**")  # 2024-01-30, the newest
    assert embed.title == "Articles I have read (3)"


def test_fit_blocks_counts_the_rest_when_a_list_is_too_long() -> None:
    lines = [f"• article number {i} with a title" for i in range(500)]

    text = render._fit_blocks(lines, 4096, sep="\n", more="… and {n} more")

    assert len(text) <= 4096
    shown = text.splitlines()
    assert shown[-1] == f"… and {500 - (len(shown) - 1)} more"


def test_a_url_with_markdown_in_it_stays_one_link_to_its_own_address() -> None:
    hostile = "http://ok.example/x) [Click to verify](http://evil.example"

    line = render.source_line(_source(1, url=hostile))

    links = re.findall(r"\[([^\]]*)\]\(([^)\s]*)\)", line)
    assert links == [("A title", links[0][1])]
    assert links[0][1].startswith("http://ok.example/x")
    assert "[Click to verify]" not in line


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "not a url", "ftp://example.org/a"])
def test_a_url_that_is_not_http_or_https_is_not_linked(url: str) -> None:
    line = render.source_line(_source(1, url=url))

    assert "](" not in line
    assert "“A title”" in line
