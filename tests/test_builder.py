"""Building and updating the index on disk: incremental, atomic, and recoverable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index import (
    BuildProgress,
    ChunkingParams,
    CorruptIndexError,
    Engine,
    IndexMismatchError,
    IndexNotFoundError,
    SentenceTransformerEmbedder,
    load_index,
)
from index.storage import FORMAT_VERSION


@pytest.fixture
def engine(articles_dir: Path, tmp_path: Path, tiny: SentenceTransformerEmbedder) -> Engine:
    return Engine(articles_dir, tmp_path / "index", tiny)


def _answer_texts(engine: Engine, question: str) -> list[str]:
    return [c.snippet for c in engine.answerer().ask(question).citations]


def test_a_first_build_indexes_every_article_and_writes_a_manifest(engine: Engine) -> None:
    report = engine.build()

    assert report.full
    assert report.written
    assert len(report.added) == 3
    assert not report.changed
    assert not report.removed
    assert report.embedded_chunks == report.chunks > 0
    manifest = json.loads((engine.index_dir / "manifest.json").read_text())
    assert manifest["format"] == FORMAT_VERSION
    assert manifest["model"] == engine.embedder.name
    assert manifest["dimension"] == 32
    assert manifest["chunking"] == {"size": 320, "overlap": 100}
    assert {a["id"] for a in manifest["articles"]} == {p.name for p in engine.articles_dir.iterdir()}
    assert all(len(a["fingerprint"]) == 64 for a in manifest["articles"])
    assert manifest["built_at"]


def test_a_rebuild_with_nothing_changed_embeds_nothing_and_writes_nothing(engine: Engine) -> None:
    engine.build()
    generation = json.loads((engine.index_dir / "manifest.json").read_text())["generation"]

    report = engine.build()

    assert report.embedded_chunks == 0
    assert not report.written
    assert len(report.unchanged) == 3
    assert json.loads((engine.index_dir / "manifest.json").read_text())["generation"] == generation


def test_editing_one_article_re_embeds_only_that_article(engine: Engine) -> None:
    engine.build()
    before = load_index(engine.index_dir)
    edited = engine.articles_dir / "002_9d4e7a3b1bba4444.txt"
    edited.write_text(edited.read_text() + "\n\nA new closing paragraph was added to this piece by its editor.\n")

    report = engine.build()

    after = load_index(engine.index_dir)
    changed_entry = next(e for e in after.entries if e.article.id == edited.name)
    assert report.changed == [edited.name]
    assert sorted(report.unchanged) == sorted(p.name for p in engine.articles_dir.iterdir() if p != edited)
    assert report.embedded_chunks == changed_entry.chunk_count
    # The untouched articles carry their vectors over unchanged.
    for entry in before.entries:
        if entry.article.id != edited.name:
            new = next(e for e in after.entries if e.article.id == entry.article.id)
            np.testing.assert_array_equal(
                before.store.vectors(entry.first_chunk, entry.chunk_count),
                after.store.vectors(new.first_chunk, new.chunk_count),
            )
    assert "closing paragraph was added" in changed_entry.article.text


def test_a_removed_article_disappears_from_answers(engine: Engine) -> None:
    engine.build()
    removed = engine.articles_dir / "001_02271dd564ed3126.txt"
    assert any("Bunggeopang" in s for s in _answer_texts(engine, "What did he order for the staff?"))
    removed.unlink()

    report = engine.build()

    assert report.removed == [removed.name]
    assert removed.name not in {a.id for a in engine.stored().articles}
    for citation in engine.answerer().ask("What did he order for the staff?").citations:
        assert all(s.article_id != removed.name for s in citation.sources)


def test_a_metadata_only_edit_updates_citations_without_re_embedding(engine: Engine) -> None:
    engine.build()
    path = engine.articles_dir / "002_9d4e7a3b1bba4444.txt"
    path.write_text(path.read_text().replace("outlet:\n", "outlet: Example Daily\n", 1))

    report = engine.build()

    assert report.written
    assert report.embedded_chunks == 0
    article = next(a for a in engine.stored().articles if a.id == path.name)
    assert article.outlet == "Example Daily"


def test_full_rebuild_re_embeds_everything(engine: Engine) -> None:
    engine.build()
    report = engine.build(full=True)
    assert report.full
    assert report.embedded_chunks == report.chunks


def test_an_unreadable_file_is_skipped_and_the_build_goes_on(engine: Engine) -> None:
    (engine.articles_dir / "scan.pdf").write_bytes(b"%PDF-1.4 binary")
    (engine.articles_dir / "broken.json").write_text("{not json")

    report = engine.build()

    assert len(report.added) == 3
    reasons = {s.path: s.reason for s in report.skipped}
    assert "unknown file type .pdf" in reasons["scan.pdf"]
    assert "not valid JSON" in reasons["broken.json"]


def test_a_build_that_fails_half_way_leaves_the_old_index_serving(engine: Engine) -> None:
    engine.build()
    before = _answer_texts(engine, "Who composed the song?")
    (engine.articles_dir / "000_c48745c27fb190c3.txt").write_text("---\ntitle: Replaced\n---\nAll new text here.\n")

    def crash(event: BuildProgress) -> None:
        if event.stage == "embedding":
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        engine.build(progress=crash)

    assert _answer_texts(engine, "Who composed the song?") == before
    assert [p.name for p in engine.index_dir.glob("gen-*")] == [
        json.loads((engine.index_dir / "manifest.json").read_text())["generation"]
    ]


def test_answering_with_no_index_says_to_build_one(engine: Engine) -> None:
    with pytest.raises(IndexNotFoundError, match=r"no index at .*; run `storybot index build`"):
        engine.answerer()


INDEX_FILES = [
    "vectors.faiss",
    "chunks.npy",
    "units.npy",
    "unit_vectors.npy",
    "lexical.npz",
    "articles.jsonl",
    "aliases.json",
]


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "emptied":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # random bytes over the middle, the size unchanged: only a checksum can tell
        middle = len(data) // 2
        noise = np.random.default_rng(0).bytes(min(16, len(data) - middle))
        path.write_bytes(data[:middle] + noise + data[middle + len(noise) :])


@pytest.mark.parametrize("how", ["emptied", "truncated", "overwritten"])
@pytest.mark.parametrize("name", INDEX_FILES)
def test_a_damaged_index_file_is_one_message_and_a_plain_build_repairs_it(engine: Engine, name: str, how: str) -> None:
    engine.build()
    generation = json.loads((engine.index_dir / "manifest.json").read_text())["generation"]
    path = engine.index_dir / generation / name
    _damage(path, how)

    with pytest.raises(CorruptIndexError) as raised:
        engine.answerer()
    message = str(raised.value)
    assert message.startswith(f"the index at {engine.index_dir} is damaged ({name}: ")
    assert message.endswith("); run `storybot index build`")
    assert "\n" not in message
    report = engine.build()  # not --full

    assert report.full
    assert report.written
    assert engine.answerer().ask("Who composed the song?").citations
    assert load_index(engine.index_dir).generation != generation


def test_a_missing_index_file_is_one_message(engine: Engine) -> None:
    engine.build()
    generation = json.loads((engine.index_dir / "manifest.json").read_text())["generation"]
    (engine.index_dir / generation / "lexical.npz").unlink()

    with pytest.raises(CorruptIndexError, match=r"is damaged \(lexical\.npz: missing\); run `storybot index build`$"):
        engine.answerer()


def test_after_a_build_the_serving_generation_and_the_one_before_it_remain(engine: Engine) -> None:
    generations = []
    for edit in range(3):
        article = next(iter(sorted(engine.articles_dir.iterdir())))
        article.write_text(article.read_text() + f"\n\nA new paragraph, number {edit}, about the music video.\n")
        engine.build()
        generations.append(json.loads((engine.index_dir / "manifest.json").read_text())["generation"])
    (engine.index_dir / "gen-20000101T000000Z-dead00").mkdir()  # what a build killed half-way leaves

    engine.build(full=True)
    current = json.loads((engine.index_dir / "manifest.json").read_text())["generation"]

    assert sorted(p.name for p in engine.index_dir.glob("gen-*")) == sorted([generations[-1], current])


def test_a_garbled_manifest_is_reported_and_the_next_build_repairs_it(engine: Engine) -> None:
    engine.build()
    (engine.index_dir / "manifest.json").write_text("{ half a manif")

    with pytest.raises(CorruptIndexError, match=r"manifest .* is unreadable; run `storybot index build`$"):
        engine.answerer()
    assert engine.build().full
    engine.answerer()


def test_an_index_built_with_other_chunking_says_so_and_build_recovers(engine: Engine) -> None:
    engine.build()
    other = Engine(engine.articles_dir, engine.index_dir, engine.embedder, ChunkingParams(500, 50))

    with pytest.raises(IndexMismatchError, match=r"chunks 320/100 but the settings ask for .*chunks 500/50"):
        other.answerer()
    report = other.build()

    assert report.full
    assert report.embedded_chunks == report.chunks
    other.answerer()


def test_an_index_built_with_another_model_says_so(engine: Engine, minilm: SentenceTransformerEmbedder) -> None:
    engine.build()
    other = Engine(engine.articles_dir, engine.index_dir, minilm)

    with pytest.raises(IndexMismatchError, match=r"all-MiniLM-L6-v2 .*384-d"):
        other.answerer()
