"""Answers, sources and help as Discord embeds, within Discord's limits, cut at word boundaries."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlsplit

import discord
from discord.utils import escape_markdown

from index import Answer, Source, StoredIndex

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
FIELDS_LIMIT = 25
EMBED_LIMIT = 6000
CONTENT_LIMIT = 2000

COLOUR = discord.Colour.blurple()
NOT_IN_THE_ARTICLES = "That is not in the articles I have read. `/sources` lists them."


def cut(text: str, limit: int) -> str:
    """`text` if it fits, else as many whole words as fit followed by an ellipsis."""
    if len(text) <= limit:
        return text
    room = text[: limit - 1]
    space = room.rfind(" ")
    if space > limit // 2:
        room = room[:space]
    return room.rstrip(" ,;:.-–—") + "…"


def _plain(text: str) -> str:
    """Article text shown verbatim: one line, Markdown characters escaped."""
    return escape_markdown(" ".join(text.split()))


def safe_url(url: str | None) -> str | None:
    """An article's `url` fit for a Markdown link: http or https with a host, and every character
    that could end the link or start another (spaces, brackets, parentheses, quotes) percent-encoded;
    None for anything else (javascript:, file:, a bare word)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(url, safe=":/?#@!$&*+,;=%~-._")


def source_line(source: Source, marker: int | None = None) -> str:
    """`[1] allkpop · [Title](link) · 2024-01-30`; unknown parts left out."""
    title = _plain(source.title or source.article_id)
    url = safe_url(source.url)
    parts = [
        f"**{_plain(source.outlet)}**" if source.outlet else "",
        f"[{title}]({url})" if url else f"“{title}”",
        source.date or "",
    ]
    line = " · ".join(p for p in parts if p)
    return f"`[{marker}]` {line}" if marker is not None else line


def built_footer(index: StoredIndex) -> str:
    return f"Index built {index.built_at:%Y-%m-%d %H:%M} UTC · {len(index.entries)} articles"


def answer_embed(answer: Answer, index: StoredIndex) -> discord.Embed:
    """The question as title, numbered snippets with source markers, the sources, the build date."""
    sources = answer.sources()
    marker = {source.article_id: n for n, (source, _) in enumerate(sources, start=1)}
    blocks = []
    for citation in answer.citations:
        markers = "".join(f"`[{marker[s.article_id]}]`" for s in citation.sources)
        outlets = len({source.outlet or source.article_id for source in citation.sources})
        reported = f" · reported by {outlets} outlets" if outlets > 1 else ""
        block = f"**{citation.n}.** “{_plain(citation.snippet)}” {markers}{reported}"
        for disagreement in answer.disagreements_of(citation.n):  # one line under the snippet
            block += f"\n-# ⚠️ {_plain(disagreement.line())}"
        blocks.append(block)
    embed = discord.Embed(
        title=cut(" ".join(answer.question.split()), TITLE_LIMIT),
        description=_fit_blocks(blocks, DESCRIPTION_LIMIT),
        colour=COLOUR,
    )
    _add_lines(embed, "Sources", [source_line(s, marker[s.article_id]) for s, _ in sources])
    embed.set_footer(text=built_footer(index))
    return _within_total(embed)


def sources_embed(index: StoredIndex) -> discord.Embed:
    """Every indexed article, newest first: outlet, title (linked where known), date."""
    entries = sorted(index.entries, key=lambda e: e.article.date or "", reverse=True)
    lines = []
    for entry in entries:
        article = entry.article
        source = Source(article.id, article.title, article.outlet, article.date, article.url, 0, 0)
        lines.append(f"• {source_line(source)}")
    embed = discord.Embed(title=f"Articles I have read ({len(entries)})", colour=COLOUR)
    embed.description = _fit_blocks(lines, DESCRIPTION_LIMIT, sep="\n", more="… and {n} more")
    embed.set_footer(text=f"{built_footer(index)} · {len(index.chunks)} passages · {index.spec.model}")
    return _within_total(embed)


def help_embed(index: StoredIndex, answer_channels: list[int]) -> discord.Embed:
    outlets = sorted({e.article.outlet for e in index.entries if e.article.outlet})
    dates = sorted(e.article.date for e in index.entries if e.article.date)
    known = f"I answer questions about the story told in {len(index.entries)} news articles"
    if outlets:
        known += f" from {', '.join(outlets[:5])}" + (" and others" if len(outlets) > 5 else "")
    if dates:
        known += f", dated {dates[0]}" + (f" to {dates[-1]}" if dates[-1] != dates[0] else "")
    lines = [
        known + ".",
        "I quote the articles and cite them; when they don't say, I tell you so rather than guess.",
        "",
        "**Ask**",
        "• `/ask question:` — add `private:True` to see the answer alone",
        "• mention me with a question, or reply to one of my answers with a follow-up",
        "• on anyone's message: Apps → **Ask StoryBot** answers its text, to you first",
    ]
    if answer_channels:
        channels = ", ".join(f"<#{c}>" for c in answer_channels)
        lines.append(f"• in {channels} just ask: I answer questions the articles cover and stay quiet otherwise")
    lines += [
        "",
        "**Also**",
        "• 👍 / 👎 under an answer tell the people who run me whether it helped",
        "• `/sources` — the articles I have read",
        "• `/reindex` — admins: re-read the articles",
    ]
    embed = discord.Embed(title="StoryBot", description="\n".join(lines), colour=COLOUR)
    embed.set_footer(text=built_footer(index))
    return embed


def _fit_blocks(blocks: list[str], limit: int, *, sep: str = "\n\n", more: str = "") -> str:
    """Whole blocks while they fit. Without `more`, the first block that does not fit is cut to the
    room left (when there is some); with it, the rest is counted ("… and 3 more")."""
    out: list[str] = []
    for i, block in enumerate(blocks):
        left = len(blocks) - i - 1
        tail = len(sep) + len(more.format(n=left)) if more and left else 0
        if len(sep.join([*out, block])) + tail <= limit:
            out.append(block)
            continue
        if more:
            out.append(more.format(n=len(blocks) - i))
        else:
            room = limit - len(sep.join([*out, ""]))
            if room >= 80 or not out:
                out.append(cut(block, room))
        break
    return sep.join(out)


def _add_lines(embed: discord.Embed, name: str, lines: list[str]) -> None:
    """`lines` as fields of at most 1024 characters each (as many as Discord allows)."""
    field: list[str] = []
    for full in lines:
        line = cut(full, FIELD_LIMIT)
        if field and len("\n".join([*field, line])) > FIELD_LIMIT:
            embed.add_field(name=name if not embed.fields else "\u200b", value="\n".join(field), inline=False)
            field = []
        field.append(line)
    if field:
        embed.add_field(name=name if not embed.fields else "\u200b", value="\n".join(field), inline=False)
    while len(embed.fields) > FIELDS_LIMIT:
        embed.remove_field(-1)


def _within_total(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields, then shorten the description, until the embed fits 6000 characters."""
    while len(embed) > EMBED_LIMIT and len(embed.fields) > 1:
        embed.remove_field(-1)
    if len(embed) > EMBED_LIMIT and embed.description:
        embed.description = cut(embed.description, len(embed.description) - (len(embed) - EMBED_LIMIT))
    return embed


def progress_text(stage: str, done: int, total: int, started: dt.datetime) -> str:
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    if stage == "embedding" and total:
        return f"Rebuilding the index… embedding {done}/{total} sentences ({seconds:.0f} s)"
    return f"Rebuilding the index… {stage} ({seconds:.0f} s)"
