"""Settings -> the running pieces: the engine and process-wide logging. The one composition root
that both front ends (`storybot` and the bot) use, so they answer alike."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from config.settings import Settings

if TYPE_CHECKING:
    from index import Engine


def configure_logging(level: str) -> None:
    """Logging for the whole process, set once; chatty libraries only speak up for warnings."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for name in ("sentence_transformers", "transformers", "huggingface_hub", "faiss", "filelock", "urllib3"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def make_engine(settings: Settings) -> Engine:
    """The engine the settings describe (loads the embedding model)."""
    from index import AnswerOptions, ChunkingParams, Engine, SentenceTransformerEmbedder

    return Engine(
        articles_dir=settings.articles_dir,
        index_dir=settings.index_dir,
        embedder=SentenceTransformerEmbedder(settings.embedding_model),
        chunking=ChunkingParams(settings.chunk_size, settings.chunk_overlap),
        options=AnswerOptions(
            snippets=settings.snippets,
            snippet_chars=settings.snippet_chars,
            abstain_below=settings.abstain_threshold,
        ),
    )
