"""The real model behind /predict: fitted on the bundled iris CSV, deterministic shifts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mock_server.model import (
    DATA_PATH,
    FEATURES,
    IrisModel,
    default_model,
    load_dataset,
    rows_to_matrix,
)

ROOT = Path(__file__).resolve().parents[2]


def test_bundled_dataset_has_150_rows_50_per_species() -> None:
    x, labels = load_dataset()
    assert x.shape == (150, 4)
    assert Counter(labels) == {"setosa": 50, "versicolor": 50, "virginica": 50}


def test_scenarios_ship_the_same_dataset_as_the_server() -> None:
    assert (ROOT / "scenarios" / "data" / "iris.csv").read_bytes() == DATA_PATH.read_bytes()


def test_model_predicts_its_own_data_with_accuracy_above_ninety_percent() -> None:
    x, labels = load_dataset()
    predicted, _ = default_model().predict(x)
    accuracy = np.mean(np.array(predicted) == np.array(labels))
    assert accuracy > 0.9


def test_probabilities_are_distributions_that_agree_with_the_labels() -> None:
    x, _ = load_dataset()
    model = default_model()
    predicted, probs = model.predict(x)
    p = np.array(probs)
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert [model.classes[i] for i in p.argmax(axis=1)] == predicted


def test_fitting_twice_gives_the_same_model() -> None:
    x, labels = load_dataset()
    a, b = IrisModel.fit(x, labels), IrisModel.fit(x, labels)
    assert np.array_equal(a.weights, b.weights)


def _random_rows(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x, _ = load_dataset()
    return x[rng.integers(0, len(x), n)] + rng.normal(0, 0.3, (n, 4)).round(2)


@pytest.mark.parametrize("shift", [0.05, 0.2, 0.5])
def test_a_shifted_version_differs_on_the_configured_fraction_of_inputs(shift: float) -> None:
    rows = _random_rows(4000)
    model = default_model()
    true, _ = model.predict(rows)
    shifted, _ = model.predict(rows, shift=shift)
    differ = np.mean(np.array(true) != np.array(shifted))
    assert differ == pytest.approx(shift, abs=0.02)


def test_the_shift_depends_on_the_row_not_on_its_position_or_batch() -> None:
    rows = _random_rows(200)
    model = default_model()
    whole, _ = model.predict(rows, shift=0.3)
    one_by_one = [model.predict(rows[i : i + 1], shift=0.3)[0][0] for i in range(len(rows))]
    backwards, _ = model.predict(rows[::-1], shift=0.3)
    assert whole == one_by_one == backwards[::-1]


def test_a_shifted_answer_keeps_its_probabilities_consistent() -> None:
    rows = _random_rows(500)
    model = default_model()
    labels, probs = model.predict(rows, shift=0.5)
    assert [model.classes[i] for i in np.array(probs).argmax(axis=1)] == labels


def test_rows_may_be_lists_or_objects_with_extra_keys() -> None:
    as_dict = {f: v for f, v in zip(FEATURES, [5.1, 3.5, 1.4, 0.2], strict=False)} | {"species": "setosa"}
    x = rows_to_matrix([[5.1, 3.5, 1.4, 0.2], as_dict, [6, 3, 5, 2]])
    assert x.shape == (3, 4)
    assert np.array_equal(x[0], x[1])


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([], "non-empty list"),
        ("rows", "non-empty list"),
        ([[1, 2, 3]], r"instances\[0\] has 3 values"),
        ([[1, 2, 3, 4], {"sepal_length": 1}], r"instances\[1\] lacks 'sepal_width'"),
        ([[1, 2, "x", 4]], "non-numeric"),
        ([[1, 2, True, 4]], "non-numeric"),
        ([[1, 2, float("nan"), 4]], "non-numeric"),
        ([7], r"instances\[0\] must be"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_bad_instances_are_refused_naming_the_row(instances: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rows_to_matrix(instances)
