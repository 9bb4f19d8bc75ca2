"""Articles in and out of the articles folder: what /add, /remove, `storybot add` and `storybot
remove` do before the (incremental) build that indexes the change.

An added article is saved as Markdown with front matter, so that what was extracted can be read,
corrected and kept under version control like any hand-written article. A removed one is moved
to a `removed/` folder beside the articles folder, never deleted: moving it back undoes it.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from index.articles import SUPPORTED_SUFFIXES, Article, article_from_html, load_corpus, read_file
from index.chunking import sentence_spans
from index.errors import ArticleError, StoryError

log = logging.getLogger(__name__)

REMOVED_FOLDER = "removed"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~])")


class DuplicateArticleError(StoryError):
    """The article is in the folder already (same URL or same text)."""


class IntakeError(StoryError):
    """An article cannot be added or removed; the message is one sentence for the person who asked."""


@dataclass(frozen=True)
class Added:
    """An article saved into the articles folder."""

    article: Article
    path: Path

    @property
    def words(self) -> int:
        return len(self.article.text.split())

    @property
    def opening(self) -> str:
        """The first two sentences: enough to see at once whether the extraction found the article."""
        spans = sentence_spans(self.article.text)[:2]
        return " ".join(self.article.text[start:end] for start, end in spans)

    def describe(self) -> list[str]:
        article = self.article
        return [
            f"title:  {article.title or '(none found)'}",
            f"outlet: {article.outlet or '(none found)'}",
            f"date:   {article.date or '(none found)'}",
            f"words:  {self.words:,}",
            f"begins: {self.opening}",
        ]


def removed_folder(articles_dir: Path) -> Path:
    """Where /remove puts articles: beside the articles folder, so builds do not read it."""
    return articles_dir.resolve().parent / REMOVED_FOLDER


# --- adding ------------------------------------------------------------------------------------------


def add_page(articles_dir: Path, html: str, url: str, *, by: str) -> Added:
    """The article in a fetched web page, saved; DuplicateArticleError when it is there already.
    `by` says who asked, for the log."""
    article = article_from_html("page", html, url)
    [added] = _save_all(articles_dir, [article], source=url, by=by)
    return added


def add_upload(articles_dir: Path, filename: str, data: bytes, *, by: str) -> list[Added]:
    """The articles in an uploaded file (.txt, .md, .json, .jsonl, .html), each saved as Markdown."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IntakeError(f"{_safe_name(filename)} is not a .txt, .md, .json, .jsonl or .html file")
    with tempfile.TemporaryDirectory(prefix="storybot-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            articles, skipped = read_file(path, "upload")
        except ArticleError as exc:
            raise IntakeError(f"{_safe_name(filename)}: {exc}") from exc
    if not articles:
        reason = skipped[0].reason if skipped else "no articles in it"
        raise IntakeError(f"{_safe_name(filename)}: {reason}")
    return _save_all(articles_dir, articles, source=_safe_name(filename), by=by)


def _save_all(articles_dir: Path, articles: list[Article], source: str, by: str) -> list[Added]:
    if not articles_dir.is_dir():
        raise IntakeError(f"the articles folder {articles_dir} does not exist")
    existing = load_corpus(articles_dir, warn=False).articles
    for article in articles:
        duplicate = _duplicate_of(article, existing)
        if duplicate is not None:
            raise DuplicateArticleError(f"already have it: {duplicate.title or duplicate.id}")
    added = []
    for article in articles:
        path = _write_markdown(articles_dir, article)
        added.append(Added(article, path))
        existing.append(article)
        log.info("added %r from %s, by %s: saved as %s", article.title or "(untitled)", source, by, path)
    return added


def normalise_url(url: str) -> str:
    """A URL as compared for "already have it": no fragment, no tracking parameters, case and
    trailing slash and www. ignored."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith(("utm_", "fbclid=")))
    return urlunsplit(("", host, parts.path.rstrip("/"), query, ""))


def _same_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def _duplicate_of(article: Article, existing: Iterable[Article]) -> Article | None:
    url = normalise_url(article.url) if article.url else None
    text = _same_text(article.text)
    for other in existing:
        if (url and other.url and normalise_url(other.url) == url) or _same_text(other.text) == text:
            return other
    return None


def _slug(article: Article) -> str:
    words = unicodedata.normalize("NFKD", article.title or article.text[:80]).encode("ascii", "ignore").decode()
    words = re.sub(r"['’]|(?<=\d),(?=\d)", "", words.lower())  # "Harwick's", "4,000": one word each
    slug = "-".join(re.findall(r"[a-z0-9]+", words)[:8]) or "article"
    return f"{article.date}-{slug}" if article.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", article.date) else slug


def markdown_escape(text: str) -> str:
    """Text that index.articles.markdown_to_text gives back unchanged: its syntax characters escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _write_markdown(articles_dir: Path, article: Article) -> Path:
    """Front matter with what is known, then the text; written to a hidden file, then renamed, so a
    build never reads half an article."""
    meta = {name: value for name, value in article.metadata().items() if value}
    body = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000) + "---\n"
    body += markdown_escape(article.text) + "\n"
    slug = _slug(article)
    path = articles_dir / f"{slug}.md"
    number = 2
    while path.exists():
        path = articles_dir / f"{slug}-{number}.md"
        number += 1
    temporary = articles_dir / f".{path.name}.{secrets.token_hex(3)}.tmp"
    try:
        temporary.write_text(body, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise IntakeError(f"cannot save into {articles_dir} ({exc.strerror or exc})") from exc
    return path


def _safe_name(filename: str) -> str:
    """An uploaded file's name as echoed back: its last part, printable, short."""
    name = Path(filename.replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable())[:80]
    return name or "the file"


# --- removing ---------------------------------------------------------------------------------------


def remove_article(articles_dir: Path, article_id: str, *, by: str) -> tuple[Article, Path]:
    """Move the file holding `article_id` into the removed folder; the article and where it went.
    `by` says who asked, for the log."""
    relative = article_id.split("#", 1)[0]
    folder = articles_dir.resolve()
    path = (articles_dir / relative).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise IntakeError(f"there is no article {article_id!r} in the articles folder")
    try:
        articles, _ = read_file(articles_dir / relative, relative)
    except ArticleError:
        articles = []
    article = next((a for a in articles if a.id == article_id), None)
    if article is None:
        raise IntakeError(f"there is no article {article_id!r} in the articles folder")
    if len(articles) > 1:
        raise IntakeError(
            f"{relative} holds {len(articles)} articles; remove the file on the host, or edit it, to remove one"
        )
    target = removed_folder(articles_dir) / path.relative_to(folder)
    number = 2
    while target.exists():
        target = target.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)  # a rename, or a copy when removed/ is on another disk
    except OSError as exc:
        raise IntakeError(f"cannot move {relative} into {target.parent} ({exc.strerror or exc})") from exc
    log.info("removed %r (%s), by %s: moved to %s", article.title or "(untitled)", article_id, by, target)
    return article, target
