"""The story engine: articles -> clean text -> chunks -> vectors (FAISS) -> cited answers.

A library: it knows nothing of Discord, environment variables or Settings; it takes plain arguments.
"""

from __future__ import annotations

from index.answering import (
    MAX_QUESTION_CHARS,
    Answer,
    Answerer,
    AnswerOptions,
    Citation,
    Source,
    validate_question,
)
from index.articles import Article, Skipped, load_corpus
from index.builder import BuildProgress, BuildReport, build_index
from index.chunking import ChunkingParams
from index.embedding import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder, use_threads
from index.engine import Engine
from index.errors import (
    ArticleError,
    BuildLockedError,
    CorruptIndexError,
    EvalFileError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexStateError,
    IndexWriteError,
    ModelError,
    QuestionError,
    StoryError,
)
from index.evaluation import EvalQuestion, EvalReport, evaluate, load_questions
from index.reader import CrossEncoderReader, Reader
from index.storage import IndexSpec, StoredIndex, load_index

__all__ = [
    "DEFAULT_MODEL",
    "MAX_QUESTION_CHARS",
    "Answer",
    "AnswerOptions",
    "Answerer",
    "Article",
    "ArticleError",
    "BuildLockedError",
    "BuildProgress",
    "BuildReport",
    "ChunkingParams",
    "Citation",
    "CorruptIndexError",
    "CrossEncoderReader",
    "Embedder",
    "Engine",
    "EvalFileError",
    "EvalQuestion",
    "EvalReport",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexSpec",
    "IndexStateError",
    "IndexWriteError",
    "ModelError",
    "QuestionError",
    "Reader",
    "SentenceTransformerEmbedder",
    "Skipped",
    "Source",
    "StoredIndex",
    "StoryError",
    "build_index",
    "evaluate",
    "load_corpus",
    "load_index",
    "load_questions",
    "use_threads",
    "validate_question",
]
