"""Training and writing the text models of :mod:`bot.core.textmodel`: a linear one (the router's
intent model) and a network with one hidden layer (the safety classifier)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.blas import one_thread
from bot.core.embedding import StaticEmbedder
from bot.core.textmodel import HIDDEN_FILES, classifier_text, hashed_features
from bot.training import TEXT_MODEL_PACKAGES, package_versions

EMBEDDING_SCALE = 1.0


def matrix(texts: Sequence[str], embedder: StaticEmbedder, buckets: int) -> Any:
    """The feature matrix of some texts (sparse: hashed columns, then the embedding)."""
    from scipy import sparse

    rows, columns, values = [], [], []
    dense = np.zeros((len(texts), embedder.dimensions), dtype=np.float64)
    for row, raw in enumerate(texts):
        text = classifier_text(raw)
        for column, value in sorted(hashed_features(text, buckets).items()):
            rows.append(row)
            columns.append(column)
            values.append(value)
        dense[row] = EMBEDDING_SCALE * embedder.embed(text)
    hashed = sparse.csr_matrix((values, (rows, columns)), shape=(len(texts), buckets))
    return sparse.hstack([hashed, sparse.csr_matrix(dense)], format="csr")


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    embedder: StaticEmbedder,
    buckets: int,
    *,
    regularisation: float,
    balanced: bool,
) -> Any:
    """A multinomial logistic regression over the texts' features (deterministic: lbfgs, on
    one BLAS thread, see :func:`bot.blas.one_thread`)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=regularisation,
        max_iter=5000,
        class_weight="balanced" if balanced else None,
        tol=1e-6,
    )
    with one_thread():
        model.fit(matrix(texts, embedder, buckets), np.asarray(labels))
    return model


def fit_network(
    texts: Sequence[str],
    labels: Sequence[str],
    embedder: StaticEmbedder,
    buckets: int,
    *,
    hidden: int,
    penalty: float,
    epochs: int,
) -> Any:
    """A network with one hidden layer of rectified units over the texts' features, softmax
    over the labels, each label weighed alike (as ``balanced`` in :func:`fit`). Adam, batches
    of 64 (or all the texts, when fewer), learning rate 1e-3, a fixed seed and a fixed number
    of ``epochs`` (stopping there on purpose, so sklearn's warning that it has not converged is
    not news); ``penalty`` is the L2 penalty on the weights."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.utils.class_weight import compute_sample_weight

    model = MLPClassifier(
        hidden_layer_sizes=(hidden,),
        alpha=penalty,
        max_iter=epochs,
        batch_size=min(64, len(texts)),
        learning_rate_init=1e-3,
        random_state=0,
    )
    targets = np.asarray(labels)
    with warnings.catch_warnings(), one_thread():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        model.fit(
            matrix(texts, embedder, buckets),
            targets,
            sample_weight=compute_sample_weight("balanced", targets),
        )
    return model


def probabilities(
    model: Any, texts: Sequence[str], embedder: StaticEmbedder, buckets: int, labels: Sequence[str]
) -> npt.NDArray[np.float64]:
    """Rows of probabilities, columns in ``labels`` order."""
    found = np.asarray(model.predict_proba(matrix(texts, embedder, buckets)))
    order = [list(model.classes_).index(label) for label in labels]
    return found[:, order]


def export(
    model: Any,
    output: Path,
    labels: Sequence[str],
    buckets: int,
    dimensions: int,
    meta: dict[str, object],
) -> None:
    """Write the model's files (``FILES`` of :mod:`bot.core.textmodel`, and ``HIDDEN_FILES`` for
    a network), label columns in ``labels`` order."""
    missing = sorted(set(labels) - {str(c) for c in model.classes_})
    if missing:
        raise ValueError(f"no training examples for the labels {', '.join(missing)}")
    order = [list(model.classes_).index(label) for label in labels]
    network = hasattr(model, "coefs_")
    output.mkdir(parents=True, exist_ok=True)
    if network:
        weights = np.asarray(model.coefs_[0], dtype=np.float64)  # features x hidden units
        bias = np.asarray(model.intercepts_[0], dtype=np.float64)
        second = np.asarray(model.coefs_[1], dtype=np.float64)
        second_bias = np.asarray(model.intercepts_[1], dtype=np.float64)
        if second.shape[1] == 1:  # two classes: one logistic output; as a softmax over two
            second = np.hstack([-second / 2, second / 2])
            second_bias = np.concatenate([-second_bias / 2, second_bias / 2])
        np.save(output / HIDDEN_FILES[0], second[:, order].astype(np.float32), allow_pickle=False)
        np.save(output / HIDDEN_FILES[1], second_bias[order].astype(np.float32), allow_pickle=False)
    else:
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(model.classes_) == 2:  # sklearn keeps one row for two classes: expand it
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        weights = coef[order].T  # features x labels
        bias = intercept[order]
    hashed: npt.NDArray[np.float16] = weights[:buckets].astype(np.float16)
    np.save(output / "hashed.npy", hashed, allow_pickle=False)
    np.save(
        output / "dense.npy",
        weights[buckets : buckets + dimensions].astype(np.float32),
        allow_pickle=False,
    )
    np.save(output / "bias.npy", bias.astype(np.float32), allow_pickle=False)
    content = {
        "labels": list(labels),
        "buckets": buckets,
        "embedding_scale": EMBEDDING_SCALE,
        **({"hidden": int(weights.shape[1])} if network else {}),
        **meta,
        "packages": package_versions(TEXT_MODEL_PACKAGES),
    }
    (output / "meta.json").write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
