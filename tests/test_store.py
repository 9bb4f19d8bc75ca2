"""FAISS storage: exact search for small indexes, an inverted file above the threshold, both on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from index.errors import CorruptIndexError
from index.store import FaissStore


def _vectors(n: int, seed: int = 0) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((n // 20, 64)).astype(np.float32)
    data = np.repeat(topics, 20, axis=0) + 0.3 * rng.standard_normal((n, 64)).astype(np.float32)
    normalised: npt.NDArray[np.float32] = data / np.linalg.norm(data, axis=1, keepdims=True)
    return normalised


def test_a_small_index_is_exact_and_a_large_one_approximate_with_high_recall(tmp_path: Path) -> None:
    data = _vectors(4000)
    exact = FaissStore.from_vectors(data, 64)
    approximate = FaissStore.from_vectors(data, 64, approximate_above=1000)
    queries = data[::97] + 0.05 * np.random.default_rng(1).standard_normal((len(data[::97]), 64)).astype(np.float32)

    _, truth = exact.search(queries, 10)
    _, found = approximate.search(queries, 10)

    assert not exact.approximate
    assert approximate.approximate
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95


def test_an_approximate_index_survives_saving_and_gives_rows_back(tmp_path: Path) -> None:
    data = _vectors(3000)
    FaissStore.from_vectors(data, 64, approximate_above=1000).save(tmp_path / "v.faiss")

    loaded = FaissStore.load(tmp_path / "v.faiss")

    assert loaded.approximate
    assert loaded.size == 3000
    assert loaded.dimension == 64
    assert np.allclose(loaded.vectors(10, 3), data[10:13], atol=1e-6)
    _, rows = loaded.search(data[42:43], 1)
    assert rows[0, 0] == 42


def test_a_truncated_vector_file_is_reported_as_damaged(tmp_path: Path) -> None:
    FaissStore.from_vectors(_vectors(3000), 64, approximate_above=1000).save(tmp_path / "v.faiss")
    content = (tmp_path / "v.faiss").read_bytes()
    (tmp_path / "v.faiss").write_bytes(content[: len(content) // 2])

    with pytest.raises(CorruptIndexError, match="cannot be read"):
        FaissStore.load(tmp_path / "v.faiss")
