"""The engine's figures, each measured beside its reference in the same run (these machines are noisy)."""

from __future__ import annotations

import cProfile
import dataclasses
import json
import os
import pstats
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.answering import Answerer
from index.articles import load_corpus
from index.builder import BuildProgress, build_index
from index.chunking import ChunkingParams, chunk_spans
from index.embedding import EncodeProgress, SentenceTransformerEmbedder, Vectors, resolve_model
from index.lexical import LexicalIndex
from index.storage import StoredIndex, check_files, load_index, read_manifest
from index.store import FaissStore, Ids

JSON = dict[str, Any]
Log = Callable[[str], None]
WARM_UP = 5  # questions asked before timing starts


def stats(seconds: Sequence[float]) -> JSON:
    """p50 / p95 / p99 / mean in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000
    if not len(ms):
        return {"n": 0}
    return {
        "n": len(ms),
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "mean": float(ms.mean()),
        "max": float(ms.max()),
    }


class ReferenceModel:
    """Plain `SentenceTransformer.encode`, same weights and batch size as the embedder."""

    def __init__(self, name: str, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.batch_size = batch_size
        self.model = SentenceTransformer(resolve_model(name), device="cpu")

    def encode(self, texts: Sequence[str]) -> Vectors:
        out = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(out, dtype=np.float32)


def chunk_texts(folder: Path, chunking: ChunkingParams) -> list[str]:
    return [a.text[s:e] for a in load_corpus(folder).articles for s, e in chunk_spans(a.text, chunking)]


# --- 1 and 2: builds -------------------------------------------------------------------------------


def measure_build(
    articles: Path, index_dir: Path, embedder: SentenceTransformerEmbedder, reference: ReferenceModel, say: Log
) -> JSON:
    """A full `index build` against plain encode of the same chunk texts.

    The reference encodes half the texts before the build and half after it, so both see the same
    stretch of machine noise; its rate is all texts over the two halves' time.
    """
    chunking = ChunkingParams()
    texts = chunk_texts(articles, chunking)
    half = len(texts) // 2
    say(f"build: reference encode of {half} chunk texts (first half)")
    started = time.perf_counter()
    reference.encode(texts[:half])
    first = time.perf_counter() - started
    say(f"build: full index build of {len(texts)} chunks")
    started = time.perf_counter()
    report = build_index(articles, index_dir, embedder, chunking, full=True)
    build_seconds = time.perf_counter() - started
    say(f"build: reference encode of {len(texts) - half} chunk texts (second half)")
    started = time.perf_counter()
    reference.encode(texts[half:])
    second = time.perf_counter() - started
    reference_rate = len(texts) / (first + second)
    build_rate = report.chunks / build_seconds
    return {
        "chunks": report.chunks,
        "articles": len(report.added),
        "build_seconds": build_seconds,
        "build_chunks_per_s": build_rate,
        "reference_seconds": first + second,
        "reference_chunks_per_s": reference_rate,
        "ratio": build_rate / reference_rate,
        "batch_size": reference.batch_size,
    }


def measure_rebuild(articles: Path, index_dir: Path, embedder: SentenceTransformerEmbedder, say: Log) -> JSON:
    """An update with nothing changed, then one with one article changed."""
    chunking = ChunkingParams()
    say("rebuild: nothing changed")
    started = time.perf_counter()
    unchanged = build_index(articles, index_dir, embedder, chunking)
    unchanged_seconds = time.perf_counter() - started
    target = sorted(articles.iterdir())[len(list(articles.iterdir())) // 2]
    from bench.corpus import change_article

    change_article(target, "bench")
    expected = len(chunk_spans(next(a for a in load_corpus(articles).articles if a.id == target.name).text, chunking))
    say(f"rebuild: one article changed ({target.name}, {expected} chunks)")
    started = time.perf_counter()
    changed = build_index(articles, index_dir, embedder, chunking)
    changed_seconds = time.perf_counter() - started
    return {
        "chunks": unchanged.chunks,
        "unchanged_seconds": unchanged_seconds,
        "unchanged_embedded": unchanged.embedded_chunks,
        "unchanged_written": unchanged.written,
        "one_changed_seconds": changed_seconds,
        "one_changed_embedded": changed.embedded_chunks,
        "one_changed_expected": expected,
        "one_changed_reports": {"changed": len(changed.changed), "unchanged": len(changed.unchanged)},
    }


# --- 3: question latency ----------------------------------------------------------------------


def measure_latency(
    index_dir: Path, embedder: SentenceTransformerEmbedder, questions: Sequence[str], passes: int, say: Log
) -> JSON:
    """Warm `Answerer.ask` per question beside the reference (embed the question, exact FAISS search,
    same k), alternating which goes first."""
    started = time.perf_counter()
    stored = load_index(index_dir)
    load_seconds = time.perf_counter() - started
    answerer = Answerer(stored, embedder)
    k = answerer.options.candidates
    # The reference searches exactly, whatever the engine's own index is (IVF above its threshold).
    exact = stored.store
    if exact.approximate:
        exact = FaissStore.from_vectors(
            stored_vectors(stored), stored.spec.dimension, approximate_above=len(stored.chunks)
        )
    for question in questions[:WARM_UP]:  # warm: model, FAISS, caches
        answerer.ask(question)
        exact.search(embedder.encode([question]), k)
    engine: list[float] = []
    reference: list[float] = []
    abstained = 0
    for round_ in range(passes):
        for i, question in enumerate(questions):
            order = (answer_engine, answer_reference) if (i + round_) % 2 == 0 else (answer_reference, answer_engine)
            for step in order:
                seconds, result = step(answerer, exact, embedder, question, k)
                (engine if step is answer_engine else reference).append(seconds)
                abstained += int(result)
        say(f"latency: {len(stored.chunks)} chunks, pass {round_ + 1}/{passes} done")
    engine_stats, reference_stats = stats(engine), stats(reference)
    return {
        "chunks": len(stored.chunks),
        "articles": len(stored.entries),
        "engine_search": "IVF (approximate)" if stored.store.approximate else "exact",
        "load_seconds": load_seconds,
        "questions": len(questions),
        "passes": passes,
        "abstained_share": abstained / max(1, len(engine)),
        "engine": engine_stats,
        "reference": reference_stats,
        "overhead_p50": engine_stats["p50"] / reference_stats["p50"],
        "overhead_mean": engine_stats["mean"] / reference_stats["mean"],
    }


def answer_engine(
    answerer: Answerer, store: FaissStore, embedder: SentenceTransformerEmbedder, question: str, k: int
) -> tuple[float, bool]:
    started = time.perf_counter()
    answer = answerer.ask(question)
    return time.perf_counter() - started, answer.abstained


def answer_reference(
    answerer: Answerer, store: FaissStore, embedder: SentenceTransformerEmbedder, question: str, k: int
) -> tuple[float, bool]:
    started = time.perf_counter()
    store.search(embedder.encode([question]), k)
    return time.perf_counter() - started, False


# --- the profile of one ask ---------------------------------------------------------------------


class _Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls_in_ask = 0

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


class _TimedEmbedder:
    """The first encode of an ask embeds the question (and its alias variants); later ones embed
    the candidate sentences (or the question's focus)."""

    def __init__(self, inner: SentenceTransformerEmbedder, timers: _Timers) -> None:
        self._inner, self._timers = inner, timers

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def encode(self, texts: Sequence[str], progress: EncodeProgress | None = None) -> Vectors:
        started = time.perf_counter()
        out = self._inner.encode(texts, progress)
        stage = "query embedding" if self._timers.calls_in_ask == 0 else "sentence embedding"
        self._timers.calls_in_ask += 1
        self._timers.add(stage, time.perf_counter() - started)
        return out


class _TimedStore(FaissStore):
    timers: _Timers

    def search(self, queries: Vectors, k: int) -> tuple[npt.NDArray[np.float32], Ids]:
        started = time.perf_counter()
        out = super().search(queries, k)
        self.timers.add("FAISS search", time.perf_counter() - started)
        return out

    def vectors(self, start: int, count: int) -> Vectors:
        started = time.perf_counter()
        out = super().vectors(start, count)
        self.timers.add("vector lookups (keyword-only rows)", time.perf_counter() - started)
        return out


class _TimedLexical(LexicalIndex):
    timers: _Timers

    def top(self, query: str, k: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        started = time.perf_counter()
        out = super().top(query, k)
        self.timers.add("BM25 top-k", time.perf_counter() - started)
        return out


def profile_ask(index_dir: Path, embedder: SentenceTransformerEmbedder, questions: Sequence[str], say: Log) -> JSON:
    """Per-stage timers over the questions, then cProfile's view of the same asks."""
    stored = load_index(index_dir)
    timers = _Timers()
    store = _TimedStore(stored.store._index)
    store.timers = timers
    lexical = _TimedLexical(stored.lexical._weights, stored.lexical._vocabulary)
    lexical.timers = timers
    timed = dataclasses.replace(stored, store=store, lexical=lexical)
    answerer = Answerer(timed, _TimedEmbedder(embedder, timers))
    for question in questions[:WARM_UP]:
        timers.calls_in_ask = 0
        answerer.ask(question)
    timers.seconds.clear()
    total = 0.0
    for question in questions:
        timers.calls_in_ask = 0
        started = time.perf_counter()
        answerer.ask(question)
        total += time.perf_counter() - started
    stages = dict(sorted(timers.seconds.items(), key=lambda item: -item[1]))
    stages["rest: alias expansion, fusion, sentence splitting, scoring, snippet windows, MMR, merging"] = total - sum(
        stages.values()
    )
    per_question = {stage: seconds / len(questions) * 1000 for stage, seconds in stages.items()}
    say(f"profile: {len(stored.chunks)} chunks, {total / len(questions) * 1000:.1f} ms per ask")

    plain = Answerer(stored, embedder)
    profiler = cProfile.Profile()
    profiler.enable()
    for question in questions:
        plain.ask(question)
    profiler.disable()
    return {
        "chunks": len(stored.chunks),
        "questions": len(questions),
        "ms_per_ask": total / len(questions) * 1000,
        "stages_ms": per_question,
        "cprofile": _profile_rows(profiler, len(questions)),
    }


def _profile_rows(profiler: cProfile.Profile, asks: int, limit: int = 18) -> list[JSON]:
    """The functions with the most cumulative time per ask (ours, plus the libraries' heavy calls)."""
    table = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in table.items():
        short = path
        for marker in ("/site-packages/", "/work/main/", "/lib/python3"):
            if marker in path:
                short = path.split(marker, 1)[1]
        rows.append(
            {
                "function": f"{short}:{line}({name})",
                "calls_per_ask": calls / asks,
                "own_ms": own / asks * 1000,
                "cumulative_ms": cumulative / asks * 1000,
            }
        )
    rows.sort(key=lambda r: -r["cumulative_ms"])
    interesting = [r for r in rows if "index/" in r["function"] or r["own_ms"] > 0.5]
    return interesting[:limit]


# --- torch's thread count at question time ------------------------------------------------------


def measure_threads(index_dir: Path, embedder: SentenceTransformerEmbedder, questions: Sequence[str], say: Log) -> JSON:
    """Question-time work with torch's default intra-op threads against one thread, same process.

    Not a change to the engine: a diagnostic for the optimisation pass (OpenMP threads that wait
    for each other are slow for the tiny batches of a question, more so on a busy machine).
    """
    import torch

    before = torch.get_num_threads()
    default = os.cpu_count() or 1  # torch's own default: one thread per core
    answerer = Answerer(load_index(index_dir), embedder)
    rows: JSON = {"default_threads": default, "runs": []}
    try:
        for threads in (default, 1, default, 1):
            torch.set_num_threads(threads)
            answerer.ask(questions[0])
            encode, ask = [], []
            for question in questions:
                started = time.perf_counter()
                embedder.encode([question])
                encode.append(time.perf_counter() - started)
                started = time.perf_counter()
                answerer.ask(question)
                ask.append(time.perf_counter() - started)
            rows["runs"].append({"threads": threads, "encode_question": stats(encode), "ask": stats(ask)})
            say(
                f"threads: torch {threads}: question encode p50 {stats(encode)['p50']:.1f} ms, ask p50 "
                f"{stats(ask)['p50']:.1f} ms"
            )
    finally:
        torch.set_num_threads(before)
    return rows


# --- 4: exact against approximate search -----------------------------------------------------


def measure_ann(
    vectors: Vectors,
    queries: Vectors,
    *,
    hnsw_m: Sequence[int],
    ef_search: Sequence[int],
    ivf_nprobe: Sequence[int],
    say: Log,
    k: int = 10,
) -> JSON:
    """Flat, HNSW and IVF-Flat over the same vectors: build seconds, recall@k against flat, latency
    of one query at a time (as the engine searches)."""
    import faiss

    n, d = vectors.shape
    rows: list[JSON] = []

    def timed_search(index: Any) -> tuple[npt.NDArray[np.int64], JSON]:
        found = np.empty((len(queries), k), dtype=np.int64)
        seconds = []
        for i, query in enumerate(queries):
            started = time.perf_counter()
            _, ids = index.search(query[None, :], k)
            seconds.append(time.perf_counter() - started)
            found[i] = ids[0]
        return found, stats(seconds)

    def recall(found: npt.NDArray[np.int64]) -> float:
        return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found, exact, strict=True)]))

    started = time.perf_counter()
    flat = faiss.IndexFlatIP(d)
    flat.add(vectors)
    build = time.perf_counter() - started
    exact, latency = timed_search(flat)
    rows.append(
        {"kind": "flat", "params": "exact", "build_s": build, "recall": 1.0, "latency": latency, "extra_bytes": 0}
    )
    say(f"ann: {n} vectors, flat p50 {latency['p50']:.2f} ms")
    del flat

    for m in hnsw_m:
        started = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
        hnsw.add(vectors)
        build = time.perf_counter() - started
        say(f"ann: HNSW M={m} built in {build:.0f} s")
        for ef in ef_search:
            hnsw.hnsw.efSearch = ef
            found, latency = timed_search(hnsw)
            rows.append(
                {
                    "kind": "hnsw",
                    "params": f"M={m} efConstruction={hnsw.hnsw.efConstruction} efSearch={ef}",
                    "build_s": build,
                    "recall": recall(found),
                    "latency": latency,
                    "extra_bytes": 8 * m + 16,  # level-0 links (2M int32), offsets, levels; upper levels ~M/(M-1)
                }
            )
        del hnsw

    nlist = 2 ** round(np.log2(max(16.0, np.sqrt(n))))  # about sqrt(n) lists, as the faiss guidelines suggest
    started = time.perf_counter()
    quantizer = faiss.IndexFlatIP(d)
    ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[np.random.default_rng(1).choice(n, size=min(n, 40 * nlist), replace=False)]
    ivf.train(sample)
    ivf.add(vectors)
    build = time.perf_counter() - started
    say(f"ann: IVF nlist={nlist} built in {build:.0f} s")
    for nprobe in ivf_nprobe:
        ivf.nprobe = nprobe
        found, latency = timed_search(ivf)
        rows.append(
            {
                "kind": "ivf",
                "params": f"IVFFlat nlist={nlist} nprobe={nprobe}",
                "build_s": build,
                "recall": recall(found),
                "latency": latency,
                "extra_bytes": 8,
            }
        )
    return {"vectors": n, "queries": len(queries), "k": k, "rows": rows}


# --- 5: memory ------------------------------------------------------------------------------------


def measure_memory(index_dir: Path, model: str, questions: Sequence[str]) -> JSON:
    """RSS of a fresh process with the index loaded, minus the same process with only the model."""
    command = [sys.executable, "-m", "bench.rss", str(index_dir), model, *questions[:3]]
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env, timeout=900)
    result: JSON = json.loads(done.stdout.strip().splitlines()[-1])
    chunks = int(result["chunks"])
    result["bytes_per_chunk_loaded"] = (result["rss_loaded"] - result["rss_model"]) / chunks
    result["bytes_per_chunk_after_asks"] = (result["rss_after_asks"] - result["rss_model"]) / chunks
    result["disk_bytes_per_chunk"] = result["disk_bytes"] / chunks
    return result


def stored_vectors(stored: StoredIndex) -> Vectors:
    return stored.store.vectors(0, stored.store.size)


def measure_reader(
    articles: Path,
    index_dir: Path,
    embedder: SentenceTransformerEmbedder,
    questions: Sequence[str],
    passes: int,
    say: Log,
) -> JSON:
    """The reader on the bundled corpus: `Answerer.ask` with and without it, and `CrossEncoderReader.read`
    against plain `CrossEncoder.predict` (the same saved model loaded by sentence-transformers in
    float32; left to itself it loads the stored half precision, several times slower on a CPU)
    on the same pairs, alternating order."""
    import torch
    from sentence_transformers import CrossEncoder

    from index.reader import MAX_TOKENS, PACKAGED_READER, CrossEncoderReader

    build_index(articles, index_dir, embedder, ChunkingParams())
    stored = load_index(index_dir)
    reader = CrossEncoderReader()
    float_reader = CrossEncoderReader(int8=False)
    plain = CrossEncoder(str(PACKAGED_READER), max_length=MAX_TOKENS, model_kwargs={"dtype": torch.float32})
    with_reader, without = Answerer(stored, embedder, reader=reader), Answerer(stored, embedder)
    read = with_reader.options.read
    pairs = {q: [p.text for p in with_reader.passages(q)[:read]] for q in questions}
    for question in questions[:WARM_UP]:
        with_reader.ask(question)
        without.ask(question)
        plain.predict([(question, p) for p in pairs[question]], show_progress_bar=False)
        float_reader.read(question, pairs[question])
    timings: dict[str, list[float]] = {"ask_reader": [], "ask_plain": [], "read": [], "read_float": [], "predict": []}

    def timed(name: str, call: Callable[[], object]) -> None:
        started = time.perf_counter()
        call()
        timings[name].append(time.perf_counter() - started)

    def steps(question: str) -> list[tuple[str, Callable[[], object]]]:
        ps = pairs[question]
        return [
            ("ask_reader", lambda: with_reader.ask(question)),
            ("ask_plain", lambda: without.ask(question)),
            ("read", lambda: reader.read(question, ps)),
            ("read_float", lambda: float_reader.read(question, ps)),
            ("predict", lambda: plain.predict([(question, p) for p in ps], show_progress_bar=False)),
        ]

    for round_ in range(passes):
        for i, question in enumerate(questions):
            order = steps(question)
            for name, call in order if (i + round_) % 2 == 0 else reversed(order):
                timed(name, call)
        say(f"reader: pass {round_ + 1}/{passes} done")
    figures = {name: stats(values) for name, values in timings.items()}
    return {
        "chunks": len(stored.chunks),
        "questions": len(questions),
        "passes": passes,
        "passages_read": read,
        "mean_pairs": float(np.mean([len(p) for p in pairs.values()])),
        **figures,
        "read_over_predict_mean": figures["read"]["mean"] / figures["predict"]["mean"],
        "float_read_over_predict_mean": figures["read_float"]["mean"] / figures["predict"]["mean"],
    }


# --- build scaling: every stage linear in the input ------------------------------------------------


class HashEmbedder:
    """Vectors without a model, so that the stages around it can be timed on inputs far too large
    to embed here (8 MB of tiny sentences is two million of them). The model's own cost is linear by
    construction (fixed batches) and measured in the build part."""

    name = "bench-hash"
    dimension = 384

    def encode(self, texts: Sequence[str], progress: EncodeProgress | None = None) -> Vectors:
        rng = np.random.default_rng(len(texts))
        vectors = rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        if progress is not None:
            progress(len(texts), len(texts))
        return vectors


def _scaling_text(shape: str, size: int) -> str:
    """`size` characters of one article: tiny sentences, news prose, or unclosed Markdown."""
    if shape == "tiny sentences":
        words = [f"{a}{b}" for a in "BCDFGHJKLMNPRSTVWZ" for b in "aeiou"]
        unit = " ".join(f"{words[n % len(words)]}." for n in range(997)) + " "
    elif shape == "markdown clutter":
        unit = "".join(f"*a{n} [b{n} <c{n} _d{n} " for n in range(200)) + "\n"
    else:
        unit = "\n\n".join(
            a.text for a in load_corpus(Path(__file__).resolve().parent.parent / "data" / "articles").articles
        )
        unit += "\n\n"
    return (unit * (size // len(unit) + 1))[:size]


def _timed_build(articles: Path, index_dir: Path) -> tuple[int, dict[str, float]]:
    """A full build with HashEmbedder: its chunk count and the seconds of each stage."""
    marks: dict[str, float] = {}

    def mark(event: BuildProgress) -> None:
        if event.stage == "saving" and event.done == 1:
            marks["saved"] = time.perf_counter()
        elif event.stage not in marks:
            marks[event.stage] = time.perf_counter()

    started = time.perf_counter()
    report = build_index(articles, index_dir, HashEmbedder(), ChunkingParams(), full=True, progress=mark)
    return report.chunks, {
        "read_clean": marks["articles"] - started,
        "chunk": marks["chunks"] - marks["articles"],
        "embed_stub": marks["saving"] - marks["embedding"],
        "save": marks["saved"] - marks["saving"],
        "seconds": marks["saved"] - started,
    }


def measure_scaling(work: Path, sizes_mb: Sequence[int], say: Log) -> JSON:
    """A full build of one article of 1, 2, 4, 8 MB per input shape, each stage timed through the
    build's progress events: read and clean; chunk into chunks and sentences; embed (HashEmbedder);
    save (FAISS, BM25, aliases, files, checksums)."""
    rows: list[JSON] = []
    articles, index_dir = work / "scaling-articles", work / "scaling-index"
    for shape in ("tiny sentences", "news prose", "markdown clutter"):
        for mb in sizes_mb:
            shutil.rmtree(articles, ignore_errors=True)
            shutil.rmtree(index_dir, ignore_errors=True)
            articles.mkdir(parents=True)
            suffix = ".md" if shape == "markdown clutter" else ".txt"
            text = "A headline for the article\n\n" + _scaling_text(shape, mb * 1_000_000)
            (articles / f"one{suffix}").write_text(text)
            chunks, stages = _timed_build(articles, index_dir)
            seconds = stages["seconds"]
            rows.append({"shape": shape, "mb": mb, "chunks": chunks, "seconds_per_mb": seconds / mb, **stages})
            say(f"scaling: {shape}, {mb} MB: {seconds:.1f} s ({seconds / mb:.2f} s/MB), {chunks} chunks")
    shutil.rmtree(articles, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    return {"rows": rows}


# --- checksums at load ------------------------------------------------------------------------------


def measure_verify(index_dir: Path, say: Log) -> JSON:
    """What checking the files costs when an index loads: `load_index` with SHA-256 of every file
    (the default), with sizes only, and the checksum pass alone; each twice, alternating, from the
    page cache (the common case: the build just wrote the files, or the last start read them)."""
    manifest = read_manifest(index_dir)
    generation = index_dir / str(manifest["generation"])
    timings: dict[str, list[float]] = {"load_checksums": [], "load_sizes": [], "checksums_alone": []}
    for _ in range(2):
        for name, call in (
            ("load_checksums", lambda: load_index(index_dir)),
            ("load_sizes", lambda: load_index(index_dir, checksums=False)),
            ("checksums_alone", lambda: check_files(index_dir, generation, manifest["files"])),
        ):
            started = time.perf_counter()
            call()
            timings[name].append(time.perf_counter() - started)
    size = sum(int(record["bytes"]) for record in manifest["files"].values())
    result: JSON = {"bytes": size, "chunks": int(manifest["chunk_count"])}
    result.update((name, min(values)) for name, values in timings.items())
    say(
        f"verify {result['chunks']:,} chunks, {size / 1e9:.2f} GB: load {result['load_checksums']:.1f} s "
        f"with checksums, {result['load_sizes']:.1f} s with sizes only"
    )
    return result
