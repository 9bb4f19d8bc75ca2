"""/add, /remove and /reindex: admins change which articles the bot has read, from Discord.

The three share an audience, a check and the rebuild, so they are one cog: all admin-only with a
double check (Discord shows the commands only to members with Manage Server; the bot checks again
when they run), all answered privately. /add and /remove save or move the file, run the incremental
build (only the new article is embedded), and log one line: who, what, where. /reindex re-reads
the whole folder, showing its progress as it goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.checks import Refused, admin_check
from bot.service import RebuildRunning
from index import BuildProgress, StoryError
from index.fetch import fetch_page
from index.intake import Added, add_page, add_upload, remove_article

if TYPE_CHECKING:
    from bot.client import StoryBot

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
PROGRESS_EVERY = 2.0  # seconds between edits of the /reindex progress message


def _who(interaction: discord.Interaction[StoryBot]) -> str:
    return f"user {interaction.user.id} in guild {interaction.guild_id}"


def _added_embed(added: list[Added], indexed: str) -> discord.Embed:
    """What was stored, so the admin sees at once whether the extraction found the article."""
    first = added[0].article
    embed = discord.Embed(
        title=render.cut(f"Added: {first.title or first.id}", render.TITLE_LIMIT), colour=render.COLOUR
    )
    url = render.safe_url(first.url)
    if url:
        embed.url = url
    for item in added[:5]:
        article = item.article
        lines = [
            f"**Outlet** {render.cut(article.outlet or '(none found)', 100)}",
            f"**Date** {article.date or '(none found)'} · **Words** {item.words:,}",
            f"**Begins** {render.cut(item.opening, 600)}",
            f"Saved as `{render.cut(item.path.name, 120)}`",
        ]
        embed.add_field(
            name=render.cut(article.title or article.id, 256), value=render.cut("\n".join(lines), 1024), inline=False
        )
    if len(added) > 5:
        embed.add_field(name="…", value=f"and {len(added) - 5} more articles from the same file", inline=False)
    embed.set_footer(text=indexed)
    return embed


class Articles(commands.Cog):
    """The articles folder, from Discord."""

    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @property
    def _folder(self) -> Path:
        return self.bot.service.engine.articles_dir

    async def _index(self) -> str:
        """Run the incremental build; one line saying what it did, for the reply's footer."""
        try:
            rebuilt = await self.bot.service.rebuild()
        except RebuildRunning:
            return "A rebuild was already running and may not include this; run /reindex when it is done."
        except StoryError as exc:
            log.warning("build after an article change failed, the previous index keeps serving: %s", exc)
            return f"Saved, but the index could not be rebuilt: {exc}"
        return f"Indexed: {rebuilt.report.summary()}"

    @app_commands.command(name="add", description="Admins: add an article from a web page or a file.")
    @app_commands.describe(url="A web page with the article", file="A .txt, .md, .json, .jsonl or .html file")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @app_commands.check(admin_check)
    async def add(
        self,
        interaction: discord.Interaction[StoryBot],
        url: str | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        if (url is None) == (file is None):
            raise Refused("Give either a `url` or a `file`, one of them.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            if url is not None:
                page = await fetch_page(url, allow_private=self.bot.config.fetch_allow_private)
                added = [await asyncio.to_thread(add_page, self._folder, page.text, page.url, by=_who(interaction))]
            else:
                assert file is not None
                if file.size > MAX_UPLOAD_BYTES:
                    raise Refused(f"That file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
                data = await file.read()
                added = await asyncio.to_thread(add_upload, self._folder, file.filename, data, by=_who(interaction))
        except StoryError as exc:
            log.info("/add by %s refused: %s", _who(interaction), exc)
            await interaction.followup.send(render.cut(_sentence(str(exc)), render.CONTENT_LIMIT), ephemeral=True)
            return
        indexed = await self._index()
        await interaction.followup.send(embed=_added_embed(added, indexed), ephemeral=True)

    @app_commands.command(name="remove", description="Admins: stop citing an article (it is moved, not deleted).")
    @app_commands.describe(article="The article's title")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @app_commands.check(admin_check)
    async def remove(self, interaction: discord.Interaction[StoryBot], article: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            removed, moved = await asyncio.to_thread(remove_article, self._folder, article, by=_who(interaction))
        except StoryError as exc:
            await interaction.followup.send(render.cut(_sentence(str(exc)), render.CONTENT_LIMIT), ephemeral=True)
            return
        indexed = await self._index()
        title = removed.title or removed.id
        message = (
            f"Removed **{render.cut(title, 200)}**: moved to `{render.cut(str(moved), 300)}` "
            f"(move it back and /reindex to undo). {indexed}"
        )
        await interaction.followup.send(render.cut(message, render.CONTENT_LIMIT), ephemeral=True)

    @app_commands.command(name="reindex", description="Admins: re-read the articles folder and rebuild the index.")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @app_commands.check(admin_check)
    async def reindex(self, interaction: discord.Interaction[StoryBot]) -> None:
        service = self.bot.service
        if service.rebuilding:
            raise Refused("A rebuild is already running; this one was not started. Try again when it is done.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        log.info("/reindex by user %s in guild %s", interaction.user.id, interaction.guild_id)
        started = dt.datetime.now(dt.UTC)
        latest: list[BuildProgress] = []
        done = asyncio.Event()

        async def show_progress() -> None:
            shown = render.progress_text("reading the articles folder", 0, 0, started)
            await _quietly(interaction.edit_original_response(content=shown))
            while not done.is_set():
                if latest:
                    event = latest[-1]
                    text = render.progress_text(event.stage, event.done, event.total, started)
                    if text != shown:
                        shown = text
                        await _quietly(interaction.edit_original_response(content=text))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), PROGRESS_EVERY)

        editor = asyncio.create_task(show_progress())
        try:
            rebuilt = await service.rebuild(progress=latest.append)
        except RebuildRunning:
            message = "A rebuild is already running; this one was not started."
        except StoryError as exc:
            log.warning("/reindex failed, the previous index keeps serving: %s", exc)
            message = f"The rebuild failed and the previous index keeps serving: {exc}"
        except Exception:
            log.exception("/reindex failed, the previous index keeps serving")
            message = "The rebuild failed and the previous index keeps serving; the error has been logged."
        else:
            report = rebuilt.report
            log.info("/reindex done: %s", report.summary())
            message = (
                f"Index rebuilt: {len(report.added)} added, {len(report.changed)} changed, "
                f"{len(report.removed)} removed, {len(report.unchanged)} unchanged articles; "
                f"{report.chunks} passages ({report.embedded_chunks} embedded) in {report.seconds:.1f} s."
            )
            if report.skipped:
                names = ", ".join(s.path for s in report.skipped[:5])
                message += f"\nSkipped {len(report.skipped)} files: {names}" + ("…" if len(report.skipped) > 5 else "")
        finally:
            done.set()
            await editor
        # Not quietly, unlike the progress: if the result cannot be shown, the tree's on_error apologises.
        await interaction.edit_original_response(content=render.cut(message, render.CONTENT_LIMIT))

    @remove.autocomplete("article")
    async def _complete_article(
        self, interaction: discord.Interaction[StoryBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """The indexed articles whose title (or id) holds what was typed, newest first."""
        typed = current.casefold()
        entries = sorted(self.bot.service.index.entries, key=lambda e: e.article.date or "", reverse=True)
        choices = []
        for entry in entries:
            article = entry.article
            label = " · ".join(x for x in (article.title or article.id, article.outlet, article.date) if x)
            if typed in label.casefold() and len(article.id) <= 100:
                choices.append(app_commands.Choice(name=render.cut(label, 100), value=article.id))
            if len(choices) == 25:  # Discord shows at most 25
                break
        return choices


def _sentence(message: str) -> str:
    """An engine message as a sentence to a person: capital first, full stop last."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


async def _quietly(awaitable: Awaitable[object]) -> None:
    """Progress edits are best effort: an expired interaction must not fail the rebuild."""
    try:
        await awaitable
    except discord.HTTPException as exc:
        log.debug("progress edit failed: %s", exc)
