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


def make_engine(settings: Settings, *, reader: bool = True) -> Engine:
    """The engine the settings describe: loads the embedding model, and the reader unless `reader` is
    False (building an index needs no reader)."""
    from index import AnswerOptions, ChunkingParams, CrossEncoderReader, Engine, SentenceTransformerEmbedder
    from index.reader import NO_READER

    loaded = None
    if reader and settings.reader_model.lower() != NO_READER:
        loaded = CrossEncoderReader(settings.reader_model, abstain_below=settings.reader_threshold)
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
        reader=loaded,
    )
