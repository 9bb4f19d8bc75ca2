"""The StoryBot client: lifecycle, the one error ladder, permissions, message routing, the reload loop.

The commands live in cogs, one module per feature, added in `setup_hook`:

- bot.asking: /ask, /sources, /help and the "Ask StoryBot" message menu (cog Asking)
- bot.articles: the admins' /add, /remove and /reindex (cog Articles)

and beside them bot.voting (the 👍 / 👎 buttons under public answers, registered here as persistent
dynamic items, and "Post publicly"), bot.feedback (where the votes go; no Discord in it) and
bot.checks (who may run what).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from dataclasses import dataclass, field
from typing import cast

import discord
from discord import app_commands
from discord.ext import commands

from bot import render, voting
from bot.checks import Refused
from bot.feedback import FeedbackError, FeedbackLog
from bot.service import StoryService
from index import Answer, QuestionError, StoryError, validate_question

log = logging.getLogger(__name__)

# StoryBot has no voice; discord.py need not warn that voice libraries are missing.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

# Nothing StoryBot sends pings anyone, whatever the question it repeats holds.
NO_PINGS = discord.AllowedMentions.none()
REPLY_FAILED = "Sorry, Discord would not take my reply; it has been logged. Please try again in a moment."


@dataclass
class BotConfig:
    """What the bot needs from the settings, in the bot's own terms."""

    guild_id: int | None = None
    answer_channel_ids: list[int] = field(default_factory=list)
    admin_user_ids: list[int] = field(default_factory=list)
    admin_role_ids: list[int] = field(default_factory=list)
    cooldown_seconds: float = 5.0
    reload_seconds: float = 30.0  # how often to look for an index another process built (0: never)
    fetch_allow_private: bool = False  # /add may fetch loopback, private and link-local addresses


class Cooldowns:
    """One question per user every `per` seconds, shared by slash commands and messages."""

    def __init__(self, per: float) -> None:
        self.per = per
        self._last: dict[int, dt.datetime] = {}

    def retry_after(self, user_id: int, now: dt.datetime) -> float:
        """0 and the question is counted, or the seconds to wait before the next one."""
        if self.per <= 0:
            return 0.0
        last = self._last.get(user_id)
        if last is not None:
            waited = (now - last).total_seconds()
            if 0 <= waited < self.per:
                return self.per - waited
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget the oldest users, bounded memory
            for key in sorted(self._last, key=self._last.__getitem__)[:5_000]:
                del self._last[key]
        return 0.0


class StoryTree(app_commands.CommandTree["StoryBot"]):
    """The one error handler: expected errors get one short sentence, a reply Discord would not take an
    apology in its place, anything else a generic message and a logged traceback. Commands reach it
    through `on_error`; button callbacks (bot.voting) hand their errors to `explain` directly."""

    async def on_error(self, interaction: discord.Interaction[StoryBot], error: app_commands.AppCommandError) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await self.explain(interaction, cause)

    async def explain(self, interaction: discord.Interaction[StoryBot], cause: Exception) -> None:
        if isinstance(cause, discord.HTTPException):
            await apologise(interaction, cause)
            return
        if isinstance(cause, app_commands.CommandOnCooldown):
            message = f"Slow down a little: you can ask again in {cause.retry_after:.0f} s."
        elif isinstance(cause, Refused | StoryError | FeedbackError):
            message = str(cause)
        elif isinstance(cause, app_commands.NoPrivateMessage):
            message = "That works in a server, not in direct messages."
        else:
            log.error("%s failed", _what(interaction), exc_info=cause)
            message = "Something went wrong on my side; it has been logged. Please try again later."
        await send_private(interaction, message)


def _what(interaction: discord.Interaction[StoryBot]) -> str:
    """What the user used, for the log: `/ask`, `Ask StoryBot`, or a button's custom id."""
    command = interaction.command
    if isinstance(command, app_commands.Command):
        return f"/{command.qualified_name}"
    if command is not None:
        return command.qualified_name
    data: dict[str, object] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    return f"button {custom_id}" if custom_id else "/?"


async def apologise(interaction: discord.Interaction[StoryBot], error: discord.HTTPException) -> None:
    """Discord would not take a reply, even after discord.py's retries. Left alone, a deferred command
    shows "thinking…" for ever; so whatever the user is looking at becomes a short apology: the deferred
    response is edited (a route apart from the follow-up that failed), or, when nothing was sent yet,
    the apology is the response. One log line, not a traceback: Discord's status and message say it all."""
    try:
        if interaction.response.is_done():
            await interaction.edit_original_response(content=REPLY_FAILED)
        else:
            await interaction.response.send_message(REPLY_FAILED, ephemeral=True)
    except discord.HTTPException as again:
        outcome = f"could not tell the user either ({again})"
    else:
        outcome = "told the user it failed"
    log.warning("%s: Discord did not take the reply (%s); %s", _what(interaction), error, outcome)


async def send_private(interaction: discord.Interaction[StoryBot], message: str) -> None:
    """A short private reply, whether or not the interaction was already answered or deferred."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("could not tell the user: %s", message)


def question_check(interaction: discord.Interaction[StoryBot]) -> bool:
    """The per-user cooldown (Cooldowns), for every command that asks a question."""
    retry = interaction.client.cooldowns.retry_after(interaction.user.id, interaction.created_at)
    if retry > 0:
        raise app_commands.CommandOnCooldown(app_commands.Cooldown(1, interaction.client.cooldowns.per), retry)
    return True


class StoryBot(commands.AutoShardedBot):
    """Sharded as Discord asks (one process runs every shard unless `shard_ids` picks some).

    `feedback` defaults to a FeedbackLog over `service.feedback_path`; each StoryBot has its own, so a
    restarted bot reads the votes and answers back from the files.
    """

    def __init__(
        self,
        service: StoryService,
        config: BotConfig,
        *,
        intents: discord.Intents | None = None,
        started: float | None = None,
        feedback: FeedbackLog | None = None,
        **options: object,
    ) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = True
        super().__init__(
            command_prefix=commands.when_mentioned,  # no prefix commands; mentions are questions
            intents=intents,
            allowed_mentions=NO_PINGS,
            tree_cls=StoryTree,
            help_command=None,
            **options,  # type: ignore[arg-type]
        )
        self.service = service
        self.config = config
        self.cooldowns = Cooldowns(config.cooldown_seconds)
        self.feedback = feedback if feedback is not None else FeedbackLog(service.feedback_path)
        self.started = started if started is not None else time.monotonic()
        self._reloader: asyncio.Task[None] | None = None

    @property
    def tree(self) -> StoryTree:
        """The tree, typed as ours: buttons reach its error ladder (`explain`) through it."""
        return cast(StoryTree, super().tree)

    # --- lifecycle -----------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        from bot.articles import Articles  # imported here: the cogs import this module
        from bot.asking import Asking

        await self.add_cog(Asking(self))
        await self.add_cog(Articles(self))
        self.add_dynamic_items(voting.VoteButton)  # votes on answers posted before a restart still count
        if self.shard_ids is not None and 0 not in self.shard_ids:
            log.info("slash commands are synced by the process that runs shard 0")
        elif self.config.guild_id:
            guild = discord.Object(self.config.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d slash commands to guild %s", len(synced), self.config.guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d slash commands globally (they can take a while to appear)", len(synced))
        if self.config.reload_seconds > 0:
            self._reloader = asyncio.create_task(self._reload_loop(), name="storybot-reload")
        if not self.intents.message_content:
            log.warning(
                "the message content intent is off: slash commands and mentions work, but plain questions "
                "in answer channels cannot be read; enable it under Bot → Privileged Gateway Intents"
            )

    async def _reload_loop(self) -> None:
        """Replicas over one index folder: pick up what the rebuilding process wrote."""
        while True:
            await asyncio.sleep(self.config.reload_seconds)
            try:
                await self.service.reload_if_changed()
            except Exception:
                log.exception("looking for a new index failed; the current one keeps serving")

    async def close(self) -> None:
        if self._reloader is not None:
            self._reloader.cancel()
        await super().close()

    async def on_ready(self) -> None:
        index = self.service.index
        shards = sorted(self.shards)
        log.info(
            "ready as %s: %d guilds, shards %s of %d, %d articles, %d chunks, model %s, %.1f s to ready",
            self.user,
            len(self.guilds),
            ",".join(map(str, shards)) or "0",
            self.shard_count or 1,
            len(index.entries),
            len(index.chunks),
            index.spec.model,
            time.monotonic() - self.started,
        )

    # --- permissions ---------------------------------------------------------------------------

    def is_admin(self, user: discord.abc.User) -> bool:
        if user.id in self.config.admin_user_ids:
            return True
        if isinstance(user, discord.Member):
            if user.guild_permissions.manage_guild:
                return True
            return any(role.id in self.config.admin_role_ids for role in user.roles)
        return False

    # --- answering -----------------------------------------------------------------------------

    async def answer(self, question: str, *, where: str, guild: int | None, channel: int | None) -> Answer:
        """The engine's answer, logged as one line (the question itself only at DEBUG)."""
        started = time.perf_counter()
        answer = await self.service.ask(question)
        log.info(
            "question via %s guild=%s channel=%s latency=%.0fms abstained=%s citations=%d",
            where,
            guild,
            channel,
            (time.perf_counter() - started) * 1000,
            answer.abstained,
            len(answer.citations),
        )
        log.debug("question text: %r", question)
        return answer

    async def public_view(self, answer: Answer) -> discord.ui.View | None:
        """The 👍 / 👎 buttons for an answer about to be posted publicly, its record written first
        (bot.feedback); None, and the answer goes out without buttons, when it cannot be written."""
        try:
            answer_id = await asyncio.to_thread(self.feedback.new_answer, answer)
        except OSError as exc:
            log.warning("could not record an answer for feedback (%s); it is posted without vote buttons", exc)
            return None
        return voting.vote_view(answer_id)

    # --- messages ------------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return
        question, where, parent = await self._question_in(message)
        if question is None:
            return
        retry = self.cooldowns.retry_after(message.author.id, message.created_at)
        if retry > 0:
            if where != "channel":
                await self._reply(message, content=f"Slow down a little: you can ask again in {retry:.0f} s.")
            return
        try:
            validate_question(question)
        except QuestionError as exc:
            if where != "channel":
                await self._reply(message, content=str(exc))
            return
        guild = message.guild.id if message.guild else None
        answer = await self.answer(question, where=where, guild=guild, channel=message.channel.id)
        if answer.abstained and parent:
            # A short follow-up ("and when?") may only make sense with the question it follows.
            combined = render.cut(f"{parent} {question}", 500)
            answer = await self.answer(combined, where=where, guild=guild, channel=message.channel.id)
        if answer.abstained:
            if where != "channel":  # answer channels stay quiet when the articles have nothing
                await self._reply(message, content=render.NOT_IN_THE_ARTICLES)
            return
        votes = await self.public_view(answer)
        await self._reply(message, embed=render.answer_embed(answer, self.service.index), view=votes)

    async def _question_in(self, message: discord.Message) -> tuple[str | None, str, str | None]:
        """The question a message asks of the bot, how it was asked, and the question it follows up."""
        assert self.user is not None
        content = message.content
        mentioned = self.user in message.mentions and re.search(rf"<@!?{self.user.id}>", content) is not None
        parent = await self._replied_question(message)
        if mentioned or parent is not None or message.guild is None:  # a direct message asks the bot
            question = re.sub(rf"<@!?{self.user.id}>", " ", content).strip()
            if not question:
                await self._reply(message, embed=render.help_embed(self.service.index, self.config.answer_channel_ids))
                return None, "", None
            where = "reply" if parent is not None else "mention" if mentioned else "dm"
            return question, where, parent or None
        if message.channel.id in self.config.answer_channel_ids and _looks_like_question(content):
            return content.strip(), "channel", None
        return None, "", None

    async def _replied_question(self, message: discord.Message) -> str | None:
        """The question of the bot's answer this message replies to ("" when it is the bot's but
        carries no question), or None when it is not a reply to the bot."""
        reference = message.reference
        if reference is None or reference.message_id is None:
            return None
        replied = reference.resolved
        if replied is None:
            try:
                replied = await message.channel.fetch_message(reference.message_id)
            except discord.HTTPException:
                return None
        if not isinstance(replied, discord.Message) or replied.author != self.user:
            return None
        return next((e.title for e in replied.embeds if e.title), "")

    async def _reply(
        self,
        message: discord.Message,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        try:
            if embed is not None and view is not None:
                await message.reply(content, embed=embed, view=view, mention_author=False, allowed_mentions=NO_PINGS)
            elif embed is not None:
                await message.reply(content, embed=embed, mention_author=False, allowed_mentions=NO_PINGS)
            else:
                await message.reply(content, mention_author=False, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("could not reply in channel %s: %s", message.channel.id, exc)


_QUESTION_START = re.compile(
    r"^(?:who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|can|could|will|would|should|has|have|had)\b",
    re.IGNORECASE,
)


def _looks_like_question(text: str) -> bool:
    text = text.strip()
    return bool(text) and (text.endswith("?") or _QUESTION_START.match(text) is not None)
