"""Build or update the index from the articles folder, re-embedding only what changed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index import aliases
from index.articles import Article, Skipped, load_corpus
from index.chunking import ChunkingParams, chunk_spans
from index.embedding import Embedder, Vectors
from index.errors import IndexNotFoundError, IndexStateError
from index.lexical import LexicalIndex
from index.storage import CHUNK_DTYPE, ArticleEntry, IndexSpec, StoredIndex, build_lock, load_index, save_index
from index.store import FaissStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildProgress:
    """Where a build is: `stage` is one of "articles", "chunks", "embedding", "saving"."""

    stage: str
    done: int
    total: int


ProgressCallback = Callable[[BuildProgress], None]


@dataclass
class BuildReport:
    """What a build did."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    full: bool = False
    written: bool = False
    reason: str | None = None

    def summary(self) -> str:
        kind = "full rebuild" if self.full else "update"
        parts = [
            f"{len(self.added)} added",
            f"{len(self.changed)} changed",
            f"{len(self.removed)} removed",
            f"{len(self.unchanged)} unchanged",
        ]
        text = (
            f"{kind}: {', '.join(parts)} articles; {self.chunks} chunks "
            f"({self.embedded_chunks} embedded); {self.seconds:.1f} s"
        )
        if self.skipped:
            text += f"; {len(self.skipped)} file(s) skipped"
        if not self.written:
            text += "; index already up to date"
        return text


def _previous(folder: Path, spec: IndexSpec, full: bool, report: BuildReport) -> StoredIndex | None:
    if full:
        report.full = True
        return None
    try:
        return load_index(folder, spec)
    except IndexNotFoundError:
        report.full = True
        return None
    except IndexStateError as exc:
        report.full, report.reason = True, str(exc).split(";")[0]
        log.warning("rebuilding from scratch: %s", report.reason)
        return None


def build_index(
    articles_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    chunking: ChunkingParams,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
) -> BuildReport:
    """Bring the index in `index_dir` up to date with `articles_dir`.

    Articles whose text and title are unchanged keep their vectors; the rest are chunked and
    embedded. The new index replaces the old one only once it is completely written.
    """
    started = time.perf_counter()
    notify = progress or (lambda _: None)
    report = BuildReport()
    spec = IndexSpec(embedder.name, embedder.dimension, chunking)
    with build_lock(index_dir):
        corpus = load_corpus(articles_dir)
        report.skipped = corpus.skipped
        notify(BuildProgress("articles", len(corpus.articles), len(corpus.articles)))
        previous = _previous(index_dir, spec, full, report)
        old = {e.article.id: e for e in previous.entries} if previous else {}

        new_ids = {a.id for a in corpus.articles}
        report.removed = sorted(set(old) - new_ids)
        pieces: list[tuple[Article, list[tuple[int, int]], Vectors | None]] = []
        to_embed: list[str] = []
        for article in corpus.articles:
            entry = old.get(article.id)
            if previous is not None and entry is not None and entry.fingerprint == article.fingerprint:
                report.unchanged.append(article.id)
                rows = previous.chunks[entry.first_chunk : entry.first_chunk + entry.chunk_count]
                spans = [(int(r["start"]), int(r["end"])) for r in rows]
                pieces.append((article, spans, previous.store.vectors(entry.first_chunk, entry.chunk_count)))
                continue
            (report.changed if entry is not None else report.added).append(article.id)
            spans = chunk_spans(article.text, chunking)
            pieces.append((article, spans, None))
            to_embed.extend(article.text[s:e] for s, e in spans)
        report.chunks = sum(len(spans) for _, spans, _ in pieces)
        notify(BuildProgress("chunks", report.chunks, report.chunks))

        metadata_changed = previous is not None and any(old[a.id].article != a for a in corpus.articles if a.id in old)
        if previous is not None and not (report.added or report.changed or report.removed or metadata_changed):
            report.seconds = time.perf_counter() - started
            return report

        report.embedded_chunks = len(to_embed)
        notify(BuildProgress("embedding", 0, len(to_embed)))
        fresh = embedder.encode(to_embed, lambda done, total: notify(BuildProgress("embedding", done, total)))
        notify(BuildProgress("saving", 0, 1))

        entries: list[ArticleEntry] = []
        blocks: list[Vectors] = []
        table = np.zeros(report.chunks, dtype=CHUNK_DTYPE)
        row = cursor = 0
        for number, (article, spans, kept) in enumerate(pieces):
            if kept is None:
                blocks.append(fresh[cursor : cursor + len(spans)])
                cursor += len(spans)
            else:
                blocks.append(kept)
            for start, end in spans:
                table[row] = (number, start, end)
                row += 1
            entries.append(ArticleEntry(article, article.fingerprint, row - len(spans), len(spans)))
        matrix = np.concatenate(blocks) if blocks else np.zeros((0, spec.dimension), dtype=np.float32)
        texts = [pieces[int(r["article"])][0].text[int(r["start"]) : int(r["end"])] for r in table]
        store = FaissStore.from_vectors(matrix, spec.dimension)
        groups = aliases.mine(article.text for article, _, _ in pieces)
        save_index(index_dir, spec, entries, table, store, LexicalIndex.build(texts), groups)
        notify(BuildProgress("saving", 1, 1))
        report.written = True
        report.seconds = time.perf_counter() - started
        log.info("index %s: %s", index_dir, report.summary())
        return report
