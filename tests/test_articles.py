"""Tests of index.articles: reading a folder of .txt, .md, .json and .jsonl files into articles."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from index.articles import Article, Corpus, Skipped, load_corpus, markdown_to_text, normalise_date, split_front_matter
from index.errors import ArticleError

BUNDLED_ARTICLES = Path(__file__).resolve().parent.parent / "data" / "articles"

FERRY = "The harbour authority approved the new ferry timetable on Monday after a long debate."
VOLCANO = "The volcano erupted on Tuesday, sending ash across the valley and closing two roads."


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(*lines: object) -> str:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"


def by_id(corpus: Corpus) -> dict[str, Article]:
    return {article.id: article for article in corpus.articles}


def only_article(folder: Path) -> Article:
    corpus = load_corpus(folder)
    assert corpus.skipped == []
    [article] = corpus.articles
    return article


def only_skipped(folder: Path) -> Skipped:
    corpus = load_corpus(folder)
    assert corpus.articles == []
    [skipped] = corpus.skipped
    return skipped


# --- plain text -------------------------------------------------------------------------------


def test_a_text_file_without_front_matter_is_one_article_named_by_its_path(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", f"{FERRY}\n\nBoats will run every hour from April.\n")
    assert only_article(tmp_path) == Article(id="ferry.txt", text=f"{FERRY}\n\nBoats will run every hour from April.")


def test_a_text_files_front_matter_becomes_its_metadata(tmp_path: Path) -> None:
    write(
        tmp_path,
        "ferry.txt",
        "---\ntitle: Ferries every hour\noutlet: Coast Gazette\ndate: 2024-03-05\n"
        "url: https://example.org/ferry\nauthor: Jane Doe\n---\n" + FERRY + "\n",
    )
    article = only_article(tmp_path)
    assert article.text == FERRY
    assert article.metadata() == {
        "title": "Ferries every hour",
        "outlet": "Coast Gazette",
        "date": "2024-03-05",
        "url": "https://example.org/ferry",
        "author": "Jane Doe",
    }


def test_empty_front_matter_fields_are_none(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", f"---\ntitle: Ferries every hour\noutlet:\nurl:\ndate:\n---\n{FERRY}\n")
    article = only_article(tmp_path)
    assert (article.outlet, article.url, article.date, article.author) == (None, None, None, None)


def test_the_text_of_an_article_is_cleaned(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", f"215\nNews\n{FERRY}\u00a0\n\n\n\nShare\nSHOW ALL COMMENTS\nNice one!\n")
    assert only_article(tmp_path).text == FERRY


# --- titles -----------------------------------------------------------------------------------


def test_a_headline_on_the_first_line_becomes_the_title(tmp_path: Path) -> None:
    write(tmp_path, "volcano.txt", f"Volcano wakes up near the village\n\n{VOLCANO}\n")
    article = only_article(tmp_path)
    assert article.title == "Volcano wakes up near the village"
    assert article.text.startswith("Volcano wakes up near the village\n\n")


@pytest.mark.parametrize(
    "first_line",
    [
        VOLCANO,  # a sentence, not a headline
        "Eruption timeline:",  # a label
        "Eruption",  # too short to be a headline (and dropped as a label)
        "Ash " * 60,  # too long
    ],
)
def test_a_first_line_that_is_not_a_headline_gives_no_title(tmp_path: Path, first_line: str) -> None:
    write(tmp_path, "volcano.txt", f"{first_line}\n\n{VOLCANO}\n")
    assert only_article(tmp_path).title is None


def test_a_front_matter_title_wins_over_the_first_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "volcano.txt",
        f"---\ntitle: The valley under ash\n---\nVolcano wakes up near the village\n\n{VOLCANO}\n",
    )
    assert only_article(tmp_path).title == "The valley under ash"


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2024-01-30", "2024-01-30"),
        ("January 30, 2024", "2024-01-30"),
        ("Jan 30, 2024", "2024-01-30"),
        ("30 January 2024", "2024-01-30"),
        ("30 Jan 2024", "2024-01-30"),
        ("Tuesday, January 30, 2024", "2024-01-30"),
        ("2024/01/30", "2024-01-30"),
        ("2024-01-30T08:15:00", "2024-01-30"),
        ("  January 30, 2024  ", "2024-01-30"),
        (dt.date(2024, 1, 30), "2024-01-30"),
        (dt.datetime(2024, 1, 30, 23, 59), "2024-01-30"),
        ("early spring", "early spring"),
        ("", None),
        (None, None),
    ],
)
def test_dates_are_normalised_to_iso_and_anything_else_is_kept_as_written(value: object, iso: str | None) -> None:
    assert normalise_date(value) == iso


@pytest.mark.parametrize(
    ("front_matter", "iso"),
    [
        ("date: January 30, 2024", "2024-01-30"),
        ("date: 2024-01-30", "2024-01-30"),  # YAML reads this as a date, not a string
        ("date: 2024-01-30 09:30:00", "2024-01-30"),  # and this as a datetime
        ("published: 30 Jan 2024", "2024-01-30"),
    ],
)
def test_front_matter_dates_become_iso_strings(tmp_path: Path, front_matter: str, iso: str) -> None:
    write(tmp_path, "ferry.txt", f"---\n{front_matter}\n---\n{FERRY}\n")
    assert only_article(tmp_path).date == iso


def test_a_scraped_date_prefix_becomes_the_date_and_leaves_the_text(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", f" date 2024-01-28 {FERRY}\n\nBoats will run every hour.\n")
    article = only_article(tmp_path)
    assert article.date == "2024-01-28"
    assert article.text == f"{FERRY}\n\nBoats will run every hour."


def test_a_front_matter_date_wins_over_a_scraped_date_prefix(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", f"---\ndate: 2024-02-01\n---\ndate 2024-01-28 {FERRY}\n")
    article = only_article(tmp_path)
    assert article.date == "2024-02-01"
    assert article.text == FERRY


# --- Markdown ---------------------------------------------------------------------------------

GARDEN_MD = """---
title: Garden show opens
outlet: Valley Post
date: May 4, 2024
---
# The Garden Show Opens Its Gates

The **annual** garden show opened with [record crowds](https://example.org/crowds) and _new_ roses.

![The rose tent](rose.png)

## Judging

> Visitors praised the *layout* of the rose tent.

Judges will <b>announce</b> the winners on Sunday afternoon in the main marquee.
"""


def test_markdown_loses_its_syntax_but_keeps_its_words_and_paragraphs(tmp_path: Path) -> None:
    write(tmp_path, "garden.md", GARDEN_MD)
    article = only_article(tmp_path)
    assert article.text == (
        "The Garden Show Opens Its Gates\n\n"
        "The annual garden show opened with record crowds and new roses.\n\n"
        "Judging\n\n"
        "Visitors praised the layout of the rose tent.\n\n"
        "Judges will announce the winners on Sunday afternoon in the main marquee."
    )
    assert (article.title, article.outlet, article.date) == ("Garden show opens", "Valley Post", "2024-05-04")


def test_a_markdown_heading_is_the_title_when_there_is_no_front_matter(tmp_path: Path) -> None:
    write(tmp_path, "garden.markdown", "# The Garden Show Opens Its Gates\n\nThe show opened with record crowds.\n")
    assert only_article(tmp_path).title == "The Garden Show Opens Its Gates"


def test_short_markdown_paragraphs_are_not_mistaken_for_a_list(tmp_path: Path) -> None:
    # Were the blank lines lost around headings and quotes, these three short lines would stack up
    # like a tag list and be dropped.
    write(tmp_path, "storm.md", "# Storm Hits the Coast\n\nRoads closed.\n\n> Stay home.\n")
    assert only_article(tmp_path).text == "Storm Hits the Coast\n\nRoads closed.\n\nStay home."


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("### Results ###", "Results"),
        ("**bold** and __strong__ and *em* and _em_", "bold and strong and em and em"),
        ("see [the report](https://example.org/r) today", "see the report today"),
        ("![chart](c.png)Figures rose.", "Figures rose."),
        ("> quoted line", "quoted line"),
        ("<em>tagged</em> text", "tagged text"),
        ("* a list item", "* a list item"),
    ],
)
def test_markdown_syntax_is_stripped(markdown: str, text: str) -> None:
    assert markdown_to_text(markdown) == text


# --- front matter -----------------------------------------------------------------------------


def test_text_without_front_matter_has_no_metadata() -> None:
    assert split_front_matter(f"{FERRY}\n---\nnot: front matter\n---\n") == (
        {},
        f"{FERRY}\n---\nnot: front matter\n---\n",
    )


def test_front_matter_ends_at_a_dashed_or_dotted_line() -> None:
    assert split_front_matter("---\ntitle: A\n...\nBody.\n") == ({"title": "A"}, "Body.\n")
    assert split_front_matter("\ufeff---\r\ntitle: A\r\n---\r\nBody.\r\n") == ({"title": "A"}, "Body.\r\n")


def test_front_matter_that_is_not_yaml_skips_the_file_with_a_reason(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", f"---\ntitle: [unclosed\n---\n{FERRY}\n")
    assert only_skipped(tmp_path) == Skipped("ferry.txt", "front matter is not valid YAML (ParserError)")


def test_front_matter_that_is_not_a_mapping_skips_the_file_with_a_reason(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", f"---\n- one\n- two\n---\n{FERRY}\n")
    assert only_skipped(tmp_path) == Skipped("ferry.txt", "front matter is not a mapping of fields")


# --- JSON -------------------------------------------------------------------------------------


def test_a_json_object_is_one_article_with_its_metadata(tmp_path: Path) -> None:
    record = {"id": "q1", "title": "Quarry reopens", "text": FERRY, "source": "Stone Weekly", "date": "Jan 5, 2024",
              "link": "https://example.org/q", "author": "A. Mason", "tags": ["ignored"]}  # fmt: skip
    write(tmp_path, "quarry.json", json.dumps(record))
    assert only_article(tmp_path) == Article(
        id="quarry.json#q1",
        text=FERRY,
        title="Quarry reopens",
        outlet="Stone Weekly",
        date="2024-01-05",
        url="https://example.org/q",
        author="A. Mason",
    )


def test_a_json_list_gives_one_article_per_object(tmp_path: Path) -> None:
    records = [{"id": 7, "body": FERRY}, {"content": VOLCANO}, {"id": "", "text": "The library opens late."}]
    write(tmp_path, "news.json", json.dumps(records))
    corpus = load_corpus(tmp_path)
    assert corpus.skipped == []
    assert {article.id: article.text for article in corpus.articles} == {
        "news.json#7": FERRY,
        "news.json#2": VOLCANO,
        "news.json#3": "The library opens late.",
    }


def test_items_of_a_json_list_that_are_not_objects_are_skipped_by_position(tmp_path: Path) -> None:
    write(tmp_path, "news.json", json.dumps([{"text": FERRY}, "a string", 5]))
    corpus = load_corpus(tmp_path)
    assert [article.id for article in corpus.articles] == ["news.json#1"]
    assert corpus.skipped == [
        Skipped("news.json#2", "item 2 is not a JSON object"),
        Skipped("news.json#3", "item 3 is not a JSON object"),
    ]


def test_a_json_file_that_does_not_parse_is_skipped_with_the_line(tmp_path: Path) -> None:
    write(tmp_path, "news.json", '{\n  "text": "The library opens late.",\n  oops\n}')
    skipped = only_skipped(tmp_path)
    assert skipped.path == "news.json"
    assert skipped.reason.startswith("not valid JSON (")
    assert "at line 3" in skipped.reason


# --- JSON Lines -------------------------------------------------------------------------------


@pytest.fixture
def mixed_jsonl(tmp_path: Path) -> Corpus:
    write(
        tmp_path,
        "wire.jsonl",
        jsonl(
            {"id": "a", "title": "Ferries every hour", "text": FERRY},
            "{not json",
            {"id": "b", "title": "A record with no text"},
            {"id": "c", "text": "   ", "body": VOLCANO},
            "",
            {"id": "a", "text": "A second story reused the first identifier."},
            [1, 2],
            {"text": "The library will open until ten at night from June."},
        ),
    )
    return load_corpus(tmp_path)


def test_good_json_lines_records_become_articles(mixed_jsonl: Corpus) -> None:
    assert {article.id: article.text for article in mixed_jsonl.articles} == {
        "wire.jsonl#a": FERRY,
        "wire.jsonl#c": VOLCANO,
        "wire.jsonl#8": "The library will open until ten at night from June.",
    }
    assert by_id(mixed_jsonl)["wire.jsonl#a"].title == "Ferries every hour"


def test_bad_json_lines_records_are_skipped_naming_the_file_line_and_reason(mixed_jsonl: Corpus) -> None:
    assert [(item.path, item.reason) for item in mixed_jsonl.skipped] == [
        ("wire.jsonl#2", "line 2 is not JSON (Expecting property name enclosed in double quotes)"),
        ("wire.jsonl#3", "no text: a record needs one of the fields text, body, content"),
        ("wire.jsonl#6", "duplicate id wire.jsonl#a"),
        ("wire.jsonl#7", "line 7 is not a JSON object"),
    ]


def test_a_duplicate_id_keeps_the_first_record(mixed_jsonl: Corpus) -> None:
    assert by_id(mixed_jsonl)["wire.jsonl#a"].text == FERRY


def test_a_record_skipped_for_no_text_does_not_claim_its_id(tmp_path: Path) -> None:
    write(tmp_path, "wire.jsonl", jsonl({"id": "a", "text": ""}, {"id": "a", "text": FERRY}))
    corpus = load_corpus(tmp_path)
    assert [(article.id, article.text) for article in corpus.articles] == [("wire.jsonl#a", FERRY)]
    assert [item.path for item in corpus.skipped] == ["wire.jsonl#1"]


def test_a_record_whose_text_is_all_clutter_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "wire.ndjson", jsonl({"id": "x", "text": "215\nShare\n$25"}, {"id": "y", "text": FERRY}))
    corpus = load_corpus(tmp_path)
    assert [article.id for article in corpus.articles] == ["wire.ndjson#y"]
    assert corpus.skipped == [Skipped("wire.ndjson#1", "no article text left after cleaning")]


# --- files that are not articles --------------------------------------------------------------


def test_an_unknown_file_type_is_skipped_with_the_types_to_use(tmp_path: Path) -> None:
    write(tmp_path, "scan.pdf", b"%PDF-1.4\n")
    assert only_skipped(tmp_path) == Skipped(
        "scan.pdf", "unknown file type .pdf; use .txt, .md, .json, .jsonl or .html"
    )


def test_a_file_without_an_extension_is_skipped_with_a_reason(tmp_path: Path) -> None:
    write(tmp_path, "README", FERRY)
    assert only_skipped(tmp_path) == Skipped(
        "README", "unknown file type (no extension); use .txt, .md, .json, .jsonl or .html"
    )


def test_a_file_that_is_not_utf8_is_skipped_with_the_byte(tmp_path: Path) -> None:
    write(tmp_path, "latin1.txt", "Caf\u00e9 opens late".encode("latin-1"))
    assert only_skipped(tmp_path) == Skipped("latin1.txt", "not UTF-8 text (byte 3)")


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", b"\xef\xbb\xbf---\ntitle: Ferries\n---\n" + FERRY.encode())
    article = only_article(tmp_path)
    assert (article.title, article.text) == ("Ferries", FERRY)


def test_an_empty_file_is_skipped_with_a_reason(tmp_path: Path) -> None:
    write(tmp_path, "empty.txt", "")
    assert only_skipped(tmp_path) == Skipped("empty.txt", "no article text left after cleaning")


def test_hidden_files_and_folders_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", FERRY)
    write(tmp_path, ".draft.txt", VOLCANO)
    write(tmp_path, ".git/notes.txt", VOLCANO)
    write(tmp_path, ".DS_Store", b"\x00\x01\xff")
    write(tmp_path, "sub/.hidden/old.md", VOLCANO)
    corpus = load_corpus(tmp_path)
    assert [article.id for article in corpus.articles] == ["ferry.txt"]
    assert corpus.skipped == []


def test_subfolders_are_read_in_name_order_with_their_paths_as_ids(tmp_path: Path) -> None:
    write(tmp_path, "b.txt", FERRY)
    write(tmp_path, "a/z.md", VOLCANO)
    write(tmp_path, "a/b/c.txt", "The library opens late.")
    assert [article.id for article in load_corpus(tmp_path).articles] == ["a/b/c.txt", "a/z.md", "b.txt"]


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, "a.json", "{broken")
    write(tmp_path, "b.pdf", b"%PDF")
    write(tmp_path, "c.txt", b"\xff\xfe")
    write(tmp_path, "d.txt", FERRY)
    corpus = load_corpus(tmp_path)
    assert [article.id for article in corpus.articles] == ["d.txt"]
    assert [item.path for item in corpus.skipped] == ["a.json", "b.pdf", "c.txt"]
    assert all(item.reason for item in corpus.skipped)


def test_every_skipped_file_is_logged_as_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "scan.pdf", b"%PDF")
    with caplog.at_level(logging.WARNING, logger="index.articles"):
        load_corpus(tmp_path)
    assert [record.getMessage() for record in caplog.records] == [
        "skipped scan.pdf: unknown file type .pdf; use .txt, .md, .json, .jsonl or .html"
    ]


def test_a_missing_folder_raises_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-articles"
    with pytest.raises(ArticleError, match="no-such-articles") as caught:
        load_corpus(missing)
    assert str(missing) in str(caught.value)
    assert "STORYBOT_ARTICLES_DIR" in str(caught.value)


def test_an_empty_folder_gives_an_empty_corpus(tmp_path: Path) -> None:
    assert load_corpus(tmp_path) == Corpus()


# --- fingerprints -----------------------------------------------------------------------------

BASE = Article(id="ferry.txt", text=FERRY, title="Ferries every hour", outlet="Coast Gazette", date="2024-03-05")


@pytest.mark.parametrize(
    "changed",
    [
        dataclasses.replace(BASE, text=FERRY + " Boats run hourly."),
        dataclasses.replace(BASE, title="Ferries every two hours"),
        dataclasses.replace(BASE, title=None),
    ],
)
def test_the_fingerprint_changes_with_what_is_embedded(changed: Article) -> None:
    assert changed.fingerprint != BASE.fingerprint


@pytest.mark.parametrize(
    "changed",
    [
        dataclasses.replace(BASE, outlet="Harbour Herald"),
        dataclasses.replace(BASE, url="https://example.org/ferry"),
        dataclasses.replace(BASE, date="2024-03-06"),
        dataclasses.replace(BASE, author="Jane Doe"),
        dataclasses.replace(BASE, id="renamed.txt"),
    ],
)
def test_the_fingerprint_ignores_metadata_that_is_not_embedded(changed: Article) -> None:
    assert changed.fingerprint == BASE.fingerprint


def test_title_and_text_cannot_trade_characters_without_changing_the_fingerprint() -> None:
    assert Article("a", text="b c", title="a").fingerprint != Article("a", text="c", title="a b").fingerprint


# --- the bundled articles ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled() -> Corpus:
    return load_corpus(BUNDLED_ARTICLES)


def test_the_bundled_folder_holds_three_readable_articles(bundled: Corpus) -> None:
    assert bundled.skipped == []
    assert [article.id for article in bundled.articles] == [
        "000_c48745c27fb190c3.txt",
        "001_02271dd564ed3126.txt",
        "002_9d4e7a3b1bba4444.txt",
    ]


def test_the_bundled_articles_carry_the_metadata_of_their_front_matter(bundled: Corpus) -> None:
    assert [article.metadata() for article in bundled.articles] == [
        {
            "title": "3 reasons BTS's V (Kim Taehyung) accepted the role in IU's 'Love Wins All' music video "
            "despite having to enlist in just 1 week",
            "outlet": "allkpop",
            "date": "2024-01-30",
            "url": None,
            "author": "YeontanNews",
        },
        {
            "title": "\"I'm so glad he decided to do it\" - Fans appreciate BTS' V after learning the reason "
            "behind his selection of the project Love Wins All",
            "outlet": None,
            "date": "2024-01-28",
            "url": None,
            "author": None,
        },
        {
            "title": "BTS’ V reveals why he collaborated with IU for ‘Love Wins All’ before military enlistment",
            "outlet": None,
            "date": None,
            "url": None,
            "author": None,
        },
    ]


def test_the_bundled_articles_text_is_clean(bundled: Corpus) -> None:
    scraped, dated, _ = bundled.articles
    assert "Thank you to both IU and V for this project" not in scraped.text
    assert "it was totally my jam" in scraped.text
    assert dated.text.startswith("On January 28, 2024,")


# --- hostile files: each is skipped with a reason naming it, and the rest of the folder is read ----


def test_a_yaml_alias_bomb_in_front_matter_skips_the_file_without_expanding_it(tmp_path: Path) -> None:
    # 9 ** 6 copies of "lol" when expanded: over 30 MB of title from 400 bytes of front matter.
    anchors = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    anchors += [f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]" for a, b in zip("abcde", "bcdef", strict=True)]
    write(tmp_path, "bomb.md", "---\n" + "\n".join(anchors) + "\ntitle: *f\n---\n" + FERRY + "\n")
    write(tmp_path, "volcano.txt", VOLCANO + "\n")
    corpus = load_corpus(tmp_path)
    assert [a.id for a in corpus.articles] == ["volcano.txt"]
    assert corpus.skipped == [Skipped("bomb.md", "front matter uses a YAML alias (*name); write each value out")]


def test_front_matter_of_more_than_64_kib_skips_the_file(tmp_path: Path) -> None:
    write(tmp_path, "ferry.txt", "---\n" + "".join(f"tag{n}: {'x' * 60}\n" for n in range(1200)) + "---\n" + FERRY)
    assert only_skipped(tmp_path) == Skipped("ferry.txt", "front matter is over 64 KiB; it should be a few fields")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("title", "word " * 200, "the title field is 999 characters long; the limit is 500"),
        ("outlet", "x" * 201, "the outlet field is 201 characters long; the limit is 200"),
        ("url", "https://example.org/" + "a" * 3000, "the url field is 3,020 characters long; the limit is 2,048"),
        ("author", ["A", "B"], "the author field is a list, not text"),
    ],
)
def test_a_metadata_field_of_insane_length_or_shape_skips_the_record(
    tmp_path: Path, field: str, value: object, reason: str
) -> None:
    write(tmp_path, "ferry.json", json.dumps({"text": FERRY, field: value}))
    assert only_skipped(tmp_path) == Skipped("ferry.json#1", reason)


def test_json_nested_200_kb_deep_is_skipped_and_the_build_goes_on(tmp_path: Path) -> None:
    write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    write(tmp_path, "deep.jsonl", jsonl({"text": FERRY}, "[" * 100_000 + "]" * 100_000))
    write(tmp_path, "volcano.txt", VOLCANO + "\n")
    corpus = load_corpus(tmp_path)
    assert [a.id for a in corpus.articles] == ["deep.jsonl#1", "volcano.txt"]
    assert corpus.skipped == [
        Skipped("deep.json", "JSON nested too deeply"),
        Skipped("deep.jsonl#2", "line 2 is nested too deeply"),
    ]


def test_deeply_nested_front_matter_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "ferry.md", "---\ntitle: " + "[" * 20_000 + "]" * 20_000 + "\n---\n" + FERRY)
    assert only_skipped(tmp_path) == Skipped("ferry.md", "front matter is nested too deeply")


def test_links_out_of_the_articles_folder_are_not_followed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    articles, outside = tmp_path / "articles", tmp_path / "private"
    write(outside, "secret.txt", "The password of the harbour master is written on the back of the ledger.\n")
    write(articles, "ferry.txt", FERRY + "\n")
    (articles / "secret.txt").symlink_to(outside / "secret.txt")
    (articles / "memory.txt").symlink_to("/proc/self/mem")
    (articles / "again.txt").symlink_to(articles / "ferry.txt")  # a link inside the folder is an article
    with caplog.at_level(logging.WARNING, logger="index.articles"):
        corpus = load_corpus(articles)
    assert [a.id for a in corpus.articles] == ["again.txt", "ferry.txt"]
    assert corpus.skipped == [
        Skipped("memory.txt", "a link to a file outside the articles folder; not followed"),
        Skipped("secret.txt", "a link to a file outside the articles folder; not followed"),
    ]
    assert "skipped secret.txt: a link to a file outside the articles folder; not followed" in caplog.messages


def test_unclosed_markdown_does_not_swallow_text_and_nested_emphasis_is_stripped() -> None:
    assert markdown_to_text("**bold *and* more** and _under_") == "bold and more and under"
    assert markdown_to_text("a * b [c ( d <e f") == "a * b [c ( d <e f"
    assert markdown_to_text("[one](http://a) [two](http://b)") == "one two"
    assert markdown_to_text("## Heading ##") == "Heading"
