"""BM25 keyword scoring over chunks, as a sparse matrix: finds exact names, numbers and rare words
that a small embedding model blurs."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import snowballstemmer

from index.errors import CorruptIndexError

_TOKEN = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "me",
        "my",
        "his",
        "her",
        "their",
        "our",
        "your",
        "him",
        "them",
        "us",
        "do",
        "does",
        "did",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "not",
        "no",
        "so",
        "than",
        "then",
        "there",
        "here",
        "also",
        "just",
        "about",
        "into",
        "over",
        "after",
        "before",
        "up",
        "out",
        "all",
        "any",
        "can",
        "could",
        "would",
        "should",
        "will",
        "may",
        "might",
        "have",
        "has",
        "had",
        "'s",
        "s",
        "t",
    ]
)
_STEMMER = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem: "composer", "composed" and "composing" meet at "compos"."""
    return str(_STEMMER.stemWord(word))


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words."""
    return [stem(w) for w in (t.lower() for t in _TOKEN.findall(text)) if w not in STOPWORDS]


class LexicalIndex:
    """BM25 weights of every (chunk, term) pair, ready to sum for a query."""

    K1 = 1.2
    B = 0.75

    def __init__(self, weights: sp.csc_matrix, vocabulary: dict[str, int]) -> None:
        self._weights = weights
        self._vocabulary = vocabulary
        frequency = np.diff(weights.indptr)  # chunks holding each term
        n = max(1, weights.shape[0])
        self._share = frequency / n
        self._idf = np.log(1.0 + (n - frequency + 0.5) / (frequency + 0.5))

    def share(self, term: str) -> float:
        """The fraction of chunks that hold `term` (0 for a term the corpus lacks)."""
        column = self._vocabulary.get(term)
        return 0.0 if column is None else float(self._share[column])

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency; a term the corpus lacks counts as rarest."""
        column = self._vocabulary.get(term)
        return float(self._idf[column]) if column is not None else float(np.log(1.0 + (self.size + 0.5) / 0.5))

    def overlap(self, query: Sequence[str], text: Sequence[str]) -> float:
        """The IDF-weighted share of the query's terms that `text` holds (0 to 1); arguments from `terms`."""
        wanted = set(query)
        total = sum(self.idf(t) for t in wanted)
        if total == 0:
            return 0.0
        return sum(self.idf(t) for t in wanted.intersection(text)) / total

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for row, text in enumerate(texts):
            for term in terms(text):
                rows.append(row)
                cols.append(vocabulary.setdefault(term, len(vocabulary)))
        shape = (len(texts), max(1, len(vocabulary)))
        counts = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)
        counts.sum_duplicates()
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        average = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        frequency = np.bincount(counts.indices, minlength=shape[1])
        idf = np.log(1.0 + (shape[0] - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
        coo = counts.tocoo()
        tf = coo.data
        norm = cls.K1 * (1 - cls.B + cls.B * lengths[coo.row] / average)
        data = idf[coo.col] * tf * (cls.K1 + 1) / (tf + norm)
        weights = sp.csc_matrix((data.astype(np.float32), (coo.row, coo.col)), shape=shape)
        return cls(weights, vocabulary)

    @property
    def size(self) -> int:
        return int(self._weights.shape[0])

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """BM25 score of every chunk for `query` (zeros where no term matches)."""
        columns = sorted({self._vocabulary[t] for t in terms(query) if t in self._vocabulary})
        if not columns:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._weights[:, columns].sum(axis=1), dtype=np.float32).ravel()

    def top(self, query: str, k: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Rows and scores of the best `k` chunks with any matching term, best first."""
        scores = self.scores(query)
        matching = np.flatnonzero(scores)
        if len(matching) > k:
            matching = matching[np.argpartition(-scores[matching], k - 1)[:k]]
        order = matching[np.argsort(-scores[matching], kind="stable")]
        return order.astype(np.int64), scores[order]

    def save(self, path: Path) -> None:
        vocabulary = np.array(sorted(self._vocabulary, key=self._vocabulary.__getitem__), dtype=np.str_)
        with path.open("wb") as handle:
            np.savez(
                handle,
                data=self._weights.data,
                indices=self._weights.indices,
                indptr=self._weights.indptr,
                shape=np.array(self._weights.shape),
                vocabulary=vocabulary,
            )

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        try:
            with np.load(path, allow_pickle=False) as stored:
                weights = sp.csc_matrix(
                    (stored["data"], stored["indices"], stored["indptr"]), shape=tuple(stored["shape"])
                )
                vocabulary = {str(term): i for i, term in enumerate(stored["vocabulary"])}
        except (OSError, ValueError, KeyError) as exc:
            raise CorruptIndexError(f"keyword index {path} is missing or damaged") from exc
        return cls(weights, vocabulary)
