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
half-way leaves only an orphan folder, which the next build removes. After the switch, the
generation before it stays (a replica or a bot that has not reloaded yet may still read it) and
every older one is removed.

The manifest records each file's size and SHA-256. Loading checks both, so a truncated, emptied
or overwritten file is one "damaged" error, never a wrong answer; `storybot index build` then
builds a fresh generation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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
    IndexWriteError,
)
from index.lexical import LexicalIndex
from index.store import FaissStore

log = logging.getLogger(__name__)

FORMAT_VERSION = 4  # 2: Snowball stems in the keyword index; 3: sentence units and their vectors; 4: checksums
MANIFEST = "manifest.json"
LOCK = ".build.lock"
CHUNK_DTYPE = np.dtype([("article", "<i4"), ("start", "<i4"), ("end", "<i4")])
ChunkTable = npt.NDArray[np.void]  # rows of CHUNK_DTYPE; sentence units use the same layout
UNIT_VECTOR_DTYPE = np.float16  # memory-mapped from disk; half the bytes, same ranking
T = TypeVar("T")


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
            f"{describe(wanted)}; run `storybot index build`"
        )


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexNotFoundError(f"no index at {folder}; run `storybot index build`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptIndexError(f"the index manifest {path} is unreadable; run `storybot index build`") from exc
    if not isinstance(manifest, dict):
        raise CorruptIndexError(f"the index manifest {path} is not an object; run `storybot index build`")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index at {folder} has format {manifest.get('format')!r}, this StoryBot reads format "
            f"{FORMAT_VERSION}; run `storybot index build`"
        )
    return manifest


def current_generation(folder: Path) -> str | None:
    """The generation the manifest names now (another process may have rebuilt), or None when
    there is no readable manifest."""
    try:
        return str(read_manifest(folder)["generation"])
    except (IndexStateError, KeyError):
        return None


def load_index(folder: Path, wanted: IndexSpec | None = None, *, checksums: bool = True) -> StoredIndex:
    """Load the generation the manifest names; check it matches `wanted` when given, and that its
    files are those the build wrote (sizes always; SHA-256 too unless `checksums` is False)."""
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
        raise CorruptIndexError(f"the index manifest in {folder} is incomplete; run `storybot index build`") from exc
    if wanted is not None:
        _check_spec(spec, wanted, folder)
    check_files(folder, generation, manifest.get("files"), checksums=checksums)

    def read(name: str, parse: Callable[[Path], T]) -> T:
        """One file of the generation, parsed; any failure is the one "damaged" error."""
        try:
            return parse(generation / name)
        except Exception as exc:  # numpy, zipfile and FAISS each fail in their own way on bad bytes
            cause = "" if isinstance(exc, CorruptIndexError) else f" ({exc.__class__.__name__})"
            raise _damaged(folder, name, f"unreadable{cause}") from exc

    chunks = read("chunks.npy", lambda path: np.load(path, allow_pickle=False))
    articles = read("articles.jsonl", _read_articles)
    aliases = read("aliases.json", _read_aliases)
    units = read("units.npy", lambda path: np.load(path, allow_pickle=False))
    unit_vectors = read("unit_vectors.npy", lambda path: np.load(path, mmap_mode="r", allow_pickle=False))
    store = read("vectors.faiss", FaissStore.load)
    lexical = read("lexical.npz", LexicalIndex.load)
    broken = f"the index at {folder} is damaged"
    if (
        chunks.dtype != CHUNK_DTYPE
        or units.dtype != CHUNK_DTYPE
        or store.size != len(chunks)
        or lexical.size != len(chunks)
        or store.dimension != spec.dimension
        or unit_vectors.shape != (len(units), spec.dimension)
        or unit_vectors.dtype != UNIT_VECTOR_DTYPE
    ):
        raise CorruptIndexError(f"{broken} (vectors and chunks disagree); run `storybot index build`")
    entries = _entries(articles, chunks, units, hashes)
    if entries is None:
        raise CorruptIndexError(f"{broken} (articles and chunks disagree); run `storybot index build`")
    return StoredIndex(
        spec, built_at, tuple(entries), chunks, store, lexical, aliases, folder, units, unit_vectors, generation.name
    )


def _read_articles(path: Path) -> list[Article]:
    with path.open(encoding="utf-8") as handle:
        return [_article(json.loads(line)) for line in handle]


def _read_aliases(path: Path) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(str(name) for name in group) for group in json.loads(path.read_text(encoding="utf-8")))


def _damaged(folder: Path, name: str, why: str) -> CorruptIndexError:
    return CorruptIndexError(f"the index at {folder} is damaged ({name}: {why}); run `storybot index build`")


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _record_files(generation: Path) -> dict[str, dict[str, int | str]]:
    """Size and SHA-256 of every file of a generation, for the manifest."""
    return {path.name: {"bytes": path.stat().st_size, "sha256": _sha256(path)} for path in sorted(generation.iterdir())}


def check_files(folder: Path, generation: Path, recorded: object, *, checksums: bool = True) -> int:
    """Every file the manifest lists is there, with the size and (when `checksums`) the SHA-256 it
    had when built; CorruptIndexError naming the first that is not. Returns the bytes checked."""
    if not isinstance(recorded, dict) or not recorded:
        raise CorruptIndexError(f"the index manifest in {folder} is incomplete; run `storybot index build`")
    total = 0
    for name, record in sorted(recorded.items()):
        path = generation / name
        try:
            size = path.stat().st_size
        except OSError:
            raise _damaged(folder, name, "missing") from None
        try:
            expected_size, expected_hash = int(record["bytes"]), str(record["sha256"])
        except (KeyError, TypeError, ValueError):
            raise CorruptIndexError(
                f"the index manifest in {folder} is incomplete; run `storybot index build`"
            ) from None
        if size != expected_size:
            raise _damaged(folder, name, f"{size:,} bytes, {expected_size:,} when built")
        if checksums:
            try:
                digest = _sha256(path)
            except OSError as exc:
                raise _damaged(folder, name, f"cannot be read: {exc.strerror or exc}") from exc
            if digest != expected_hash:
                raise _damaged(folder, name, "its bytes changed since the build")
        total += size
    return total


def verify_index(folder: Path) -> tuple[int, int]:
    """What `storybot index verify` checks: every file's checksum, then a complete load.
    Returns (files, bytes) checked; an IndexStateError when the index cannot serve."""
    manifest = read_manifest(folder)
    files = manifest.get("files")
    size = check_files(folder, folder / str(manifest.get("generation")), files)
    load_index(folder)
    return len(files) if isinstance(files, dict) else 0, size


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


@dataclass(frozen=True)
class IndexContents:
    """Everything a build writes into a new generation."""

    spec: IndexSpec
    entries: Sequence[ArticleEntry]
    chunks: ChunkTable
    store: FaissStore
    lexical: LexicalIndex
    aliases: Sequence[Sequence[str]]
    units: ChunkTable
    unit_vectors: npt.NDArray[np.float16]

    def estimated_bytes(self) -> int:
        """About what the generation takes on disk: vectors, tables, texts, and a margin for BM25."""
        vectors = self.store.size * self.store.dimension * 4
        tables = self.chunks.nbytes + self.units.nbytes + self.unit_vectors.nbytes
        texts = sum(len(entry.article.text.encode()) + 1024 for entry in self.entries)
        return int((vectors + tables + texts) * 1.25) + 64 * 1024


def save_index(folder: Path, contents: IndexContents) -> dt.datetime:
    """Write a new generation and switch the manifest to it; return the build time.

    When the disk is full (or the folder cannot be written) the half-written generation is removed,
    the manifest still names the old one, and IndexWriteError says why in one line.
    """
    folder.mkdir(parents=True, exist_ok=True)
    needed = contents.estimated_bytes()
    if shutil.disk_usage(folder).free < needed:
        raise _no_space(folder, needed)
    built_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    name = f"gen-{built_at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    generation = folder / name
    previous = current_generation(folder)
    try:
        generation.mkdir()
        _write_generation(generation, contents, built_at)
    except OSError as exc:
        shutil.rmtree(generation, ignore_errors=True)
        for path in folder.glob(f".{MANIFEST}.*.tmp"):
            path.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _no_space(folder, needed) from exc
        raise IndexWriteError(
            f"cannot write the index in {folder} ({_reason(exc)}); the index in use is unchanged"
        ) from exc
    remove_stale_generations(folder, keep={name} | ({previous} if previous else set()))
    return built_at


def _reason(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _no_space(folder: Path, needed: int) -> IndexWriteError:
    return IndexWriteError(
        f"not enough disk space in {folder} (needed about {needed / 1e6:,.1f} MB); the index in use is unchanged"
    )


def _write_generation(generation: Path, contents: IndexContents, built_at: dt.datetime) -> None:
    """Every file, the manifest naming them (sizes, checksums) written beside, then switched to."""
    folder, spec, entries = generation.parent, contents.spec, contents.entries
    contents.store.save(generation / "vectors.faiss")
    contents.lexical.save(generation / "lexical.npz")
    aliases = [list(group) for group in contents.aliases]
    (generation / "aliases.json").write_text(json.dumps(aliases, ensure_ascii=False), encoding="utf-8")
    tables = (
        ("chunks.npy", contents.chunks),
        ("units.npy", contents.units),
        ("unit_vectors.npy", contents.unit_vectors),
    )
    for file, array in tables:
        with (generation / file).open("wb") as handle:
            np.save(handle, np.asarray(array), allow_pickle=False)
    with (generation / "articles.jsonl").open("w", encoding="utf-8") as handle:
        for entry in entries:
            record = {"id": entry.article.id, **entry.article.metadata(), "text": entry.article.text}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    manifest = {
        "format": FORMAT_VERSION,
        "generation": generation.name,
        "model": spec.model,
        "dimension": spec.dimension,
        "chunking": {"size": spec.chunking.size, "overlap": spec.chunking.overlap},
        "built_at": built_at.isoformat(),
        "chunk_count": len(contents.chunks),
        "files": _record_files(generation),
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


def remove_stale_generations(folder: Path, keep: set[str]) -> None:
    """Generation folders other than `keep`: older builds and ones a crash left half-written."""
    for path in folder.glob("gen-*"):
        if path.name not in keep and path.is_dir():
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
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / LOCK).open("w")
    except OSError as exc:
        raise IndexWriteError(
            f"cannot write the index folder {folder} ({_reason(exc)}); "
            "make it writable or set STORYBOT_INDEX_DIR to a folder that is"
        ) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLockedError(f"another build is writing {folder}; wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
