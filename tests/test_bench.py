"""The benchmark's smallest pieces run end to end (tiny model, a few hundred chunks) and write
results that parse. Timings are the benchmark's business, not the tests'."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import Plan, run

TINY = Plan(
    mode="smoke",
    build_chunks=150,
    sizes=(100, 400),
    passes=1,
    questions=3,
    profile_size=400,
    ann_sizes=(400,),
    hnsw_m=(8,),
    hnsw_m_largest=(8,),
    ef_search=(16,),
    ivf_nprobe=(1,),
    memory_sizes=(400,),
    bot_size=0,
    bot_rounds=0,
    bot_askers=0,
    reindex_changed=0,
)


def test_the_smallest_benchmark_writes_a_table_json_and_a_plot(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    run(
        TINY,
        out,
        ["build", "latency", "threads", "profile", "ann", "memory"],
        str(tiny_model_dir),
        work_parent=tmp_path,
    )

    results = json.loads((out / "results.json").read_text())
    assert results["build"]["chunks"] >= 150
    assert results["rebuild"]["unchanged_embedded"] == 0
    assert [row["size"] for row in results["latency"]] == [100, 400]
    assert results["latency"][1]["chunks"] >= 400
    assert results["latency"][1]["synthetic"]
    assert results["latency"][0]["engine"]["n"] == 3
    assert results["profile"]["stages_ms"]
    assert len(results["threads"]["runs"]) == 4
    assert {row["kind"] for row in results["ann"][0]["rows"]} == {"flat", "hnsw", "ivf"}
    assert results["memory"][0]["chunks"] >= 400
    assert results["machine"]["cores"]

    table = (out / "results.md").read_text()
    assert "## Targets" in table
    assert "## 3. Question latency" in table
    assert "## 5. Memory" in table
    assert (out / "latency.png").read_bytes().startswith(b"\x89PNG")
    assert not list(tmp_path.glob("storybot-bench-*"))  # the work folder is cleaned up
