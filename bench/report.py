"""results.json -> results.md (tables, targets met or missed) and latency.png (latency against size)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

JSON = dict[str, Any]
KB = 1024


def _ok(met: bool) -> str:
    return "met" if met else "**missed**"


def _n(value: float) -> str:
    return f"{value:,.0f}"


def targets(results: JSON) -> list[tuple[str, str, str, str]]:
    """(target, measured, reference, verdict) for every target the run has figures for."""
    rows: list[tuple[str, str, str, str]] = []
    build = results.get("build")
    if build:
        rows.append(
            (
                "1. build ≥ 0.9 × raw encode",
                f"{build['build_chunks_per_s']:.1f} chunks/s ({build['ratio']:.2f} ×)",
                f"{build['reference_chunks_per_s']:.1f} chunks/s",
                _ok(build["ratio"] >= 0.9),
            )
        )
    rebuild = results.get("rebuild")
    if rebuild:
        rows.append(
            (
                "2. no-change rebuild ≤ 2 s, nothing embedded",
                f"{rebuild['unchanged_seconds']:.2f} s, {rebuild['unchanged_embedded']} embedded",
                f"{rebuild['chunks']:,} chunks",
                _ok(rebuild["unchanged_seconds"] <= 2 and rebuild["unchanged_embedded"] == 0),
            )
        )
        rows.append(
            (
                "2. one changed article: only its chunks embedded",
                f"{rebuild['one_changed_embedded']} embedded in {rebuild['one_changed_seconds']:.2f} s",
                f"{rebuild['one_changed_expected']} chunks in the article",
                _ok(rebuild["one_changed_embedded"] == rebuild["one_changed_expected"]),
            )
        )
    reader = results.get("reader")
    if reader:
        ask = reader["ask_reader"]
        rows.append(
            (
                "reader: answer p50 ≤ 150 ms, p99 ≤ 400 ms, bundled corpus",
                f"p50 {ask['p50']:.0f} ms, p99 {ask['p99']:.0f} ms",
                f"without the reader p50 {reader['ask_plain']['p50']:.0f} ms",
                _ok(ask["p50"] <= 150 and ask["p99"] <= 400),
            )
        )
        rows.append(
            (
                "reader: read ≤ 1.1 × CrossEncoder.predict, same pairs",
                f"{reader['read']['mean']:.1f} ms ({reader['read_over_predict_mean']:.2f} ×)",
                f"predict {reader['predict']['mean']:.1f} ms",
                _ok(reader["read_over_predict_mean"] <= 1.1),
            )
        )
    for row in results.get("latency", []):
        engine, reference = row["engine"], row["reference"]
        size = row["size"]
        if size == 100_000:
            rows.append(
                (
                    "3. p50 ≤ 30 ms, p99 ≤ 100 ms at 100k",
                    f"p50 {engine['p50']:.1f} ms, p99 {engine['p99']:.1f} ms",
                    f"p50 {reference['p50']:.1f} ms, p99 {reference['p99']:.1f} ms",
                    _ok(engine["p50"] <= 30 and engine["p99"] <= 100),
                )
            )
        if size == 1_000_000:
            rows.append(
                (
                    "3. p50 ≤ 100 ms at 1M",
                    f"p50 {engine['p50']:.1f} ms",
                    f"p50 {reference['p50']:.1f} ms",
                    _ok(engine["p50"] <= 100),
                )
            )
        if size >= 100_000:
            rows.append(
                (
                    f"3. engine ≤ 1.5 × reference at {_short(size)} (p50)",
                    f"{row['overhead_p50']:.1f} ×",
                    f"{reference['p50']:.1f} ms",
                    _ok(row["overhead_p50"] <= 1.5),
                )
            )
    for ann in results.get("ann", []):
        good = [r for r in ann["rows"] if r["kind"] != "flat" and r["recall"] >= 0.95]
        flat = next(r for r in ann["rows"] if r["kind"] == "flat")
        if good:
            best = min(good, key=lambda r: r["latency"]["p50"])
            measured = f"{best['params']}: recall {best['recall']:.3f}, p50 {best['latency']['p50']:.2f} ms"
        else:
            best_recall = max((r for r in ann["rows"] if r["kind"] != "flat"), key=lambda r: r["recall"])
            measured = f"best recall {best_recall['recall']:.3f} ({best_recall['params']})"
        rows.append(
            (
                f"4. approximate recall@10 ≥ 0.95 at {_short(ann['size'])}",
                measured,
                f"flat p50 {flat['latency']['p50']:.2f} ms",
                _ok(bool(good)),
            )
        )
    scaling = results.get("scaling", {}).get("rows", [])
    if scaling:
        sizes = sorted({row["mb"] for row in scaling})
        per_mb = {(row["shape"], row["mb"]): row["seconds_per_mb"] for row in scaling}
        worst = max(per_mb[shape, sizes[-1]] / per_mb[shape, sizes[0]] for shape, _ in per_mb)
        rows.append(
            (
                f"build linear: s/MB at {sizes[-1]} MB ≤ 1.5 × s/MB at {sizes[0]} MB, every input",
                f"worst {worst:.2f} ×",
                f"{len({shape for shape, _ in per_mb})} inputs",
                _ok(worst <= 1.5),
            )
        )
    for memory in results.get("memory", []):
        per_chunk = memory["bytes_per_chunk_loaded"]
        rows.append(
            (
                f"5. memory ≤ 2.5 KB/chunk at {_short(memory['size'])}",
                f"{per_chunk / KB:.2f} KB/chunk loaded ({memory['bytes_per_chunk_after_asks'] / KB:.2f} after asks)",
                "1.5 KB float32 vector",
                _ok(per_chunk <= 2.5 * KB),
            )
        )
    return rows


def _short(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k" if size >= 1000 else str(size)


def markdown(results: JSON) -> str:
    machine = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    lines = [
        f"# StoryBot benchmark ({results['plan']['mode']} mode)",
        "",
        f"- Date: {machine['date']}; commit {machine['commit']}"
        + (
            f" (engine files modified: {', '.join(machine['engine_files_modified'])})"
            if machine["engine_files_modified"]
            else ""
        ),
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; "
        f"load average at start {_load(machine['load_average_at_start'])}"
        + (f", at end {_load(machine['load_average_at_end'])}" if "load_average_at_end" in machine else "")
        + " (shared machine: other work ran meanwhile; every figure sits beside its reference from the same run)",
        f"- Python {machine['python']}, torch threads {machine['torch_threads']}; {versions}",
        f"- Model {results['model']}; whole run {results.get('seconds', 0) / 60:.1f} min",
        *(
            f"- Part {part} measured again on {when['date']} at commit {when['commit']} (same machine type)"
            for part, when in results.get("remeasured", {}).items()
        ),
        "",
        "## Targets",
        "",
        "| target | measured | reference (same run) | verdict |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(results)]
    lines += (
        _build(results)
        + _scaling(results)
        + _latency(results)
        + _reader(results)
        + _threads(results)
        + _profile(results)
        + _ann(results)
        + _memory(results)
        + _verify(results)
        + _bot(results)
    )
    return "\n".join(lines) + "\n"


def _load(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def _build(results: JSON) -> list[str]:
    build, rebuild = results.get("build"), results.get("rebuild")
    if not build:
        return []
    lines = [
        "",
        "## 1-2. Build",
        "",
        f"Corpus: {build['articles']:,} articles, {build['chunks']:,} chunks: the bundled and harbour articles "
        "copied with the copy number in the title and first sentence and their paragraphs shuffled. Reference: "
        f"`SentenceTransformer.encode` of the same chunk texts, batch size {build['batch_size']}, half before and half "
        "after the build.",
        "",
        "| what | seconds | chunks/s |",
        "|---|---|---|",
        f"| `index build --full` (clean, chunk, embed, BM25, aliases, save) | {build['build_seconds']:.1f} | "
        f"{build['build_chunks_per_s']:.1f} |",
        f"| reference encode | {build['reference_seconds']:.1f} | {build['reference_chunks_per_s']:.1f} |",
    ]
    if rebuild:
        lines += [
            f"| rebuild, nothing changed | {rebuild['unchanged_seconds']:.2f} | "
            f"{rebuild['unchanged_embedded']} embedded |",
            f"| rebuild, one article changed | {rebuild['one_changed_seconds']:.2f} | "
            f"{rebuild['one_changed_embedded']} embedded ({rebuild['one_changed_expected']} in the article) |",
        ]
    return lines


def _latency(results: JSON) -> list[str]:
    rows = results.get("latency", [])
    if not rows:
        return []
    lines = [
        "",
        "## 3. Question latency (warm), ms",
        "",
        f"{rows[0]['questions']} questions (eval/story.jsonl), {rows[0]['passes']} timed pass(es) after a warm-up "
        "pass; engine = `Answerer.ask`; reference = embed the question + exact FAISS search (same k), "
        "alternating order.",
        "",
        "| chunks | data | engine search | engine p50 | p95 | p99 | reference p50 | p95 | p99 "
        "| engine / reference (p50) | load s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        e, r = row["engine"], row["reference"]
        data = "synthetic†" if row["synthetic"] else "real"
        search = row.get("engine_search", "exact")
        lines.append(
            f"| {_n(row['chunks'])} | {data} | {search} | {e['p50']:.1f} | {e['p95']:.1f} | {e['p99']:.1f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {row['overhead_p50']:.1f} × | "
            f"{row['load_seconds']:.1f} |"
        )
    lines += [
        "",
        "† Synthetic: the real build index's articles and chunk rows replicated; copy 0 keeps the real vectors, "
        "every other copy has Gaussian noise (σ = 0.025 per dimension, cosine ≈ 0.9 to the original) added and is "
        "renormalised; the BM25 matrix is the real one tiled row-wise (not rebuilt over the copies). Real: a prefix "
        "of the real build index with its own BM25 built. Article texts of copies are identical, so many passages "
        "are merged across outlets. p99 over few samples is close to the maximum. The engine searches exactly up to "
        "50,000 chunks and with IVF (√n lists, 32 probed) above; the reference always searches exactly.",
        "",
        "![latency](latency.png)",
    ]
    return lines


def _reader(results: JSON) -> list[str]:
    reader = results.get("reader")
    if not reader:
        return []
    lines = [
        "",
        "## Reader (bundled corpus), ms",
        "",
        f"{reader['questions']} questions, {reader['passes']} timed passes, one torch thread; the reader reads "
        f"up to {reader['passages_read']} passages a question ({reader['mean_pairs']:.1f} on average). "
        "`read` is StoryBot's reader (int8 linear layers on the CPU); `read, float32` the same without int8; "
        "`CrossEncoder.predict` the same saved model loaded plainly by sentence-transformers in float32 "
        "(loaded as stored, in half precision, it is several times slower on a CPU), on the same pairs.",
        "",
        "| what | mean | p50 | p95 | p99 |",
        "|---|---|---|---|---|",
    ]
    if reader.get("measured"):
        lines[5:5] = [f"Reader figures {reader['measured']}.", ""]
    names = {
        "ask_reader": "`Answerer.ask` with the reader",
        "ask_plain": "`Answerer.ask` without (STORYBOT_READER_MODEL=none)",
        "read": "`read`",
        "read_float": "`read`, float32",
        "predict": "`CrossEncoder.predict`",
    }
    for key, label in names.items():
        s = reader[key]
        lines.append(f"| {label} | {s['mean']:.1f} | {s['p50']:.1f} | {s['p95']:.1f} | {s['p99']:.1f} |")
    return lines


def _threads(results: JSON) -> list[str]:
    threads = results.get("threads")
    if not threads:
        return []
    lines = [
        "",
        "## Diagnostic: torch threads at question time (same process, alternating)",
        "",
        f"torch's default here is {threads['default_threads']} intra-op threads. The engine was not changed: "
        "`torch.set_num_threads` was switched around the same questions on the smallest index.",
        "",
        "| torch threads | question encode p50 ms | p95 | Answerer.ask p50 ms | p95 |",
        "|---|---|---|---|---|",
    ]
    for run in threads["runs"]:
        e, a = run["encode_question"], run["ask"]
        lines.append(f"| {run['threads']} | {e['p50']:.1f} | {e['p95']:.1f} | {a['p50']:.1f} | {a['p95']:.1f} |")
    return lines


def _profile(results: JSON) -> list[str]:
    profile = results.get("profile")
    if not profile:
        return []
    lines = [
        "",
        f"## Profile of `Answerer.ask` at {_n(profile['chunks'])} chunks",
        "",
        f"{profile['ms_per_ask']:.1f} ms per ask over {profile['questions']} questions (manual timers around the "
        "embedder, the FAISS store and the BM25 index; the rest is `answering.py`'s own Python).",
        "",
        "| stage | ms per ask | share |",
        "|---|---|---|",
    ]
    total = profile["ms_per_ask"]
    for stage, ms in profile["stages_ms"].items():
        lines.append(f"| {stage} | {ms:.2f} | {ms / total:.0%} |")
    lines += [
        "",
        "cProfile (same questions, separate pass; cumulative includes callees):",
        "",
        "| function | calls per ask | own ms | cumulative ms |",
        "|---|---|---|---|",
    ]
    for row in profile["cprofile"]:
        lines.append(
            f"| `{row['function']}` | {row['calls_per_ask']:.1f} | {row['own_ms']:.2f} | {row['cumulative_ms']:.2f} |"
        )
    return lines


def _ann(results: JSON) -> list[str]:
    runs = results.get("ann", [])
    if not runs:
        return []
    lines = [
        "",
        "## 4. Exact against approximate search (faiss directly, same vectors)",
        "",
        f"Queries: the {runs[0]['queries']} eval questions (all four sets), embedded; one query per search call, as "
        "the engine searches; recall@10 against the flat index. The vectors are the synthetic ones above (clusters of "
        "perturbed copies), which is harder for approximate search than real text: treat recall as a lower bound.",
        "",
        "| vectors | index | build s | recall@10 | p50 ms | p99 ms | extra bytes/vector |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for row in run["rows"]:
            lines.append(
                f"| {_n(run['vectors'])} | {row['kind']} {row['params']} | {row['build_s']:.1f} | "
                f"{row['recall']:.3f} | {row['latency']['p50']:.2f} | {row['latency']['p99']:.2f} | "
                f"≈{row['extra_bytes']} |"
            )
    return lines


def _memory(results: JSON) -> list[str]:
    rows = results.get("memory", [])
    if not rows:
        return []
    lines = [
        "",
        "## 5. Memory of the loaded engine",
        "",
        "A fresh process: RSS with the model loaded (and warmed), then after `load_index` + `Answerer`, then after 3 "
        "questions; per chunk = difference / chunks.",
        "",
        "| chunks | articles | model only MiB | index loaded MiB | KB/chunk loaded | KB/chunk after asks "
        "| peak while loading MiB | on disk KB/chunk |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in rows:
        lines.append(
            f"| {_n(m['chunks'])} | {_n(m['articles'])} | {m['rss_model'] / 2**20:.0f} | "
            f"{m['rss_loaded'] / 2**20:.0f} | "
            f"{m['bytes_per_chunk_loaded'] / KB:.2f} | {m['bytes_per_chunk_after_asks'] / KB:.2f} | "
            f"{m['peak_while_loading'] / 2**20:.0f} | {m['disk_bytes_per_chunk'] / KB:.2f} |"
        )
    sizes = ", ".join(f"{name} {size / rows[-1]['chunks']:.0f} B" for name, size in rows[-1]["disk_files"].items())
    lines += ["", f"On disk per chunk at {_n(rows[-1]['chunks'])} chunks: {sizes}."]
    return lines


def _scaling(results: JSON) -> list[str]:
    rows = results.get("scaling", {}).get("rows", [])
    if not rows:
        return []
    sizes = sorted({row["mb"] for row in rows})
    lines = [
        "",
        "## Build time against input size (one article per build)",
        "",
        "A full build of one article of each size, with a stand-in for the model (random vectors, so that "
        "8 MB of tiny sentences, two million of them, can be built here; the model's own cost per sentence "
        "is constant, see section 1). Seconds per MB: flat across sizes means linear.",
        "",
        "| input | " + " | ".join(f"{mb} MB" for mb in sizes) + " | largest / smallest, per MB |",
        "|---|" + "---|" * len(sizes) + "---|",
    ]
    for shape in dict.fromkeys(row["shape"] for row in rows):
        by_size = {row["mb"]: row for row in rows if row["shape"] == shape}
        cells = [f"{by_size[mb]['seconds']:.1f} s ({by_size[mb]['seconds_per_mb']:.2f} s/MB)" for mb in sizes]
        ratio = by_size[sizes[-1]]["seconds_per_mb"] / by_size[sizes[0]]["seconds_per_mb"]
        lines.append(f"| {shape} | " + " | ".join(cells) + f" | {ratio:.2f} |")
    largest = [row for row in rows if row["mb"] == sizes[-1]]
    lines += [
        "",
        f"Stages at {sizes[-1]} MB, seconds (read and clean / chunk and split sentences / stand-in embedding / "
        "save: FAISS, BM25, aliases, files, checksums): "
        + "; ".join(
            f"{row['shape']} {row['read_clean']:.1f} / {row['chunk']:.1f} / {row['embed_stub']:.1f} / {row['save']:.1f}"
            for row in largest
        )
        + ".",
    ]
    return lines


def _verify(results: JSON) -> list[str]:
    rows = results.get("verify", [])
    if not rows:
        return []
    lines = [
        "",
        "## Checksums at load",
        "",
        "`load_index` checks every file's size and SHA-256 against the manifest (the default), against "
        "`load_index(checksums=False)`, which checks sizes only; best of two, alternating, files in the page cache.",
        "",
        "| chunks | index on disk | load with checksums s | load, sizes only s | checksums alone s | cost |",
        "|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: r["size"]):
        extra = row["load_checksums"] / row["load_sizes"] - 1
        lines.append(
            f"| {_n(row['chunks'])} | {row['bytes'] / 1e9:.2f} GB | {row['load_checksums']:.2f} | "
            f"{row['load_sizes']:.2f} | {row['checksums_alone']:.2f} | +{extra:.0%} |"
        )
    return lines


def _bot(results: JSON) -> list[str]:
    runs = results.get("bot", [])
    if not runs:
        return []
    lines = [
        "",
        "## 6. The bot (real `python -m bot` against tests/fakediscord.py, heartbeat every 1 s)",
        "",
        "Latency: interaction dispatched → follow-up received by the fake; each round sends one `/ask` from each of "
        "the askers at once (cooldown 0), and waits for every answer.",
        "",
        "| index | ready s | asks | /ask p50 ms | p95 ms | max ms | answers/s "
        "| heartbeat gap max s idle / under questions |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        ask = run["ask"]
        idle, busy = run["heartbeats_idle"], run["heartbeats_questions"]
        kind = "synthetic" if run["synthetic"] else "real"
        lines.append(
            f"| {_n(run['chunks'])} chunks ({kind}) | {run['ready_seconds']:.1f} | "
            f"{ask['n']} ({run['askers']} at once) | "
            f"{ask['p50']:.0f} | {ask['p95']:.0f} | {ask['max']:.0f} | {run['ask_throughput_per_s']:.1f} | "
            f"{idle.get('gap_max_s', float('nan')):.2f} / {busy.get('gap_max_s', float('nan')):.2f} "
            f"({busy.get('late_over_1_5s', 0)} late of {busy['beats']}) |"
        )
    for run in runs:
        reindex = run.get("reindex")
        if reindex:
            beats = reindex["heartbeats"]
            lines += [
                "",
                f"`/reindex` with {reindex['changed_articles']} changed articles on the real index: "
                f"{reindex['seconds']:.1f} s to the final message; heartbeat gaps during it: max "
                f"{beats.get('gap_max_s', float('nan')):.2f} s, mean {beats.get('gap_mean_s', float('nan')):.2f} s, "
                f"{beats.get('late_over_1_5s', 0)} over 1.5 s of {beats['beats']} beats. Bot's message: "
                f"“{reindex['message']}”",
            ]
    return lines


def plot(results: JSON, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results.get("latency", [])
    figure, axes = plt.subplots(figsize=(7, 4.5))
    if rows:
        sizes = [row["chunks"] for row in rows]
        for who, colour in (("engine", "tab:red"), ("reference", "tab:blue")):
            label = "Answerer.ask" if who == "engine" else "reference: embed + exact FAISS"
            axes.plot(sizes, [r[who]["p50"] for r in rows], "o-", color=colour, label=f"{label} p50")
            axes.plot(sizes, [r[who]["p99"] for r in rows], "s--", color=colour, label=f"{label} p99")
        axes.axhline(30, color="grey", linewidth=0.8, linestyle=":")
        axes.axhline(100, color="grey", linewidth=0.8, linestyle=":")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.legend(fontsize=8)
    axes.set_xlabel("chunks in the index")
    axes.set_ylabel("latency per question, ms")
    axes.set_title(f"StoryBot question latency (warm, {results['plan']['mode']} mode)")
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: JSON, out: Path) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    (out / "results.md").write_text(markdown(results), encoding="utf-8")
    plot(results, out / "latency.png")
