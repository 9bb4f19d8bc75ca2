"""Errors the story engine raises; every message says what happened and what to do.

StoryError
├── QuestionError        the question is empty or too long
├── ArticleError         one article file cannot be read (builds skip it with a warning)
├── FetchError           a page for /add cannot be fetched (index.fetch)
├── IntakeError          an article cannot be added or removed (index.intake)
├── DuplicateArticleError  /add of an article already in the folder (index.intake)
├── ModelError           the embedding model cannot be loaded
├── BuildLockedError     another build is writing the index folder
├── IndexWriteError      the index folder cannot be written (disk full, read-only)
├── EvalFileError        a question set for `evaluate` cannot be read
└── IndexStateError      the index on disk cannot serve
    ├── IndexNotFoundError   there is no index yet
    ├── IndexMismatchError   built with another model or chunking
    └── CorruptIndexError    files missing, truncated or inconsistent
"""

from __future__ import annotations


class StoryError(Exception):
    """Base of every error the engine raises on purpose."""


class QuestionError(StoryError, ValueError):
    """The question cannot be asked as written."""


class ArticleError(StoryError):
    """An article file cannot be read."""


class ModelError(StoryError):
    """The embedding model cannot be loaded."""


class IndexStateError(StoryError):
    """The index on disk cannot serve answers."""


class IndexNotFoundError(IndexStateError):
    """There is no index in the index folder."""


class IndexMismatchError(IndexStateError):
    """The index was built with settings other than the current ones."""


class CorruptIndexError(IndexStateError):
    """The index files are missing, truncated or inconsistent."""


class BuildLockedError(StoryError):
    """Another build is writing the index folder."""


class IndexWriteError(StoryError):
    """A build cannot write the index folder (no disk space, no permission); the old index serves."""


class EvalFileError(StoryError):
    """A question set cannot be read; the message names the file and line."""
