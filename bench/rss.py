"""`python -m bench.rss INDEX_DIR MODEL [QUESTION...]`: resident memory of a fresh process, with the
model loaded and then with the index loaded too; one JSON line on stdout."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path


def _status(field: str) -> int:
    """A /proc/self/status field in bytes (VmRSS: resident now; VmHWM: the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def main(argv: list[str]) -> int:
    folder, model, questions = Path(argv[0]), argv[1], argv[2:]
    from index import Answerer, SentenceTransformerEmbedder, load_index

    embedder = SentenceTransformerEmbedder(model)
    embedder.encode(["a question to warm the model up", "and a second sentence"])
    gc.collect()
    rss_model = _status("VmRSS")
    stored = load_index(folder)
    answerer = Answerer(stored, embedder)
    gc.collect()
    rss_loaded, peak_loading = _status("VmRSS"), _status("VmHWM")
    for question in questions:
        answerer.ask(question)
    gc.collect()
    rss_after = _status("VmRSS")
    generation = folder / json.loads((folder / "manifest.json").read_text())["generation"]
    disk = sum(path.stat().st_size for path in generation.iterdir())
    files = {path.name: path.stat().st_size for path in generation.iterdir()}
    result = {
        "chunks": len(stored.chunks),
        "articles": len(stored.entries),
        "rss_model": rss_model,
        "rss_loaded": rss_loaded,
        "rss_after_asks": rss_after,
        "peak_while_loading": peak_loading,
        "disk_bytes": disk,
        "disk_files": files,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
