"""Articles on disk: plain text, Markdown (both with optional front matter), JSON and JSON Lines.

A file that cannot be read is skipped with a reason; it never aborts a build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from index.cleaning import clean, split_leading_date
from index.errors import ArticleError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES | HTML_SUFFIXES
METADATA_FIELDS = ("title", "outlet", "date", "url", "author")
TEXT_FIELDS = ("text", "body", "content")
MAX_FILE_BYTES = 50 * 1024 * 1024
# Front matter and metadata are a few lines of fields; anything far beyond that is an attack or an
# accident, and a title of megabytes would be quoted under every answer.
MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_FIELD_CHARS = {"url": 2048, "title": 500}
MAX_OTHER_FIELD_CHARS = 200


@dataclass(frozen=True)
class Article:
    """One article: its cleaned text and what is known about it (None where unknown)."""

    id: str
    text: str
    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    author: str | None = None

    @property
    def fingerprint(self) -> str:
        """Changes exactly when what gets embedded changes (text or title), not other metadata."""
        digest = hashlib.sha256()
        digest.update((self.title or "").encode())
        digest.update(b"\0")
        digest.update(self.text.encode())
        return digest.hexdigest()

    def metadata(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in METADATA_FIELDS}


@dataclass(frozen=True)
class Skipped:
    """A file (or record) left out of the index, and why."""

    path: str
    reason: str


@dataclass
class Corpus:
    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


# --- dates -------------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%A, %B %d, %Y", "%Y/%m/%d")


def normalise_date(value: object) -> str | None:
    """ISO date for anything that reads as a date; other strings are kept as written."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        return text


def _text_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _field(meta: Mapping[str, Any], *names: str) -> str | None:
    """The first of `names` that `meta` has, as one line of text of a sane length."""
    value = next((meta[name] for name in names if meta.get(name) not in (None, "")), None)
    if isinstance(value, Mapping | list):
        raise ArticleError(f"the {names[0]} field is a {type(value).__name__}, not text")
    text = _text_or_none(value)
    limit = MAX_FIELD_CHARS.get(names[0], MAX_OTHER_FIELD_CHARS)
    if text is not None and len(text) > limit:
        raise ArticleError(f"the {names[0]} field is {len(text):,} characters long; the limit is {limit:,}")
    return text


# --- Markdown ------------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# Each pattern is linear in the text: what may repeat inside a construct excludes the character
# that opens the next one, so a file of a million unclosed "[" or "*" is one pass, not a million.
_MD_IMAGE = re.compile(r"!\[[^\[\]\n]*\]\([^()\n]*\)")
_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\([^()\n]*\)")
# [ \t], not \s: \s would match the newlines around a heading or quote and glue paragraphs together.
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+([^\n]*)$", re.MULTILINE)
_MD_EMPHASIS = [
    re.compile(rf"{m}(?=[^\s{c}])([^{c}\n]+?)(?<=[^\s{c}]){m}")
    for m, c in ((r"\*\*", r"\*"), ("__", "_"), (r"\*", r"\*"), ("_", "_"))
]
_MD_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")


class _FrontMatterLoader(yaml.SafeLoader):
    """safe_load without aliases: `*name` copies a node, and a few nested copies turn 369 bytes
    into gigabytes (a "billion laughs"). Article metadata never needs them."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise ArticleError("front matter uses a YAML alias (*name); write each value out")
        return super().compose_node(parent, index)


def split_front_matter(raw: str) -> tuple[dict[str, Any], str]:
    """YAML front matter between `---` lines at the top, and the body after it."""
    match = _FRONT_MATTER.match(raw)
    if match is None:
        return {}, raw
    if len(match.group(1).encode()) > MAX_FRONT_MATTER_BYTES:
        raise ArticleError(f"front matter is over {MAX_FRONT_MATTER_BYTES // 1024} KiB; it should be a few fields")
    try:
        data = yaml.load(match.group(1), Loader=_FrontMatterLoader) or {}  # a SafeLoader
    except RecursionError as exc:
        raise ArticleError("front matter is nested too deeply") from exc
    except yaml.YAMLError as exc:
        raise ArticleError(f"front matter is not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict):
        raise ArticleError("front matter is not a mapping of fields")
    return data, raw[match.end() :]


_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
_ESCAPED_BASE = 0xF0000  # a private-use plane: the rules below leave these characters alone
_ESCAPED = re.compile("[\U000f0000-\U000f007f]")


def markdown_to_text(markdown: str) -> str:
    """Markdown syntax off, words kept: headings, emphasis, links (their text), images, tags.
    A backslash-escaped character ("\\*") is kept as the character, as Markdown does."""
    text = _MD_ESCAPE.sub(lambda escaped: chr(_ESCAPED_BASE + ord(escaped[1])), markdown)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub(lambda heading: heading[1].rstrip(" \t").rstrip("#").rstrip(" \t"), text)
    text = _MD_QUOTE.sub("", text)
    for _ in range(3):  # "**bold *and* more**": the inner pair first, then the outer
        stripped = text
        for emphasis in _MD_EMPHASIS:
            stripped = emphasis.sub(r"\1", stripped)
        if stripped == text:
            break
        text = stripped
    text = _HTML_TAG.sub("", text)
    return _ESCAPED.sub(lambda kept: chr(ord(kept[0]) - _ESCAPED_BASE), text)


# --- building articles -----------------------------------------------------------------------------


def _headline(text: str) -> str | None:
    """The first line, when it reads as a headline (short, not a sentence ending in a full stop)."""
    first = text.split("\n", 1)[0].strip()
    if first and len(first) <= 200 and not first.endswith((".", ":")) and len(first.split()) >= 3:
        return first
    return None


def make_article(article_id: str, raw_text: str, meta: Mapping[str, Any], *, markdown: bool = False) -> Article:
    """Clean the text and fill in metadata; what is not given is read from the text or left None."""
    body = markdown_to_text(raw_text) if markdown else raw_text
    leading_date, _ = split_leading_date(body)
    text = clean(body)
    if not text.strip():
        raise ArticleError("no article text left after cleaning")
    date = meta.get("date") or meta.get("published")
    return Article(
        id=article_id,
        text=text,
        title=_field(meta, "title") or _headline(text),
        outlet=_field(meta, "outlet", "source", "publisher"),
        date=normalise_date(date if isinstance(date, dt.date) else _field(meta, "date", "published") or leading_date),
        url=_field(meta, "url", "link"),
        author=_field(meta, "author"),
    )


def _record_text(record: Mapping[str, Any]) -> str:
    for name in TEXT_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            return value
    raise ArticleError(f"no text: a record needs one of the fields {', '.join(TEXT_FIELDS)}")


def _records(path: Path, raw: str) -> Iterator[tuple[int, Mapping[str, Any] | None, str | None]]:
    """(line or position, record, error) for each record in a JSON or JSON Lines file."""
    if path.suffix.lower() in JSONL_SUFFIXES:
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"line {number} is not JSON ({exc.msg})"
                continue
            except RecursionError:
                yield number, None, f"line {number} is nested too deeply"
                continue
            yield (
                number,
                value if isinstance(value, dict) else None,
                None if isinstance(value, dict) else (f"line {number} is not a JSON object"),
            )
        return
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ArticleError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except RecursionError as exc:  # json's decoder recurses once per [ or {
        raise ArticleError("JSON nested too deeply") from exc
    items = value if isinstance(value, list) else [value]
    for number, item in enumerate(items, start=1):
        yield (
            number,
            item if isinstance(item, dict) else None,
            None if isinstance(item, dict) else (f"item {number} is not a JSON object"),
        )


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ArticleError(f"file is {size // (1024 * 1024)} MiB; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MiB")


def _read_text(path: Path) -> str:
    _check_size(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"not UTF-8 text (byte {exc.start})") from exc


def _read_html(path: Path) -> str:
    """A saved page, decoded as a fetched one is (its <meta> charset, else UTF-8; bytes that do
    not decode are replaced)."""
    _check_size(path)
    from index.fetch import decode

    return decode(path.read_bytes(), None)


def article_from_html(article_id: str, html: str, url: str | None = None) -> Article:
    """The article in a web page (index.extraction), cleaned like any other article."""
    from index.extraction import NO_TEXT, extract_html

    page = extract_html(html, url)
    try:
        return make_article(article_id, page.text, page.metadata())
    except ArticleError as exc:
        if "no article text" in str(exc):  # what trafilatura found was a menu or a counter: clutter
            raise ArticleError(NO_TEXT) from exc
        raise


def read_file(path: Path, article_id: str) -> tuple[list[Article], list[Skipped]]:
    """The articles in one file, and the records in it that had to be skipped."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ArticleError(f"unknown file type {suffix or '(no extension)'}; use .txt, .md, .json, .jsonl or .html")
    if suffix in HTML_SUFFIXES:
        return [article_from_html(article_id, _read_html(path))], []
    raw = _read_text(path)
    if suffix in TEXT_SUFFIXES | MARKDOWN_SUFFIXES:
        meta, body = split_front_matter(raw)
        return [make_article(article_id, body, meta, markdown=suffix in MARKDOWN_SUFFIXES)], []
    articles: list[Article] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for number, record, error in _records(path, raw):
        where = f"{article_id}#{number}"
        if record is None:
            skipped.append(Skipped(where, error or "not a JSON object"))
            continue
        record_id = f"{article_id}#{record['id']}" if record.get("id") not in (None, "") else where
        if record_id in seen:
            skipped.append(Skipped(where, f"duplicate id {record_id}"))
            continue
        try:
            articles.append(make_article(record_id, _record_text(record), record))
        except ArticleError as exc:
            skipped.append(Skipped(where, str(exc)))
            continue
        seen.add(record_id)
    return articles, skipped


def load_corpus(folder: Path, *, warn: bool = True) -> Corpus:
    """Every article under `folder` (recursively, in name order); unreadable files are skipped
    (and logged as warnings when `warn`)."""
    corpus = Corpus()
    if not folder.is_dir():
        raise ArticleError(f"articles folder {folder} does not exist; create it or set STORYBOT_ARTICLES_DIR")
    root = folder.resolve()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue  # hidden files and folders (.git, .DS_Store) are never articles
        article_id = relative.as_posix()
        if not path.resolve().is_relative_to(root):
            # A link can point anywhere (another user's files, /proc/self/mem): only the folder is read.
            corpus.skipped.append(Skipped(article_id, "a link to a file outside the articles folder; not followed"))
            continue
        try:
            articles, skipped = read_file(path, article_id)
        except (ArticleError, OSError) as exc:
            reason = str(exc) if isinstance(exc, ArticleError) else f"cannot read ({exc.strerror or exc})"
            skipped, articles = [Skipped(article_id, reason)], []
        except Exception as exc:  # one bad file never aborts a build; the warning names it
            skipped, articles = [Skipped(article_id, f"cannot be read ({exc.__class__.__name__})")], []
        corpus.articles.extend(articles)
        corpus.skipped.extend(skipped)
    for item in corpus.skipped if warn else ():
        log.warning("skipped %s: %s", item.path, item.reason)
    return corpus
