"""Vector search with FAISS: the one module that imports it.

Invariant: vectors are L2-normalised float32, so inner product is cosine similarity; row i of the
FAISS index is chunk i of the index's chunk table. FAISS reports missing and damaged files as a
bare RuntimeError; they are translated into CorruptIndexError here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from index.errors import CorruptIndexError

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]


class FaissStore:
    """An exact inner-product index over chunk vectors."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def from_vectors(cls, vectors: Vectors, dimension: int) -> FaissStore:
        index = faiss.IndexFlatIP(dimension)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> FaissStore:
        if not path.is_file():
            raise CorruptIndexError(f"vector file {path} is missing")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise CorruptIndexError(f"vector file {path} cannot be read by FAISS (damaged or truncated)") from exc
        return cls(index)

    def save(self, path: Path) -> None:
        try:
            faiss.write_index(self._index, str(path))
        except RuntimeError as exc:
            raise OSError(f"cannot write vector file {path}: {str(exc).splitlines()[-1]}") from exc

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def search(self, queries: Vectors, k: int) -> tuple[npt.NDArray[np.float32], Ids]:
        """Scores and row ids of the `k` nearest rows for each query, best first; -1 pads."""
        k = max(1, min(k, self.size))
        if self.size == 0:
            rows = len(queries)
            return np.zeros((rows, 0), dtype=np.float32), np.zeros((rows, 0), dtype=np.int64)
        scores, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

    def vectors(self, start: int, count: int) -> Vectors:
        """Rows start..start+count, as stored (used to carry unchanged articles into a rebuild)."""
        if count == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_n(start, count), dtype=np.float32)
