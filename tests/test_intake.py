"""Adding and removing articles from the terminal: saved pages, served from 127.0.0.1, fetched,
extracted with trafilatura, saved as Markdown and cited; the same article twice refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from index.articles import load_corpus, markdown_to_text, read_file, split_front_matter
from index.intake import DuplicateArticleError, IntakeError, add_upload, markdown_escape, normalise_url
from tests.conftest import PAGES, cli_env

TRAM_TITLE = "Harwick's first tram in 70 years carries 4,000 riders on opening day"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # The pages are served from 127.0.0.1.
    return cli_env(tmp_path, tmp_path / "index", log_level="INFO", fetch_allow_private="true")


def storybot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


# --- extraction -------------------------------------------------------------------------------------


def test_an_html_page_in_the_articles_folder_is_read_without_its_clutter(tmp_path: Path) -> None:
    shutil.copy(PAGES / "news.html", tmp_path / "tram.html")
    [article] = load_corpus(tmp_path).articles

    assert article.title == TRAM_TITLE
    assert article.outlet == "The Harwick Courier"
    assert article.date == "2025-06-14"
    assert article.author == "Priya Nandakumar"
    assert article.url == "https://www.harwick-courier.example/news/2025/06/harwick-tram-line-1-opens"
    assert article.text.startswith("More than 4,000 people rode Harwick's new tram")
    page = " ".join((PAGES / "news.html").read_text().split())
    clutter = [
        "We use cookies to keep you signed in",  # the cookie banner
        "Copy link",  # the share bar
        "Night-time test runs begin on Line 1",  # related links
        "in your inbox at 7am",  # the newsletter box
        "the driver waved at every single child",  # a reader's comment
        "community guidelines",
    ]
    for text in clutter:
        assert text in page
        assert text not in article.text, text


def test_a_date_given_only_in_the_pages_metadata_is_found(tmp_path: Path) -> None:
    [article], _ = read_file(PAGES / "metadata_date.html", "ferry.html")
    assert article.date == "2025-03-14"
    assert "2025" not in article.text


def test_a_page_with_no_article_is_skipped_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "menu.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    corpus = load_corpus(tmp_path)
    assert corpus.articles == []
    assert [s.reason for s in corpus.skipped] == ["no article text found on that page"]


@pytest.mark.parametrize(
    "text",
    ["Prices rose *sharply* in May.", "# 1 in the charts\n\n> not a quote", "See [the report](x) <b>now</b> \\ ok _x_"],
)
def test_saved_markdown_gives_back_the_text_exactly(text: str) -> None:
    assert markdown_to_text(markdown_escape(text)) == text


def test_urls_compare_without_fragment_tracking_case_or_trailing_slash() -> None:
    assert normalise_url("https://WWW.Example.org/a/b/?utm_source=x#top") == normalise_url("http://example.org/a/b")
    assert normalise_url("https://example.org/a?id=1") != normalise_url("https://example.org/a?id=2")


# --- adding and removing ------------------------------------------------------------------------------


def test_an_uploaded_file_is_saved_as_markdown_with_front_matter(tmp_path: Path) -> None:
    added = add_upload(tmp_path, "library.html", (PAGES / "second.html").read_bytes(), by="a test")

    [item] = added
    meta, body = split_front_matter(item.path.read_text())
    assert item.path.parent == tmp_path
    assert item.path.name == "2025-09-02-kestrel-hill-library-reopens-with-a-seed-bank.md"
    assert meta["title"] == "Kestrel Hill library reopens with a 'seed bank' and late nights"
    assert meta["outlet"] == "Pendlebrook Gazette"
    assert str(meta["date"]) == "2025-09-02"
    assert meta["url"] == "https://pendlebrookgazette.example/local/kestrel-hill-library-reopens"
    assert item.words > 200
    assert item.opening.startswith("Kestrel Hill's library reopened on Monday")
    [again] = load_corpus(tmp_path).articles
    assert again.text == item.article.text
    assert body.count("\n\n") >= 5  # paragraphs kept

    with pytest.raises(DuplicateArticleError, match=r"^already have it: Kestrel Hill library reopens"):
        add_upload(tmp_path, "copy.html", (PAGES / "second.html").read_bytes(), by="a test")
    assert len(list(tmp_path.iterdir())) == 1


def test_a_json_upload_with_two_articles_saves_both_and_a_bad_file_is_one_sentence(tmp_path: Path) -> None:
    records = [
        {"title": "Bridge closes for repairs", "outlet": "Coast News", "text": "The old bridge closed on Monday."},
        {"title": "Bridge reopens", "outlet": "Coast News", "text": "The old bridge reopened on Friday, early."},
    ]
    added = add_upload(tmp_path, "two.json", json.dumps(records).encode(), by="a test")
    assert [a.article.title for a in added] == ["Bridge closes for repairs", "Bridge reopens"]

    with pytest.raises(IntakeError, match=r"^notes\.pdf is not a \.txt, \.md, \.json, \.jsonl or \.html file$"):
        add_upload(tmp_path, "../../notes.pdf", b"%PDF-1.4", by="a test")
    with pytest.raises(IntakeError, match=r"^bad\.json: not valid JSON"):
        add_upload(tmp_path, "bad.json", b"{", by="a test")


def test_storybot_add_fetches_a_page_and_ask_cites_it_then_remove_takes_it_out(
    env: dict[str, str], pages_url: str
) -> None:
    assert storybot("index", "build", env=env).returncode == 0
    added = storybot("add", f"{pages_url}/moved", env=env)

    assert added.returncode == 0, added.stderr
    assert "added 2025-06-14-harwicks-first-tram-in-70-years-carries-4000.md" in added.stdout
    assert f"title:  {TRAM_TITLE}" in added.stdout
    assert "outlet: The Harwick Courier" in added.stdout
    assert "date:   2025-06-14" in added.stdout
    assert "begins: More than 4,000 people rode Harwick's new tram" in added.stdout
    assert "update: 1 added, 0 changed, 0 removed, 3 unchanged articles" in added.stdout
    log = [line for line in added.stderr.splitlines() if "added " in line and "by the terminal" in line]
    assert len(log) == 1
    assert f"from {pages_url}/news.html" in log[0]
    assert "saved as " in log[0]

    asked = storybot("ask", "--json", "How many people rode the tram in Harwick on its first day?", env=env)
    answer = json.loads(asked.stdout)
    sources = [s for c in answer["citations"] for s in c["sources"]]
    assert sources[0]["title"] == TRAM_TITLE
    assert sources[0]["url"] == "https://www.harwick-courier.example/news/2025/06/harwick-tram-line-1-opens"

    again = storybot("add", f"{pages_url}/news.html", env=env)
    assert again.returncode == 1
    assert again.stderr.strip().endswith(f"storybot: {pages_url}/news.html: already have it: {TRAM_TITLE}")

    [saved] = Path(env["STORYBOT_ARTICLES_DIR"]).glob("2025-06-14-*.md")
    removed = storybot("remove", saved.name, env=env)
    assert removed.returncode == 0, removed.stderr
    moved = Path(env["STORYBOT_ARTICLES_DIR"]).parent / "removed" / saved.name
    assert moved.is_file()
    assert not saved.exists()
    assert "1 removed" in removed.stdout
    after = json.loads(storybot("ask", "--json", "How many people rode the tram in Harwick?", env=env).stdout)
    assert all(s["title"] != TRAM_TITLE for c in after["citations"] for s in c["sources"])


def test_storybot_add_refuses_a_private_address_unless_allowed(env: dict[str, str], pages_url: str) -> None:
    refused = storybot("add", f"{pages_url}/news.html", env=env | {"STORYBOT_FETCH_ALLOW_PRIVATE": "false"})

    assert refused.returncode == 1
    assert refused.stderr.strip() == f"storybot: {pages_url}/news.html: that address is on a private network"
    assert not list(Path(env["STORYBOT_ARTICLES_DIR"]).glob("*.md"))


def test_storybot_remove_of_an_unknown_article_is_one_line(env: dict[str, str]) -> None:
    result = storybot("remove", "../outside.txt", env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == "storybot: there is no article '../outside.txt' in the articles folder"


def test_the_saved_front_matter_is_plain_yaml(tmp_path: Path) -> None:
    [item] = add_upload(tmp_path, "ferry.html", (PAGES / "metadata_date.html").read_bytes(), by="a test")
    header = item.path.read_text().split("---\n")[1]
    assert yaml.safe_load(header)["author"] == "Callum Reyes"
