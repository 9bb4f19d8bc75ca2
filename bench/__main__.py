"""`python -m bench [--quick]`: the engine's benchmark (issue 5); writes bench/results/."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PARTS = ("build", "scaling", "latency", "reader", "threads", "profile", "ann", "memory", "verify", "bot")
QUESTION_FILES = ("story.jsonl", "harbour.jsonl", "story_holdout.jsonl", "harbour_holdout.jsonl")


@dataclass(frozen=True)
class Plan:
    mode: str
    build_chunks: int
    sizes: tuple[int, ...]
    passes: int
    questions: int
    profile_size: int
    ann_sizes: tuple[int, ...]
    hnsw_m: tuple[int, ...]
    hnsw_m_largest: tuple[int, ...]
    ef_search: tuple[int, ...]
    ivf_nprobe: tuple[int, ...]
    memory_sizes: tuple[int, ...]
    bot_size: int
    bot_rounds: int
    bot_askers: int
    reindex_changed: int
    scaling_mb: tuple[int, ...] = (1, 2, 4, 8)
    verify_sizes: tuple[int, ...] = (100_000, 1_000_000)


FULL = Plan(
    mode="full",
    build_chunks=20_500,
    sizes=(1_000, 10_000, 100_000, 1_000_000),
    passes=2,
    questions=30,
    profile_size=100_000,
    ann_sizes=(100_000, 1_000_000),
    hnsw_m=(16, 32),
    hnsw_m_largest=(32,),
    ef_search=(16, 32, 64, 128),
    ivf_nprobe=(4, 8, 16, 32, 64),
    memory_sizes=(100_000, 1_000_000),
    bot_size=1_000_000,
    bot_rounds=5,
    bot_askers=20,
    reindex_changed=40,
)
QUICK = Plan(
    mode="quick",
    build_chunks=1_000,
    sizes=(1_000, 10_000, 100_000),
    passes=1,
    questions=10,
    profile_size=100_000,
    ann_sizes=(100_000,),
    hnsw_m=(16,),
    hnsw_m_largest=(16,),
    ef_search=(32, 64, 128),
    ivf_nprobe=(8, 32),
    memory_sizes=(100_000,),
    bot_size=100_000,
    bot_rounds=1,
    bot_askers=20,
    reindex_changed=4,
    scaling_mb=(1, 2),
    verify_sizes=(100_000,),
)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def questions(count: int | None = None, files: Sequence[str] = ("story.jsonl",)) -> list[str]:
    found = []
    for name in files:
        for line in (ROOT / "eval" / name).read_text().splitlines():
            if line.strip():
                found.append(str(json.loads(line)["question"]))
    return found[:count] if count else found


def run(
    plan: Plan,
    out: Path,
    parts: Sequence[str],
    model: str,
    work_parent: Path | None = None,
    *,
    merge: bool = False,
) -> dict[str, Any]:
    """Every part of the benchmark `parts` names; results written to `out` as they come.

    With `merge`, the other parts' figures are kept from `out`'s results.json, and the parts
    measured now are listed with their own date and commit."""
    from bench import corpus, measure, report
    from bench.machine import describe
    from index import SentenceTransformerEmbedder, build_index, load_index, use_threads
    from index.chunking import ChunkingParams

    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    machine = describe()
    results: dict[str, Any] = {"plan": dataclasses.asdict(plan), "machine": machine, "model": model}
    if merge and (out / "results.json").is_file():
        results = json.loads((out / "results.json").read_text())
        for part in parts:
            results.setdefault("remeasured", {})[part] = {"date": machine["date"], "commit": machine["commit"]}
        results["plan"] |= {name: getattr(plan, name) for name in ("scaling_mb", "verify_sizes")}
    work = Path(tempfile.mkdtemp(prefix="storybot-bench-", dir=work_parent or "/tmp"))

    def save() -> None:
        results["seconds"] = time.monotonic() - started
        (out / "results.json").write_text(json.dumps(results, indent=1, default=str))

    try:
        if "scaling" in parts:  # needs no model
            results["scaling"] = measure.measure_scaling(work, plan.scaling_mb, say)
            save()
            if set(parts) == {"scaling"}:
                report.write(results, out)
                return results
        say(f"{plan.mode} mode; work folder {work}; loading {model}")
        embedder = SentenceTransformerEmbedder(model)
        asked = questions(plan.questions)
        articles = work / "articles"
        count, expected = corpus.write_build_corpus(articles, plan.build_chunks, ChunkingParams())
        say(f"build corpus: {count} articles, about {expected} chunks")
        base_dir = work / "index"
        if "build" in parts:
            reference = measure.ReferenceModel(model)
            results["build"] = measure.measure_build(articles, base_dir, embedder, reference, say)
            del reference
            say(f"build: {results['build']}")
            results["rebuild"] = measure.measure_rebuild(articles, base_dir, embedder, say)
            say(f"rebuild: {results['rebuild']}")
            save()
        else:
            build_index(articles, base_dir, embedder, ChunkingParams())
        base = load_index(base_dir)
        # Questions are timed as the front ends answer them: one torch thread per answering thread
        # (index.embedding.use_threads); builds above ran with torch's default.
        use_threads(1)
        ann_queries = embedder.encode(questions(None, QUESTION_FILES))
        if "reader" in parts:
            say("reader: bundled corpus")
            results["reader"] = measure.measure_reader(
                ROOT / "data" / "articles", work / "reader-index", embedder, asked, plan.passes + 1, say
            )
            say(
                f"reader: ask p50 {results['reader']['ask_reader']['p50']:.0f} ms with it, "
                f"{results['reader']['ask_plain']['p50']:.0f} ms without"
            )
            save()
        for part in ("latency", "ann", "memory"):
            if part in parts or not merge:
                results[part] = []
        bot_index: Path | None = None
        for size in plan.sizes:
            if not _size_needed(plan, parts, size):
                continue
            folder = work / f"synthetic-{size}"
            say(f"synthesising {size} chunks")
            synthesise_started = time.perf_counter()
            chunks = corpus.synthesise(base, size, folder)
            say(f"synthesised {chunks} chunks in {time.perf_counter() - synthesise_started:.0f} s")
            synthetic = chunks > len(base.chunks)
            if "latency" in parts:
                row = measure.measure_latency(folder, embedder, asked, plan.passes, say)
                row |= {"size": size, "synthetic": synthetic}
                results["latency"].append(row)
                say(
                    f"latency {chunks}: engine p50 {row['engine']['p50']:.1f} p99 {row['engine']['p99']:.1f} ms; "
                    f"reference p50 {row['reference']['p50']:.1f} ms"
                )
            if "threads" in parts and size == plan.sizes[0]:
                results["threads"] = measure.measure_threads(folder, embedder, asked[:10], say)
            if "profile" in parts and size == plan.profile_size:
                results["profile"] = measure.profile_ask(folder, embedder, asked, say)
            if "memory" in parts and size in plan.memory_sizes:
                say(f"memory: fresh process over {chunks} chunks")
                results["memory"].append(measure.measure_memory(folder, model, asked) | {"size": size})
                say(f"memory: {results['memory'][-1]['bytes_per_chunk_loaded']:.0f} bytes per chunk")
            if "verify" in parts and size in plan.verify_sizes:
                results.setdefault("verify", [])
                results["verify"] = [row for row in results["verify"] if row["size"] != size]
                results["verify"].append(measure.measure_verify(folder, say) | {"size": size})
            if "ann" in parts and size in plan.ann_sizes:
                vectors = measure.stored_vectors(load_index(folder))
                largest = size == max(plan.ann_sizes) and len(plan.ann_sizes) > 1
                results["ann"].append(
                    measure.measure_ann(
                        vectors,
                        ann_queries,
                        hnsw_m=plan.hnsw_m_largest if largest else plan.hnsw_m,
                        ef_search=plan.ef_search,
                        ivf_nprobe=plan.ivf_nprobe,
                        say=say,
                    )
                    | {"size": size}
                )
                del vectors
            save()
            if "bot" in parts and size == plan.bot_size:
                bot_index = folder
            else:
                shutil.rmtree(folder)
        if "bot" in parts:
            from bench import botload

            results["bot"] = []
            real_articles = botload.copy_index(articles, work / "bot-articles")
            real_index = botload.copy_index(base_dir, work / "bot-index")

            def bot_run(index_dir: Path, name: str, changed: int) -> dict[str, Any]:
                return asyncio.run(
                    botload.run_bot(
                        index_dir=index_dir,
                        articles_dir=real_articles,
                        work=work / name,
                        questions=asked,
                        rounds=plan.bot_rounds,
                        askers=plan.bot_askers,
                        say=say,
                        changed_articles=changed,
                    )
                )

            say(f"bot: {len(base.chunks)} real chunks, {plan.bot_rounds} x {plan.bot_askers} questions, /reindex")
            results["bot"].append(
                bot_run(real_index, "bot-real", plan.reindex_changed) | {"chunks": len(base.chunks), "synthetic": False}
            )
            save()
            if bot_index is not None:
                say(f"bot: synthetic {plan.bot_size} chunks, {plan.bot_rounds} x {plan.bot_askers} questions")
                results["bot"].append(
                    bot_run(bot_index, "bot-synthetic", 0) | {"chunks": plan.bot_size, "synthetic": True}
                )
        if not merge:
            results["machine"]["load_average_at_end"] = os.getloadavg()
        save()
        report.write(results, out)
        say(f"done in {time.monotonic() - started:.0f} s: {out}/results.md, results.json, latency.png")
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _size_needed(plan: Plan, parts: Sequence[str], size: int) -> bool:
    """Whether any part asked for measures the synthetic index of `size` chunks."""
    return bool(
        "latency" in parts
        or ("bot" in parts and size == plan.bot_size)
        or ("threads" in parts and size == plan.sizes[0])
        or ("profile" in parts and size == plan.profile_size)
        or ("memory" in parts and size in plan.memory_sizes)
        or ("verify" in parts and size in plan.verify_sizes)
        or ("ann" in parts and size in plan.ann_sizes)
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run (a few minutes)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go (default bench/results)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument(
        "--merge", action="store_true", help="keep the other parts' figures from the existing results.json"
    )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {','.join(PARTS)}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING)
    run(QUICK if args.quick else FULL, args.out, parts, args.model, merge=args.merge)
    return 0


if __name__ == "__main__":
    sys.exit(main())
