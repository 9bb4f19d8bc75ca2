"""The reader: a cross-encoder that reads a question and a passage together and gives the probability
that the passage answers the question. The one module that loads sentence-transformers' CrossEncoder.

Retrieval (index/answering.py) finds candidate passages by topic; the reader decides which of them
answer, in what order they are shown, and whether any does (below `abstain_below` for the best one,
the answer is "not in the articles").

The default reader is the one StoryBot trains itself (`make reader`, training/): a folder in the
sentence-transformers CrossEncoder layout, plus `storybot_reader.json` with the abstention threshold
calibrated on the training data's validation stories. Any other CrossEncoder name or folder works too.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from index.errors import ModelError

log = logging.getLogger(__name__)

Probabilities = npt.NDArray[np.float32]

DEFAULT_READER = "storybot-reader"
NO_READER = "none"
# The reader StoryBot trains and ships (training/README.md), inside this package.
PACKAGED_READER = Path(__file__).resolve().parent / "models" / "reader"
CALIBRATION_FILE = "storybot_reader.json"
# Without a calibration file (a public cross-encoder): a probability below a half is a "no".
UNCALIBRATED_THRESHOLD = 0.5
MAX_TOKENS = 192  # question + passage; a 320-character snippet and a long question fit well inside


class Reader(Protocol):
    """Anything that scores (question, passage) pairs with the probability that the passage answers."""

    @property
    def name(self) -> str: ...

    @property
    def abstain_below(self) -> float: ...

    def read(self, question: str, passages: Sequence[str]) -> Probabilities: ...


@dataclass(frozen=True)
class Calibration:
    """What `storybot_reader.json` says about a reader folder."""

    abstain_below: float
    details: dict[str, Any]


def read_calibration(folder: Path) -> Calibration | None:
    path = folder / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        threshold = float(data["abstain_below"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"the reader's {path} is unreadable ({type(exc).__name__}); retrain it with `make reader`"
        ) from exc
    if not 0.0 <= threshold <= 1.0:
        raise ModelError(f"the reader's {path} gives abstain_below {threshold}; it must be between 0 and 1")
    return Calibration(threshold, data)


def resolve_reader(name_or_path: str) -> str:
    """The path or hub name to hand to sentence-transformers for a configured reader."""
    if name_or_path.lower() == DEFAULT_READER:
        return str(PACKAGED_READER)
    return name_or_path


class CrossEncoderReader:
    """A sentence-transformers CrossEncoder with one output (a logit, read through a sigmoid)."""

    def __init__(
        self,
        name_or_path: str = DEFAULT_READER,
        *,
        abstain_below: float | None = None,
        batch_size: int = 32,
        device: str | None = None,
        int8: bool = True,
    ) -> None:
        self._name = name_or_path
        self._batch_size = batch_size
        source = resolve_reader(name_or_path)
        local = Path(source)
        if name_or_path.lower() == DEFAULT_READER and not (local / "config.json").is_file():
            raise ModelError(
                f"the bundled reader is missing from {local}; reinstall StoryBot, rebuild it with `make reader`, "
                f"or set STORYBOT_READER_MODEL=none"
            )
        calibration = read_calibration(local) if local.is_dir() else None
        if local.exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model never needs the hub
        try:
            from sentence_transformers import CrossEncoder
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            import torch

            # StoryBot's reader is stored in half precision; computed in float32 (fast on CPUs, safe everywhere).
            self._model = CrossEncoder(
                source, device=device, max_length=MAX_TOKENS, model_kwargs={"dtype": torch.float32}
            )
        except Exception as exc:  # the library raises OSError, ValueError, safetensors and HTTP errors, ...
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            raise ModelError(
                f"cannot load reader model {name_or_path!r} ({reason}); set STORYBOT_READER_MODEL to a "
                f"CrossEncoder folder or name, to {DEFAULT_READER} (bundled), or to none"
            ) from exc
        if self._model.num_labels != 1:
            raise ModelError(
                f"reader model {name_or_path!r} has {self._model.num_labels} outputs; a reader needs one "
                f"(a relevance score), as MS MARCO-style cross-encoders have"
            )
        if int8 and self._model.device.type == "cpu":
            _quantize(self._model)
        if abstain_below is not None:
            self._threshold = abstain_below
        elif calibration is not None:
            self._threshold = calibration.abstain_below
        else:
            self._threshold = UNCALIBRATED_THRESHOLD
        log.debug("loaded reader %s from %s (abstain below %.3f)", name_or_path, source, self._threshold)

    @property
    def name(self) -> str:
        return self._name

    @property
    def abstain_below(self) -> float:
        return self._threshold

    def read(self, question: str, passages: Sequence[str]) -> Probabilities:
        """The probability that each passage answers the question, in order."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        scores = self._model.predict(
            [(question, passage) for passage in passages],
            batch_size=self._batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(scores, dtype=np.float32).reshape(-1)


def _quantize(model: Any) -> None:
    """Linear layers in int8 (one scale per output channel, activations scaled on the fly): about
    three times faster on a CPU and as accurate (measured on the validation stories' passages, one
    thread, 16 passages: float32 top-1 0.699 in 217 ms, per-channel int8 0.694 in 73 ms; one scale
    per tensor lost more, 0.676 -> 0.646). ONNX Runtime's int8 ran at the same speed, so it is not
    worth a dependency. torch marks this API for removal in favour of torchao; where it is gone,
    the reader runs in float32."""
    import warnings

    import torch

    try:
        with warnings.catch_warnings():
            # Both the API and quantized tensors say they are deprecated; they work in the torch we pin.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            from torch.ao.quantization import per_channel_dynamic_qconfig

            torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                model, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True
            )
    except (AttributeError, ImportError, RuntimeError, NotImplementedError) as exc:
        log.warning("reader runs in float32: int8 quantization is not available here (%s)", exc)
