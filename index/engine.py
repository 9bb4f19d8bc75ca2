"""The engine as front ends use it: one object that builds the index and opens answerers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from index.answering import Answerer, AnswerOptions
from index.builder import BuildReport, ProgressCallback, build_index
from index.chunking import ChunkingParams
from index.embedding import Embedder
from index.errors import IndexNotFoundError
from index.reader import Reader
from index.storage import IndexSpec, StoredIndex, load_index


@dataclass(frozen=True)
class Engine:
    """Articles folder, index folder, embedder and parameters, wired once by a composition root."""

    articles_dir: Path
    index_dir: Path
    embedder: Embedder
    chunking: ChunkingParams = field(default_factory=ChunkingParams)
    options: AnswerOptions = field(default_factory=AnswerOptions)
    reader: Reader | None = None  # None: snippets ordered and abstained on by retrieval scores alone

    @property
    def spec(self) -> IndexSpec:
        return IndexSpec(self.embedder.name, self.embedder.dimension, self.chunking)

    def build(self, *, full: bool = False, progress: ProgressCallback | None = None) -> BuildReport:
        """Bring the index up to date with the articles folder (see `build_index`)."""
        return build_index(
            self.articles_dir, self.index_dir, self.embedder, self.chunking, full=full, progress=progress
        )

    def stored(self) -> StoredIndex:
        """The index on disk, checked against this engine's model and chunking."""
        return load_index(self.index_dir, self.spec)

    def answerer(self) -> Answerer:
        """An answerer over the index on disk; IndexStateError when there is none that fits."""
        return Answerer(self.stored(), self.embedder, self.options, self.reader)

    def answerer_building_if_missing(
        self, progress: ProgressCallback | None = None
    ) -> tuple[Answerer, BuildReport | None]:
        """Like `answerer`, but builds the index first when there is none yet."""
        try:
            return self.answerer(), None
        except IndexNotFoundError:
            report = self.build(progress=progress)
            return self.answerer(), report
