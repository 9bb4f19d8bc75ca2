"""Build or update the index from the articles folder, re-embedding only what changed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index import aliases
from index.articles import Article, Skipped, load_corpus
from index.chunking import ChunkingParams, Span, chunk_spans, sentence_units
from index.embedding import Embedder, Vectors
from index.errors import IndexNotFoundError, IndexStateError
from index.lexical import LexicalIndex
from index.storage import (
    CHUNK_DTYPE,
    UNIT_VECTOR_DTYPE,
    ArticleEntry,
    ChunkTable,
    IndexContents,
    IndexSpec,
    StoredIndex,
    build_lock,
    load_index,
    save_index,
)
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


@dataclass
class _Piece:
    """One article on its way into the index; `vectors` of its units when they are kept."""

    article: Article
    chunks: list[Span]
    units: list[Span]
    vectors: npt.NDArray[np.float16] | None


def _spans(rows: ChunkTable) -> list[Span]:
    return list(zip(rows["start"].tolist(), rows["end"].tolist(), strict=True))


def _mean(vectors: npt.NDArray[np.float16]) -> Vectors:
    """The L2-normalised mean of some unit vectors: the vector of the passage they make up."""
    mean = vectors.astype(np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    result: Vectors = (mean / norm if norm > 0 else mean).astype(np.float32)
    return result


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
        pieces: list[_Piece] = []
        to_embed: list[str] = []
        for article in corpus.articles:
            entry = old.get(article.id)
            if previous is not None and entry is not None and entry.fingerprint == article.fingerprint:
                report.unchanged.append(article.id)
                rows = previous.chunks[entry.first_chunk : entry.first_chunk + entry.chunk_count]
                units = previous.units[entry.first_unit : entry.first_unit + entry.unit_count]
                kept = previous.unit_vectors[entry.first_unit : entry.first_unit + entry.unit_count]
                pieces.append(_Piece(article, _spans(rows), _spans(units), np.array(kept)))
                continue
            (report.changed if entry is not None else report.added).append(article.id)
            piece = _Piece(article, chunk_spans(article.text, chunking), sentence_units(article.text), None)
            pieces.append(piece)
            report.embedded_chunks += len(piece.chunks)
            to_embed.extend(article.text[s:e] for s, e in piece.units)
        report.chunks = sum(len(p.chunks) for p in pieces)
        notify(BuildProgress("chunks", report.chunks, report.chunks))

        metadata_changed = previous is not None and any(old[a.id].article != a for a in corpus.articles if a.id in old)
        if previous is not None and not (report.added or report.changed or report.removed or metadata_changed):
            report.seconds = time.perf_counter() - started
            return report

        # Sentences are embedded once, at build time: answers score them without touching the model,
        # and a chunk's vector is the mean of its sentences' vectors (one pass over the text, not two).
        notify(BuildProgress("embedding", 0, len(to_embed)))
        embedded = embedder.encode(to_embed, lambda done, total: notify(BuildProgress("embedding", done, total)))
        fresh = embedded.astype(UNIT_VECTOR_DTYPE)
        notify(BuildProgress("saving", 0, 1))

        entries: list[ArticleEntry] = []
        unit_blocks: list[npt.NDArray[np.float16]] = []
        table = np.zeros(report.chunks, dtype=CHUNK_DTYPE)
        unit_table = np.zeros(sum(len(p.units) for p in pieces), dtype=CHUNK_DTYPE)
        chunk_vectors = np.zeros((report.chunks, spec.dimension), dtype=np.float32)
        row = unit_row = cursor = 0
        for number, piece in enumerate(pieces):
            vectors = piece.vectors
            if vectors is None:
                vectors = fresh[cursor : cursor + len(piece.units)]
                cursor += len(piece.units)
            unit_blocks.append(vectors)
            ends = np.array([e for _, e in piece.units], dtype=np.int64)
            starts = np.array([s for s, _ in piece.units], dtype=np.int64)
            for start, end in piece.chunks:
                table[row] = (number, start, end)
                inside = vectors[np.searchsorted(ends, start, side="right") : np.searchsorted(starts, end)]
                chunk_vectors[row] = _mean(inside)
                row += 1
            for start, end in piece.units:
                unit_table[unit_row] = (number, start, end)
                unit_row += 1
            entries.append(
                ArticleEntry(
                    piece.article,
                    piece.article.fingerprint,
                    row - len(piece.chunks),
                    len(piece.chunks),
                    unit_row - len(piece.units),
                    len(piece.units),
                )
            )
        unit_vectors = (
            np.concatenate(unit_blocks) if unit_blocks else np.zeros((0, spec.dimension), dtype=UNIT_VECTOR_DTYPE)
        )
        texts = [pieces[int(r["article"])].article.text[int(r["start"]) : int(r["end"])] for r in table]
        store = FaissStore.from_vectors(chunk_vectors, spec.dimension)
        groups = aliases.mine(p.article.text for p in pieces)
        contents = IndexContents(
            spec, entries, table, store, LexicalIndex.build(texts), groups, unit_table, unit_vectors
        )
        save_index(index_dir, contents)
        notify(BuildProgress("saving", 1, 1))
        report.written = True
        report.seconds = time.perf_counter() - started
        log.info("index %s: %s", index_dir, report.summary())
        return report
