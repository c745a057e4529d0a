"""Small trainable heads over frozen encoder features; inference is plain numpy.

The streaming head follows the constitutional-classifiers recipe: every window of a response
is scored, the streamed score is the running maximum, and training anneals from a per-window
loss to a loss on the max-so-far, so a harmful response only needs to fire somewhere and a
harmless one must stay low everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class LinearHead:
    weight: np.ndarray  # (classes, features)
    bias: np.ndarray  # (classes,)
    classes: list[str]

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        logits = features @ self.weight.T + self.bias
        logits -= logits.max(axis=-1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=-1, keepdims=True)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            weight=self.weight.astype(np.float32),
            bias=self.bias.astype(np.float32),
            classes=np.array(self.classes),
        )

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["weight"], data["bias"], [str(c) for c in data["classes"]])


@dataclass
class MlpHead:
    """One ReLU hidden layer under a softmax: #41's leave-one-source-out mean rose with it
    (tuned+e5 0.708 → 0.759) where a linear head had run out of room."""

    hidden_weight: np.ndarray  # (hidden, features)
    hidden_bias: np.ndarray  # (hidden,)
    weight: np.ndarray  # (classes, hidden)
    bias: np.ndarray  # (classes,)
    classes: list[str]

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        hidden = np.maximum(features @ self.hidden_weight.T + self.hidden_bias, 0.0)
        return LinearHead(self.weight, self.bias, self.classes).probabilities(hidden)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            hidden_weight=self.hidden_weight.astype(np.float32),
            hidden_bias=self.hidden_bias.astype(np.float32),
            weight=self.weight.astype(np.float32),
            bias=self.bias.astype(np.float32),
            classes=np.array(self.classes),
        )


Head = LinearHead | MlpHead


def load_head(path: Path) -> Head:
    """A linear or an MLP head, by what the file holds."""
    with np.load(path, allow_pickle=False) as data:
        classes = [str(c) for c in data["classes"]]
        if "hidden_weight" in data:
            return MlpHead(
                data["hidden_weight"], data["hidden_bias"], data["weight"], data["bias"], classes
            )
        return LinearHead(data["weight"], data["bias"], classes)


def balanced_weights(labels: np.ndarray, classes: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=classes).astype(float)
    counts[counts == 0] = 1
    return (len(labels) / (classes * counts)).astype(np.float32)


def _torch_seed(seed: int):
    import torch

    torch.manual_seed(seed)
    return torch


def fit_softmax(
    features: np.ndarray,
    labels: np.ndarray,
    classes: list[str],
    seed: int = 0,
    epochs: int = 60,
    weight_decay: float = 1e-4,
    class_weight: np.ndarray | None = None,
) -> LinearHead:
    """Multinomial logistic regression (full-batch AdamW): one window, one label."""
    torch = _torch_seed(seed)
    x = torch.tensor(features, dtype=torch.float32)
    y = torch.tensor(labels, dtype=torch.long)
    layer = torch.nn.Linear(x.shape[1], len(classes))
    optimiser = torch.optim.AdamW(layer.parameters(), lr=0.05, weight_decay=weight_decay)
    weights = torch.tensor(class_weight, dtype=torch.float32) if class_weight is not None else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    for _ in range(epochs * 5):
        optimiser.zero_grad()
        loss = loss_fn(layer(x), y)
        loss.backward()
        optimiser.step()
    return LinearHead(
        layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy(), classes
    )


MLP_HIDDEN = 256
# an absent class's logit: never chosen, and exp() of it is exactly 0
ABSENT_LOGIT = -1e4


def mlp_classifier(seed: int = 0) -> Any:
    """The one MLP recipe, for the shipped head and `bench loso --head mlp` alike: 256 ReLU
    units, Adam, early stopping on a tenth of the rows it is given."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        (MLP_HIDDEN,), alpha=1e-3, early_stopping=True, random_state=seed, max_iter=200
    )


def fit_mlp(
    features: np.ndarray,
    labels: np.ndarray,
    classes: list[str],
    seed: int = 0,
    class_weight: np.ndarray | None = None,
    row_weight: np.ndarray | None = None,
    projection: np.ndarray | None = None,
) -> MlpHead:
    """`mlp_classifier`, the recipe `bench loso --head mlp` measured; each row counts
    class_weight[label] × row_weight (rows weighted 0 are dropped). `projection` (features ×
    features, symmetric), when given, is applied to the features first and folded into the
    hidden layer."""
    weights = np.ones(len(labels)) if row_weight is None else np.asarray(row_weight, float)
    if class_weight is not None:
        weights = weights * class_weight[labels]
    kept = weights > 0
    x = features if projection is None else features @ projection
    model = mlp_classifier(seed)
    model.fit(x[kept], labels[kept], weights[kept])
    hidden_weight = model.coefs_[0].T
    if projection is not None:
        hidden_weight = hidden_weight @ projection.T
    weight = np.zeros((len(classes), MLP_HIDDEN), dtype=np.float32)
    bias = np.full(len(classes), ABSENT_LOGIT, dtype=np.float32)
    seen = [int(c) for c in model.classes_]
    if len(seen) == 2:  # sklearn fits one logistic unit for two classes: as softmax, [0, z]
        weight[seen[1]], bias[seen[1]] = model.coefs_[1][:, 0], model.intercepts_[1][0]
        bias[seen[0]] = 0.0
    else:
        weight[seen], bias[seen] = model.coefs_[1].T, model.intercepts_[1]
    return MlpHead(hidden_weight, model.intercepts_[0], weight, bias, classes)


def fit_streaming(
    sequences: Sequence[np.ndarray],
    labels: np.ndarray,
    classes: list[str],
    harmless_index: int,
    seed: int = 0,
    epochs: int = 40,
    weight_decay: float = 1e-4,
) -> LinearHead:
    """A head scored on every window of a response, trained towards max-so-far semantics.

    `sequences[i]` holds the features of response i's windows in order; `labels[i]` is its
    class. Loss = (1 - a) * per-window cross-entropy + a * BCE(max over windows of P(harmful)),
    with a annealed from 0 to 1 over training.
    """
    torch = _torch_seed(seed)
    lengths = [len(s) for s in sequences]
    x = torch.tensor(np.concatenate(sequences), dtype=torch.float32)
    owner = torch.tensor(np.repeat(np.arange(len(sequences)), lengths), dtype=torch.long)
    y_row = torch.tensor(labels, dtype=torch.long)
    y_window = y_row[owner]
    harmful_row = (y_row != harmless_index).float()
    layer = torch.nn.Linear(x.shape[1], len(classes))
    optimiser = torch.optim.AdamW(layer.parameters(), lr=0.05, weight_decay=weight_decay)
    steps = epochs * 5
    for step in range(steps):
        anneal = step / max(1, steps - 1)
        optimiser.zero_grad()
        logits = layer(x)
        per_window = torch.nn.functional.cross_entropy(logits, y_window)
        p_harmful = 1 - torch.softmax(logits, dim=-1)[:, harmless_index]
        running_max = torch.zeros(len(sequences)).scatter_reduce(
            0, owner, p_harmful, reduce="amax", include_self=False
        )
        max_loss = torch.nn.functional.binary_cross_entropy(
            running_max.clamp(1e-6, 1 - 1e-6), harmful_row
        )
        loss = (1 - anneal) * per_window + anneal * max_loss
        loss.backward()
        optimiser.step()
    return LinearHead(
        layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy(), classes
    )
