"""Benchmark corpora: a realistic articles folder made of varied copies, and large synthetic indexes.

Build corpus: every bundled article (data/articles) and every invented harbour article
(eval/corpora/harbour) copied many times, each copy with its number in the title and the first
sentence and its paragraphs shuffled, so content hashes differ and chunk texts stay real prose.

Synthetic index: the articles and chunk rows of a real (small) index replicated to N chunks; copy 0
keeps the real vectors, every further copy gets Gaussian noise added to each vector, renormalised.
The keyword index is the real one's BM25 matrix tiled row-wise (so its statistics are the small
corpus' ones). Written with `index.storage.save_index`, so `load_index` and `Answerer` read it as
they read any index.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import yaml

from index.articles import Article, load_corpus
from index.chunking import ChunkingParams, chunk_spans
from index.lexical import LexicalIndex
from index.storage import CHUNK_DTYPE, ArticleEntry, ChunkTable, IndexContents, StoredIndex, save_index
from index.store import FaissStore, Vectors

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (ROOT / "data" / "articles", ROOT / "eval" / "corpora" / "harbour")
NOISE = 0.025  # per-dimension sigma: a copy keeps cosine ~0.9 with its original


def source_articles() -> list[Article]:
    return [a for folder in SOURCES for a in load_corpus(folder).articles]


def variant(article: Article, copy: int) -> Article:
    """Copy number `copy`: numbered title and first sentence, paragraphs in a shuffled order."""
    paragraphs = [p for p in article.text.split("\n\n") if p.strip()]
    random.Random(copy * 7919 + len(article.text)).shuffle(paragraphs)
    paragraphs[0] = f"Copy {copy} of this report. {paragraphs[0]}"
    title = f"{article.title or article.id} (copy {copy})"
    return dataclasses.replace(
        article, id=f"{Path(article.id).stem}_copy{copy:05d}", title=title, text="\n\n".join(paragraphs)
    )


def _write(article: Article, folder: Path) -> Path:
    front = {k: v for k, v in article.metadata().items() if v}
    path = folder / f"{article.id}.md"
    path.write_text(f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\n{article.text}\n", encoding="utf-8")
    return path


def write_build_corpus(folder: Path, target_chunks: int, chunking: ChunkingParams) -> tuple[int, int]:
    """Write varied copies until about `target_chunks` chunks; return (articles, chunks) expected."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = source_articles()
    articles = chunks = copy = 0
    while chunks < target_chunks:
        for source in sources:
            made = variant(source, copy)
            _write(made, folder)
            articles += 1
            chunks += len(chunk_spans(made.text, chunking))
        copy += 1
    return articles, chunks


def change_article(path: Path, tag: str) -> None:
    """A real edit: one new paragraph at the end, so the article's chunks must be re-embedded."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\nUpdate {tag}: the report was revised after publication with a short correction.\n")


def _plan(entries: Sequence[ArticleEntry], size: int) -> tuple[int, int]:
    """(whole copies of the base, articles of one more copy) that reach at least `size` chunks."""
    base = sum(e.chunk_count for e in entries)
    whole, rest = divmod(size, base)
    prefix = total = 0
    while total < rest and prefix < len(entries):
        total += entries[prefix].chunk_count
        prefix += 1
    return whole, prefix


def _renumbered(table: ChunkTable, offset: int) -> ChunkTable:
    """A copy of chunk or unit rows pointing at the articles `offset` places on."""
    copy = table.copy()
    copy["article"] += offset
    return copy


def _perturbed(vectors: Vectors, copy: int, rng: np.random.Generator) -> Vectors:
    """The vectors themselves for copy 0; for later copies, noisy and renormalised."""
    out = np.array(vectors, dtype=np.float32)
    if copy:
        out += rng.standard_normal(out.shape, dtype=np.float32) * np.float32(NOISE)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def synthesise(base: StoredIndex, size: int, folder: Path, *, seed: int = 0) -> int:
    """Write an index of at least `size` chunks (whole articles) into `folder`; return its chunk count."""
    entries = list(base.entries)
    whole, prefix = _plan(entries, size)
    base_vectors = base.store.vectors(0, base.store.size)
    base_rows = len(base.chunks)
    rng = np.random.default_rng(seed)
    copies = [(c, len(entries)) for c in range(whole)] + ([(whole, prefix)] if prefix else [])

    new_entries: list[ArticleEntry] = []
    tables, blocks, weight_blocks, unit_tables, unit_blocks = [], [], [], [], []
    base_units = np.asarray(base.unit_vectors, dtype=np.float32)
    row = unit_row = 0
    base_weights: sp.csc_matrix = base.lexical._weights  # the small corpus' BM25 matrix, tiled below
    for copy, count in copies:
        rows = sum(e.chunk_count for e in entries[:count])
        for entry in entries[:count]:
            article = (
                entry.article if copy == 0 else dataclasses.replace(entry.article, id=f"{entry.article.id}~{copy}")
            )
            new_entries.append(
                ArticleEntry(
                    article,
                    entry.fingerprint,
                    row + entry.first_chunk,
                    entry.chunk_count,
                    unit_row + entry.first_unit,
                    entry.unit_count,
                )
            )
        units = sum(e.unit_count for e in entries[:count])
        unit_tables.append(_renumbered(base.units[:units], copy * len(entries)))
        unit_blocks.append(_perturbed(base_units[:units], copy, rng).astype(np.float16))
        unit_row += units
        tables.append(_renumbered(base.chunks[:rows], copy * len(entries)))
        blocks.append(_perturbed(base_vectors[:rows], copy, rng))
        weight_blocks.append(base_weights[:rows] if rows < base_rows else base_weights)
        row += rows
    chunks = np.concatenate(tables).astype(CHUNK_DTYPE)
    matrix = np.concatenate(blocks)
    del blocks
    if size <= base_rows:  # small enough to build for real over the real texts
        texts = [base.entries[int(r["article"])].article.text[int(r["start"]) : int(r["end"])] for r in chunks]
        lexical = LexicalIndex.build(texts)
    else:
        lexical = LexicalIndex(sp.csc_matrix(sp.vstack(weight_blocks, format="csr")), dict(base.lexical._vocabulary))
    store = FaissStore.from_vectors(matrix, base.spec.dimension)
    del matrix
    units_table = np.concatenate(unit_tables).astype(CHUNK_DTYPE)
    contents = IndexContents(
        base.spec, new_entries, chunks, store, lexical, base.aliases, units_table, np.concatenate(unit_blocks)
    )
    save_index(folder, contents)
    return len(chunks)
