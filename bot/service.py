"""The engine as the bot serves it: answers off the event loop, and rebuilds that swap in whole.

Nothing here knows Discord; the client calls `ask` and `rebuild` and renders what comes back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from index import (
    Answer,
    Answerer,
    BuildProgress,
    BuildReport,
    CorruptIndexError,
    Engine,
    IndexMismatchError,
    StoredIndex,
    StoryError,
    use_threads,
)
from index.storage import current_generation

log = logging.getLogger(__name__)


class RebuildRunning(Exception):
    """A rebuild was asked for while another one runs."""

    def __init__(self, started: float) -> None:
        super().__init__("a rebuild is already running")
        self.started = started


@dataclass(frozen=True)
class Rebuilt:
    report: BuildReport
    index: StoredIndex


class StoryService:
    """One engine, the answerer currently serving, and at most one rebuild at a time.

    Questions run in a pool of threads sized to the machine (the model releases the GIL while it
    computes); a rebuild runs on its own thread, so questions keep being answered from the current
    index meanwhile. The new index replaces the old one only once it is complete and loaded.
    """

    def __init__(self, engine: Engine, answerer: Answerer, *, workers: int | None = None) -> None:
        self.engine = engine
        self._answerer = answerer
        # One torch thread per question (index.embedding.use_threads); parallelism comes from the pool.
        self._questions = ThreadPoolExecutor(
            max_workers=workers or min(4, os.cpu_count() or 1),
            thread_name_prefix="ask",
            initializer=use_threads,
            initargs=(1,),
        )
        self._builds = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild")
        self._rebuild_started: float | None = None

    @classmethod
    def open(
        cls, engine: Engine, progress: Callable[[BuildProgress], None] | None = None
    ) -> tuple[StoryService, BuildReport | None]:
        """Load the index, building it first when there is none or it cannot serve (built by another
        model or StoryBot version, or damaged): a bot restarts unattended. Blocking; call it off the loop."""
        try:
            answerer, report = engine.answerer_building_if_missing(progress=progress)
        except (IndexMismatchError, CorruptIndexError) as exc:
            log.warning("%s; rebuilding it", exc)
            report = engine.build(progress=progress)
            answerer = engine.answerer()
        return cls(engine, answerer), report

    @property
    def answerer(self) -> Answerer:
        return self._answerer

    @property
    def index(self) -> StoredIndex:
        return self._answerer.index

    @property
    def feedback_path(self) -> Path:
        """Where votes on answers go: beside the index folder, so a rebuild (which replaces what
        is inside it) never touches them (bot.feedback)."""
        return self.engine.index_dir.parent / "feedback.jsonl"

    @property
    def rebuilding(self) -> bool:
        return self._rebuild_started is not None

    async def ask(self, question: str) -> Answer:
        """The engine's answer (QuestionError for an empty or too long question)."""
        answerer = self._answerer  # a rebuild may swap it meanwhile; this question keeps its own
        return await asyncio.get_running_loop().run_in_executor(self._questions, answerer.ask, question)

    async def rebuild(self, progress: Callable[[BuildProgress], None] | None = None) -> Rebuilt:
        """Bring the index up to date with the articles folder and serve it from now on.

        `progress` is called on the event loop. RebuildRunning when one is already under way; any
        error of the build leaves the current index serving and propagates.
        """
        if self._rebuild_started is not None:
            raise RebuildRunning(self._rebuild_started)
        self._rebuild_started = time.time()
        loop = asyncio.get_running_loop()

        def report_progress(event: BuildProgress) -> None:
            if progress is not None:
                loop.call_soon_threadsafe(progress, event)

        def build() -> tuple[BuildReport, Answerer]:
            report = self.engine.build(progress=report_progress)
            return report, self.engine.answerer()

        try:
            report, answerer = await loop.run_in_executor(self._builds, build)
        finally:
            self._rebuild_started = None
        self._answerer = answerer
        return Rebuilt(report, answerer.index)

    async def reload_if_changed(self) -> bool:
        """Serve the index another process built (the manifest names a new generation); True when
        it did. Errors are logged and the current index keeps serving."""
        if self._rebuild_started is not None:
            return False
        loop = asyncio.get_running_loop()
        generation = await loop.run_in_executor(self._builds, current_generation, self.engine.index_dir)
        if generation is None or generation == self.index.generation:
            return False
        try:
            answerer = await loop.run_in_executor(self._builds, self.engine.answerer)
        except StoryError as exc:
            log.warning("the index changed on disk but cannot be loaded (%s); the previous one keeps serving", exc)
            return False
        if self._rebuild_started is not None:  # a rebuild here started meanwhile: it wins
            return False
        self._answerer = answerer
        log.info("now serving the index built at %s by another process", answerer.index.built_at)
        return True

    def close(self) -> None:
        self._questions.shutdown(wait=False, cancel_futures=True)
        self._builds.shutdown(wait=False, cancel_futures=True)
