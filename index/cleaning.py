"""Generic rules that strip web-page clutter from scraped article text.

Each rule is a plain function from lines to lines so it can be tested on its own. The rules know
the *shapes* of clutter (vote counts, bylines with points, share bars, shop blocks, comment
threads, newsletter prompts, trending lists, relative timestamps), never the words of a story.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

Rule = Callable[[list[str]], list[str]]

# Word characters of any script; used to tell prose from lists and counters.
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"""[.!?…]["'”’)\]]*\s*$""")

_SPACES = {
    "\u00a0": " ",  # no-break space
    "\u2007": " ",  # figure space
    "\u202f": " ",  # narrow no-break space
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u3000": " ",  # ideographic space
    "\ufeff": "",  # byte-order mark
    "\u200b": "",  # zero-width space
    "\r": "",
}
_SPACE_TABLE = str.maketrans(_SPACES)


_SPACE_RUN = re.compile(r"[ \t]{2,}")


def normalise_spaces(text: str) -> str:
    """Turn no-break and other odd spaces into plain ones, drop zero-width marks, fold runs."""
    text = unicodedata.normalize("NFC", text).translate(_SPACE_TABLE)
    return "\n".join(_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n"))


_LEADING_DATE = re.compile(r"^\s*(?:date|published|posted|updated)\s*:?\s*(\d{4}-\d{2}-\d{2})\b[\s|:-]*", re.IGNORECASE)


def split_leading_date(text: str) -> tuple[str | None, str]:
    """A scraped "date 2024-01-28 ..." prefix: return the ISO date and the text without it."""
    match = _LEADING_DATE.match(text)
    if match is None:
        return None, text
    return match.group(1), text[match.end() :]


def _is_blank(line: str) -> bool:
    return not line.strip()


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def _is_prose(line: str) -> bool:
    """A line that reads like a sentence of the article rather than a label or a counter."""
    return len(_words(line)) >= 8 or (len(_words(line)) >= 3 and bool(_SENTENCE_END.search(line)))


# --- rule: counters and prices -------------------------------------------------------------

_COUNTER = re.compile(
    r"""^\s*[-+(]?\s*[$€£¥₩]?\s*[\d.,]+\s*[kKmM%]?\s*(\(\s*[+-]?[\d.,]+\s*/\s*[+-]?[\d.,]+\s*\))?\s*$"""
)


def drop_counters(lines: list[str]) -> list[str]:
    """Lines that are only a number, a price or a vote tally ("215", "$25", "34 (+35 / -1)")."""
    return [line for line in lines if not _COUNTER.match(line)]


# --- rule: bylines with points (forum-style "Posted by X 12,345 pts <date>") -----------------

# "Posted by" and then points, or a name glued to its points; "she scored 31 pts" is prose.
_POINTS_BYLINE = re.compile(r"^\s*(?:posted by\b.*?|\S*[^\W\d])\d[\d,]*\s*pts\b", re.IGNORECASE)


def drop_point_bylines(lines: list[str]) -> list[str]:
    """Forum bylines that give a user's points ("Posted by someone122,584 pts Tuesday, ...")."""
    return [line for line in lines if not _POINTS_BYLINE.match(line)]


# --- rule: share / vote bars -----------------------------------------------------------------

_SOCIAL = {
    "share", "shares", "shared", "upvoted", "upvote", "upvotes", "downvote", "downvoted", "like",
    "likes", "comment", "comments", "reply", "replies", "tweet", "pin", "email", "print", "save",
    "saved", "follow", "report", "copy", "link", "facebook", "twitter", "whatsapp", "reddit",
    "views", "votes", "vote", "points", "this", "article", "story", "post", "page", "on",
}  # fmt: skip


def drop_share_bars(lines: list[str]) -> list[str]:
    """Lines made only of counts and social-button words ("19 30,040 Share 78% Upvoted")."""
    kept = []
    for line in lines:
        words = [w.lower() for w in _words(line)]
        if words and len(words) <= 6 and all(w in _SOCIAL for w in words):
            continue
        kept.append(line)
    return kept


# --- rule: shop blocks -----------------------------------------------------------------------

_SHOP_HEADING = re.compile(
    r"^\s*(shop|buy) (the|this) (story|look|post|article|edit)\b|^\s*(shop now|related products|"
    r"products? (in|from) (this|the) (story|article))\s*:?\s*$",
    re.IGNORECASE,
)


def drop_shop_blocks(lines: list[str]) -> list[str]:
    """A "Shop the story" heading and the product and price lines under it, up to the next prose."""
    kept: list[str] = []
    in_block = False
    for line in lines:
        if _SHOP_HEADING.match(line):
            in_block = True
            continue
        if in_block:
            if _is_blank(line) or not _is_prose(line):
                continue
            in_block = False
        kept.append(line)
    return kept


# --- rule: reader comments ---------------------------------------------------------------------

_COMMENTS_MARKER = re.compile(
    r"^\s*(show|view|load|see|read) (all |more )?(\d+ )?comments?\b|^\s*\d*\s*comments?\s*:?\s*$|"
    r"^\s*(leave|post|add|write) a (comment|reply)\b|^\s*(reader |user )?comments\s*\(\d+\)\s*$",
    re.IGNORECASE,
)
# A commenter's header: their name glued to their points and a date or score. The name must end
# in a letter, so a paragraph that opens with a score ("40 pts in one night ...") is not one.
_COMMENT_HEADER = re.compile(r"^\s*\S*[^\W\d]\d[\d,]*\s*pts\b", re.IGNORECASE)


def drop_comments(lines: list[str]) -> list[str]:
    """Reader comments: everything from the first comment header or comments marker on.

    Comment threads sit below the article on every page layout we know of, and what follows
    them (newsletter boxes, trending lists) is clutter too, so the cut goes to the end. The
    commenter's name usually stands alone on the line above the header; it goes with it.
    """
    for i, line in enumerate(lines):
        if _COMMENTS_MARKER.match(line):
            return lines[:i]
        if _COMMENT_HEADER.match(line):
            above = lines[i - 1].strip() if i else ""
            glued_name = bool(above) and line.strip().startswith(above)
            return lines[: i - 1] if glued_name else lines[:i]
    return lines


# --- rule: newsletter prompts ------------------------------------------------------------------

_NEWSLETTER = re.compile(
    r"\b(in your inbox|newsletter|subscribe|sign up (for|to)|delivered (daily|weekly|to your)|"
    r"get (the|our) (latest|top)|new message|enter your e-?mail)\b|^\s*(send|submit|sign up)\s*$",
    re.IGNORECASE,
)


def drop_newsletter_prompts(lines: list[str]) -> list[str]:
    """Newsletter boxes ("allkpop in your Inbox", "THE TOP 10 STORIES DELIVERED DAILY", "SEND")."""
    return [line for line in lines if (_is_prose(line) and len(_words(line)) > 12) or not _NEWSLETTER.search(line)]


# --- rule: pointers to embedded media ----------------------------------------------------------

_MEDIA_PROMPT = re.compile(
    r"^\s*(?:(?:be sure|make sure|don't forget|do not forget) to\s+)?"
    r"(?:check out|watch|see|listen to|take a look at|view|look at)\b.{0,100}?\b(?:below|above)\s*[.!:]?\s*$",
    re.IGNORECASE,
)


def drop_media_prompts(lines: list[str]) -> list[str]:
    """Lines that point at a player or gallery the scrape lost ("Be sure to check out the video below.")."""
    return [line for line in lines if not _MEDIA_PROMPT.match(line)]


# --- rule: relative timestamps -----------------------------------------------------------------

_RELATIVE_TIME = re.compile(
    r"^\s*(\d+|an?|one)\s+(second|minute|hour|day|week|month|year)s?\s+ago\b[\s\d.,]*$", re.IGNORECASE
)


def drop_relative_timestamps(lines: list[str]) -> list[str]:
    """Widget timestamps with counters ("48 minutes ago  319")."""
    return [line for line in lines if not _RELATIVE_TIME.match(line)]


# --- rule: label lists (tags, trending names, navigation) ---------------------------------------

_LIST_RUN = 3


def drop_label_runs(lines: list[str]) -> list[str]:
    """Runs of three or more consecutive short label lines with no blank line between them.

    Articles separate their paragraphs and headings with blank lines; tag lists, trending-name
    boxes and menus stack short lines ("1. BTS", "2. V", "misc.", "NewJeans") with none.
    """
    kept: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) < _LIST_RUN:
            kept.extend(run)
        run.clear()

    for line in lines:
        if not _is_blank(line) and not _is_prose(line) and len(_words(line)) <= 8:
            run.append(line)
            continue
        flush()
        kept.append(line)
    flush()
    return kept


# --- rule: kicker labels above the headline -----------------------------------------------------


def drop_leading_labels(lines: list[str]) -> list[str]:
    """Single-word section labels ("News") before the first line of real text."""
    for i, line in enumerate(lines):
        if _is_blank(line):
            continue
        if len(_words(line)) == 1 and len(line.strip()) <= 20 and not _SENTENCE_END.search(line):
            lines = [*lines[:i], *lines[i + 1 :]]
            return drop_leading_labels(lines)
        return lines
    return lines


# --- rule: blank lines ---------------------------------------------------------------------------


def collapse_blank_lines(lines: list[str]) -> list[str]:
    """At most one blank line in a row, none at the start or the end."""
    kept: list[str] = []
    for line in lines:
        if _is_blank(line):
            if kept and kept[-1] != "":
                kept.append("")
            continue
        kept.append(line)
    while kept and kept[-1] == "":
        kept.pop()
    return kept


RULES: Sequence[Rule] = (
    drop_comments,
    drop_shop_blocks,
    drop_point_bylines,
    drop_share_bars,
    drop_newsletter_prompts,
    drop_media_prompts,
    drop_relative_timestamps,
    drop_counters,
    drop_label_runs,
    drop_leading_labels,
    collapse_blank_lines,
)


def clean(text: str, rules: Sequence[Rule] = RULES) -> str:
    """Return the article's own text: clutter removed, spaces normalised, paragraphs kept."""
    lines = normalise_spaces(split_leading_date(text)[1]).split("\n")
    for rule in rules:
        lines = rule(lines)
    return "\n".join(lines)
