"""The article inside a web page, with trafilatura: the one module that imports it.

trafilatura finds the main text of a page (navigation, cookie banners, share bars, related links
and reader comments left out) and reads its metadata from wherever the page keeps it (Open Graph,
JSON-LD, <meta>, <time>): title, site name, date, author, canonical URL. What it returns still
goes through the project's own cleaning rules (index.cleaning), like any other article.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from index.errors import ArticleError

log = logging.getLogger(__name__)

# trafilatura reports pages it cannot parse, and its date guesser every odd date, at WARNING:
# that is our message to give, once, in our words.
for _name in ("trafilatura", "htmldate", "courlan", "justext"):
    logging.getLogger(_name).setLevel(logging.ERROR)

NO_TEXT = "no article text found on that page"


@dataclass(frozen=True)
class Extracted:
    """What a page says about its article; None where it says nothing."""

    text: str
    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    author: str | None = None
    url: str | None = None

    def metadata(self) -> dict[str, str | None]:
        return {"title": self.title, "outlet": self.outlet, "date": self.date, "author": self.author, "url": self.url}


def extract_html(html: str, url: str | None = None) -> Extracted:
    """The main text of a page and its metadata; ArticleError when there is no article in it.

    `url` is where the page came from: the fallback when the page names no canonical URL.
    """
    import trafilatura

    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            favor_precision=True,
        )
    except (ValueError, TypeError, RecursionError) as exc:  # lxml on hostile markup
        raise ArticleError(f"{NO_TEXT} ({exc.__class__.__name__})") from exc
    if document is None or isinstance(document, dict) or not (document.text or "").strip():
        raise ArticleError(NO_TEXT)
    title = _one_line(document.title)
    return Extracted(
        text=_paragraphs(document.text or "", title),
        title=title,
        outlet=_one_line(document.sitename),
        date=_one_line(document.date),
        author=_one_line(document.author),
        url=_one_line(document.url) or url,
    )


def _one_line(value: object) -> str | None:
    text = " ".join(str(value).split()) if value else ""
    return text or None


def _paragraphs(text: str, title: str | None) -> str:
    """trafilatura's one paragraph a line, as blank-line-separated paragraphs (what the chunker and
    the snippet windows take as paragraph ends), without a first line that only repeats the title."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and title and lines[0].casefold() == title.casefold():
        lines = lines[1:]
    return "\n\n".join(lines)
