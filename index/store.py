"""Vector search with FAISS: the one module that imports it.

Invariant: vectors are L2-normalised float32, so inner product is cosine similarity; row i of the
FAISS index is chunk i of the index's chunk table. FAISS reports missing and damaged files as a
bare RuntimeError; they are translated into CorruptIndexError here.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from index.errors import CorruptIndexError

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]

# Exact search scans every vector: ~24 ms for 100k chunks on 2 cores (bench/results). Above this
# size the index is an inverted file (IVF): sqrt(n) lists, NPROBE of them searched per query, which
# the benchmark measured at recall@10 ≥ 0.99 against exact search.
APPROXIMATE_ABOVE = 50_000
NPROBE = 32
_TRAINING_PER_LIST = 64
_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES)


class FaissStore:
    """An inner-product index over chunk vectors: exact up to APPROXIMATE_ABOVE rows, IVF beyond."""

    def __init__(self, index: faiss.Index, quantizer: faiss.Index | None = None) -> None:
        self._index = index
        self._quantizer = quantizer  # an IVF index built here does not own its quantizer: keep it alive
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = NPROBE
            index.make_direct_map()  # `vectors` reads rows back by number

    @classmethod
    def from_vectors(
        cls, vectors: Vectors, dimension: int, *, approximate_above: int = APPROXIMATE_ABOVE
    ) -> FaissStore:
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(data) <= approximate_above:
            flat = faiss.IndexFlatIP(dimension)
            flat.add(data)
            return cls(flat)
        lists = int(np.sqrt(len(data)))
        quantizer = faiss.IndexFlatIP(dimension)
        ivf = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(data), min(len(data), lists * _TRAINING_PER_LIST), replace=False)
        ivf.train(data[np.sort(sample)])
        ivf.add(data)
        log.info("IVF index: %d lists over %d vectors, %d searched per query", lists, len(data), NPROBE)
        return cls(ivf, quantizer)

    @property
    def approximate(self) -> bool:
        return isinstance(self._index, faiss.IndexIVF)

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
            # FAISS names the cause only in its message ("... (No space left on device)"): give it
            # back its errno, so callers tell a full disk from a read-only one.
            message = str(exc).splitlines()[-1]
            code = next((c for c in _WRITE_ERRNOS if f"({os.strerror(c)})" in message), None)
            raise OSError(code, f"cannot write vector file {path}: {message}") from exc

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
