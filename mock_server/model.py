"""The small real model behind /predict: multinomial logistic regression on iris.

Fitted once at start-up (a few milliseconds of numpy gradient descent on the
bundled 150-row CSV), then cached for the process. The app turns a request's
``instances`` into a float matrix with ``rows_to_matrix`` and calls
``predict``; a candidate version (``shift > 0``) flips the label of a
fraction of inputs chosen by a hash of the input row, so the same row always
gets the same answer and two versions can be compared for consistency.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import math
import struct
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import numpy as np

FEATURES: tuple[str, ...] = ("sepal_length", "sepal_width", "petal_length", "petal_width")
LABEL = "species"
DATA_PATH = Path(__file__).with_name("data") / "iris.csv"
_HASH_SCALE = float(2**64)


def load_dataset(path: Path = DATA_PATH) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Feature matrix (n × 4) and string labels from an iris-shaped CSV."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    x = np.array([[float(r[f]) for f in FEATURES] for r in rows], dtype=float)
    return x, [r[LABEL] for r in rows]


@dataclass(frozen=True)
class IrisModel:
    """Standardise, then softmax(x·W + b). Immutable once fitted."""

    classes: tuple[str, ...]
    mean: np.ndarray[Any, Any]
    scale: np.ndarray[Any, Any]
    weights: np.ndarray[Any, Any]  # (4, n_classes)
    bias: np.ndarray[Any, Any]  # (n_classes,)

    @classmethod
    def fit(
        cls, x: np.ndarray[Any, Any], labels: list[str], *, steps: int = 500, lr: float = 0.5, l2: float = 1e-3
    ) -> IrisModel:
        """Full-batch gradient descent on the cross-entropy; deterministic (zero init)."""
        classes = tuple(sorted(set(labels)))
        y = np.array([classes.index(lbl) for lbl in labels])
        onehot = np.eye(len(classes))[y]
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        z = (x - mean) / scale
        w = np.zeros((x.shape[1], len(classes)))
        b = np.zeros(len(classes))
        n = len(z)
        for _ in range(steps):
            p = _softmax(z @ w + b)
            grad = p - onehot
            w -= lr * (z.T @ grad / n + l2 * w)
            b -= lr * grad.mean(axis=0)
        return cls(classes, mean, scale, w, b)

    def probabilities(self, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return _softmax(((x - self.mean) / self.scale) @ self.weights + self.bias)

    def predict(self, x: np.ndarray[Any, Any], shift: float = 0.0) -> tuple[list[str], list[list[float]]]:
        """Labels and class probabilities (rounded to 6 digits) for each row of ``x``.

        With ``shift`` > 0 the rows whose hash falls below ``shift`` get a
        different label, with the two classes' probabilities swapped so the
        answer stays self-consistent.
        """
        probs = self.probabilities(x)
        best = probs.argmax(axis=1)
        if shift > 0:
            k = len(self.classes)
            for i, row in enumerate(x):
                h = row_hash(row)
                if h < shift:
                    old = int(best[i])
                    new = (old + 1 + int(h * 1e6) % (k - 1)) % k
                    probs[i, [old, new]] = probs[i, [new, old]]
                    best[i] = new
        return [self.classes[i] for i in best], np.round(probs, 6).tolist()


def row_hash(row: np.ndarray[Any, Any]) -> float:
    """A uniform number in [0, 1) fixed by the row's values (not by its position)."""
    digest = hashlib.blake2b(struct.pack(f"{len(row)}d", *row), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _HASH_SCALE


@functools.cache
def default_model() -> IrisModel:
    """The model every app in this process shares (fitted on first use)."""
    x, labels = load_dataset()
    return IrisModel.fit(x, labels)


def rows_to_matrix(instances: object) -> np.ndarray[Any, Any]:
    """Validate ``instances`` (rows as [f1..f4] or {feature: value}) into an n × 4 matrix.

    Dict rows may carry extra keys (a dataset's label column, an id); they are
    ignored. Raises ValueError naming the first bad row.
    """
    if not isinstance(instances, list) or not instances:
        raise ValueError("'instances' must be a non-empty list of rows")
    out: list[list[float]] = []
    for i, row in enumerate(instances):
        if isinstance(row, dict):
            try:
                values = [row[f] for f in FEATURES]
            except KeyError as exc:
                raise ValueError(f"instances[{i}] lacks {exc.args[0]!r}") from None
        elif isinstance(row, list):
            if len(row) != len(FEATURES):
                raise ValueError(f"instances[{i}] has {len(row)} values, expected {len(FEATURES)}")
            values = row
        else:
            raise ValueError(f"instances[{i}] must be a list of 4 numbers or an object")  # noqa: TRY004
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"instances[{i}] has a non-numeric value {v!r}")
        out.append(values)
    return np.array(out, dtype=float)


def _softmax(logits: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))
