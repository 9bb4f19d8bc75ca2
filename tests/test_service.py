"""The bot's hold on the engine: it starts on any index state, and rebuilds swap in whole."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.service import RebuildRunning, StoryService
from index import ChunkingParams, Engine, SentenceTransformerEmbedder


def _engine(articles: Path, index: Path, model: SentenceTransformerEmbedder, size: int = 320) -> Engine:
    return Engine(articles, index, model, ChunkingParams(size, 100))


def test_a_bot_starts_on_an_index_built_with_other_settings_by_rebuilding_it(
    tiny: SentenceTransformerEmbedder, articles_dir: Path, tmp_path: Path
) -> None:
    _engine(articles_dir, tmp_path / "index", tiny, size=400).build()

    service, report = StoryService.open(_engine(articles_dir, tmp_path / "index", tiny))

    assert report is not None
    assert report.full
    assert service.index.spec.chunking.size == 320
    service.close()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("vectors.faiss", b"not faiss"),
        ("chunks.npy", b""),
        ("lexical.npz", b"PK\x03\x04 not a zip"),
        ("units.npy", b"\x93NUMPY"),
    ],
)
def test_a_bot_starts_on_a_damaged_index_by_rebuilding_it(
    tiny: SentenceTransformerEmbedder, articles_dir: Path, tmp_path: Path, name: str, content: bytes
) -> None:
    engine = _engine(articles_dir, tmp_path / "index", tiny)
    engine.build()
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    (tmp_path / "index" / manifest["generation"] / name).write_bytes(content)

    service, report = StoryService.open(engine)

    assert report is not None
    assert len(service.index.entries) == 3
    service.close()


async def test_two_rebuilds_at_once_run_one_and_refuse_the_other(
    tiny: SentenceTransformerEmbedder, articles_dir: Path, tmp_path: Path
) -> None:
    service, _ = StoryService.open(_engine(articles_dir, tmp_path / "index", tiny))
    (articles_dir / "new.md").write_text("---\ntitle: New\n---\n" + "A new paragraph about boats. " * 400)

    results = await asyncio.gather(service.rebuild(), service.rebuild(), return_exceptions=True)

    assert sum(isinstance(r, RebuildRunning) for r in results) == 1
    assert len(service.index.entries) == 4
    assert not service.rebuilding
    service.close()


async def test_a_failed_rebuild_leaves_the_old_index_answering(
    tiny: SentenceTransformerEmbedder, articles_dir: Path, tmp_path: Path
) -> None:
    service, _ = StoryService.open(_engine(articles_dir, tmp_path / "index", tiny))
    before = service.index
    articles_dir.rename(tmp_path / "elsewhere")

    with pytest.raises(Exception, match="does not exist"):
        await service.rebuild()

    assert service.index is before
    answer = await service.ask("who composed the song?")
    assert answer.question == "who composed the song?"
    service.close()


async def test_a_replica_serves_the_index_another_process_rebuilt(
    tiny: SentenceTransformerEmbedder, articles_dir: Path, tmp_path: Path
) -> None:
    rebuilder, _ = StoryService.open(_engine(articles_dir, tmp_path / "index", tiny))
    replica, _ = StoryService.open(_engine(articles_dir, tmp_path / "index", tiny))
    assert not await replica.reload_if_changed()
    (articles_dir / "new.md").write_text("---\ntitle: New\n---\nA new paragraph about boats.\n")

    await rebuilder.rebuild()

    assert await replica.reload_if_changed()
    assert len(replica.index.entries) == 4
    assert not await replica.reload_if_changed()
    rebuilder.close()
    replica.close()
