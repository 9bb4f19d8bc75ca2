"""The index on disk: a manifest that names one complete generation of files.

    index_dir/
        manifest.json        format, model, dimension, chunking, articles and their hashes,
                             build time, and the generation folder it describes
        gen-<id>/vectors.faiss   one row per chunk
        gen-<id>/chunks.npy      per chunk: article number, start, end (int32, 12 bytes)
        gen-<id>/articles.jsonl  per article: id, metadata and cleaned text
        gen-<id>/lexical.npz     BM25 weights per chunk and term
        gen-<id>/aliases.json    groups of names the articles say are the same

A build writes a new generation folder completely, then replaces manifest.json atomically
(`os.replace`). Until that rename the old manifest and its files serve; a build that dies
half-way leaves only an orphan folder, which the next build removes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.articles import Article
from index.chunking import ChunkingParams
from index.errors import (
    BuildLockedError,
    CorruptIndexError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexStateError,
)
from index.lexical import LexicalIndex
from index.store import FaissStore

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 2: Snowball stems in the keyword index; 3: sentence units and their vectors
MANIFEST = "manifest.json"
LOCK = ".build.lock"
CHUNK_DTYPE = np.dtype([("article", "<i4"), ("start", "<i4"), ("end", "<i4")])
ChunkTable = npt.NDArray[np.void]  # rows of CHUNK_DTYPE; sentence units use the same layout
UNIT_VECTOR_DTYPE = np.float16  # memory-mapped from disk; half the bytes, same ranking


@dataclass(frozen=True)
class IndexSpec:
    """What an index must have been built with to serve the current settings."""

    model: str
    dimension: int
    chunking: ChunkingParams


@dataclass(frozen=True)
class ArticleEntry:
    """An indexed article: the article, its fingerprint and its rows in the chunk table."""

    article: Article
    fingerprint: str
    first_chunk: int
    chunk_count: int
    first_unit: int = 0
    unit_count: int = 0


@dataclass(frozen=True)
class StoredIndex:
    """Everything one generation holds, loaded."""

    spec: IndexSpec
    built_at: dt.datetime
    entries: tuple[ArticleEntry, ...]
    chunks: ChunkTable
    store: FaissStore
    lexical: LexicalIndex
    aliases: tuple[tuple[str, ...], ...]
    folder: Path
    units: ChunkTable  # every article's sentence units (chunking.sentence_units), article by article
    unit_vectors: npt.NDArray[np.float16]  # one row per unit, L2-normalised; memory-mapped
    generation: str = ""  # the generation folder's name, as the manifest gave it

    @property
    def articles(self) -> list[Article]:
        return [entry.article for entry in self.entries]

    def chunk(self, row: int) -> tuple[Article, int, int]:
        record = self.chunks[row]
        return self.entries[int(record["article"])].article, int(record["start"]), int(record["end"])

    def chunk_units(self, row: int) -> range:
        """The unit rows that overlap chunk `row`."""
        record = self.chunks[row]
        entry = self.entries[int(record["article"])]
        rows = self.units[entry.first_unit : entry.first_unit + entry.unit_count]
        first = int(np.searchsorted(rows["end"], int(record["start"]), side="right"))
        last = int(np.searchsorted(rows["start"], int(record["end"]), side="left"))
        return range(entry.first_unit + first, entry.first_unit + last)

    def article_units(self, article: int) -> list[tuple[int, int]]:
        """The (start, end) spans of one article's units, in order."""
        entry = self.entries[article]
        rows = self.units[entry.first_unit : entry.first_unit + entry.unit_count]
        return list(zip(rows["start"].tolist(), rows["end"].tolist(), strict=True))


def _check_spec(found: IndexSpec, wanted: IndexSpec, folder: Path) -> None:
    def describe(spec: IndexSpec) -> str:
        return f"model {spec.model} ({spec.dimension}-d), chunks {spec.chunking.size}/{spec.chunking.overlap}"

    if found != wanted:
        raise IndexMismatchError(
            f"the index at {folder} was built with {describe(found)} but the settings ask for "
            f"{describe(wanted)}; run `storybot index build --full`"
        )


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexNotFoundError(f"no index at {folder}; run `storybot index build`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptIndexError(f"the index manifest {path} is unreadable; run `storybot index build --full`") from exc
    if not isinstance(manifest, dict):
        raise CorruptIndexError(f"the index manifest {path} is not an object; run `storybot index build --full`")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index at {folder} has format {manifest.get('format')!r}, this StoryBot reads format "
            f"{FORMAT_VERSION}; run `storybot index build --full`"
        )
    return manifest


def current_generation(folder: Path) -> str | None:
    """The generation the manifest names now (another process may have rebuilt), or None when
    there is no readable manifest."""
    try:
        return str(read_manifest(folder)["generation"])
    except (IndexStateError, KeyError):
        return None


def load_index(folder: Path, wanted: IndexSpec | None = None) -> StoredIndex:
    """Load the generation the manifest names; check it matches `wanted` when given."""
    manifest = read_manifest(folder)
    try:
        spec = IndexSpec(
            model=str(manifest["model"]),
            dimension=int(manifest["dimension"]),
            chunking=ChunkingParams(**manifest["chunking"]),
        )
        generation = folder / str(manifest["generation"])
        built_at = dt.datetime.fromisoformat(manifest["built_at"])
        hashes = {item["id"]: item["fingerprint"] for item in manifest["articles"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptIndexError(
            f"the index manifest in {folder} is incomplete; run `storybot index build --full`"
        ) from exc
    if wanted is not None:
        _check_spec(spec, wanted, folder)
    broken = f"the index at {folder} is damaged"
    try:
        chunks = np.load(generation / "chunks.npy", allow_pickle=False)
        with (generation / "articles.jsonl").open(encoding="utf-8") as handle:
            articles = [_article(json.loads(line)) for line in handle]
        aliases = tuple(
            tuple(str(name) for name in group) for group in json.loads((generation / "aliases.json").read_text())
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptIndexError(f"{broken} ({exc.__class__.__name__}); run `storybot index build --full`") from exc
    try:
        units = np.load(generation / "units.npy", allow_pickle=False)
        unit_vectors = np.load(generation / "unit_vectors.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CorruptIndexError(
            f"{broken} (sentence units: {exc.__class__.__name__}); run `storybot index build --full`"
        ) from exc
    store = FaissStore.load(generation / "vectors.faiss")
    lexical = LexicalIndex.load(generation / "lexical.npz")
    if (
        chunks.dtype != CHUNK_DTYPE
        or units.dtype != CHUNK_DTYPE
        or store.size != len(chunks)
        or lexical.size != len(chunks)
        or store.dimension != spec.dimension
        or unit_vectors.shape != (len(units), spec.dimension)
        or unit_vectors.dtype != UNIT_VECTOR_DTYPE
    ):
        raise CorruptIndexError(f"{broken} (vectors and chunks disagree); run `storybot index build --full`")
    entries = _entries(articles, chunks, units, hashes)
    if entries is None:
        raise CorruptIndexError(f"{broken} (articles and chunks disagree); run `storybot index build --full`")
    return StoredIndex(
        spec, built_at, tuple(entries), chunks, store, lexical, aliases, folder, units, unit_vectors, generation.name
    )


def _entries(
    articles: Sequence[Article], chunks: ChunkTable, units: ChunkTable, hashes: dict[str, str]
) -> list[ArticleEntry] | None:
    if set(hashes) != {a.id for a in articles}:
        return None
    chunk_rows, unit_rows = _rows_by_article(chunks, len(articles)), _rows_by_article(units, len(articles))
    if chunk_rows is None or unit_rows is None:
        return None
    return [
        ArticleEntry(article, hashes[article.id], *chunk_rows[number], *unit_rows[number])
        for number, article in enumerate(articles)
    ]


def _rows_by_article(table: ChunkTable, articles: int) -> list[tuple[int, int]] | None:
    """(first row, count) of each article in `table`, or None when rows are out of place."""
    counts = np.bincount(table["article"], minlength=articles) if len(table) else np.zeros(articles, int)
    if len(counts) != articles:
        return None
    rows, first = [], 0
    for number in range(articles):
        count = int(counts[number])
        if count and not (table["article"][first : first + count] == number).all():
            return None  # rows of one article must be contiguous
        rows.append((first, count))
        first += count
    return rows


def _article(record: dict[str, Any]) -> Article:
    return Article(
        id=str(record["id"]),
        text=str(record["text"]),
        **{name: record.get(name) for name in ("title", "outlet", "date", "url", "author")},
    )


def save_index(
    folder: Path,
    spec: IndexSpec,
    entries: Sequence[ArticleEntry],
    chunks: ChunkTable,
    store: FaissStore,
    lexical: LexicalIndex,
    aliases: Sequence[Sequence[str]],
    units: ChunkTable,
    unit_vectors: npt.NDArray[np.float16],
) -> dt.datetime:
    """Write a new generation and switch the manifest to it; return the build time."""
    folder.mkdir(parents=True, exist_ok=True)
    built_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    name = f"gen-{built_at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    generation = folder / name
    generation.mkdir()
    store.save(generation / "vectors.faiss")
    lexical.save(generation / "lexical.npz")
    (generation / "aliases.json").write_text(json.dumps([list(g) for g in aliases], ensure_ascii=False))
    for file, array in (("chunks.npy", chunks), ("units.npy", units), ("unit_vectors.npy", unit_vectors)):
        with (generation / file).open("wb") as handle:
            np.save(handle, np.asarray(array), allow_pickle=False)
    with (generation / "articles.jsonl").open("w", encoding="utf-8") as handle:
        for entry in entries:
            record = {"id": entry.article.id, **entry.article.metadata(), "text": entry.article.text}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    manifest = {
        "format": FORMAT_VERSION,
        "generation": name,
        "model": spec.model,
        "dimension": spec.dimension,
        "chunking": {"size": spec.chunking.size, "overlap": spec.chunking.overlap},
        "built_at": built_at.isoformat(),
        "chunk_count": len(chunks),
        "articles": [
            {"id": e.article.id, "fingerprint": e.fingerprint, "chunks": e.chunk_count, **e.article.metadata()}
            for e in entries
        ],
    }
    for path in generation.iterdir():
        _fsync(path)
    _fsync(generation)
    temporary = folder / f".{MANIFEST}.{secrets.token_hex(3)}.tmp"
    temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    _fsync(temporary)
    os.replace(temporary, folder / MANIFEST)
    _fsync(folder)
    remove_stale_generations(folder, keep=name)
    return built_at


def remove_stale_generations(folder: Path, keep: str) -> None:
    """Generation folders other than `keep`: older builds and ones a crash left half-written."""
    for path in folder.glob("gen-*"):
        if path.name != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
    for path in folder.glob(f".{MANIFEST}.*.tmp"):
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Only one build at a time may write an index folder, across processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK).open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLockedError(f"another build is writing {folder}; wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
