"""Leave-one-source-out: how much harm from a source it never saw an input-classifier recipe
catches (#41's yardstick).

For each harmful source in turn, a linear head on frozen encoder features learns from every
other source; its threshold flags 2% of the everyday prompts' validation split; recall is read
on every row of the left-out source, and the everyday test split's flag rate beside it. The
encoder stays frozen so that a fold trains in seconds on 2 cores. A tuned encoder (the shipped
first stage's) learned from the public sources, so only its folds on sources it never saw
(`harmful_more`'s, `jailbreakbench`) are honest; the base encoders' folds all are.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from refusalkit.classifiers.training import (
    SKIP_FAMILIES_IN_INPUT_TRAINING,
    threshold_at_fpr,
    worst_windows,
)
from refusalkit.config import load_settings
from refusalkit.datasets import public as public_data
from refusalkit.datasets.checkout import data_dir as checkout_data_dir
from refusalkit.errors import ConfigError
from refusalkit.evals.vector_cache import cached_vectors
from refusalkit.evals.windows import WindowedVectors
from refusalkit.jsonl import read_rows

EVERYDAY = "benign"  # the public everyday prompts: they set the threshold, never left out
# the whole train split, as the shipped heads see it (only their encoder's tuning samples
# 5,000); sampled to 5,000, the heads learned "not English" from MultiJail and mean recall
# fell 0.689 → 0.627 (experiments/loso_levers.py)
EVERYDAY_TRAIN_CAP: int | None = None
EVERYDAY_FLAGGED = 0.02  # #41's budget
SEED = 0
# sources no shipped model tuned on (the tuned encoder's folds on them are honest)
NEVER_TUNED_ON = public_data.HEAD_ONLY_SOURCES | {"MaliciousInstruct"}


@dataclass(frozen=True)
class LosoRow:
    text: str
    harmful: bool
    source: str
    split: str  # train / val / test: only the everyday prompts' split is read
    family: str = "none"  # the synthetic rows' jailbreak family
    # a row an experiment added (a wrapped payload, a distilled translation): trained on, left
    # out with its source and its family, never judged, so folds compare with and without it
    added: bool = False
    lang: str = "en"


def loso_rows(
    shared_dir: Path | None = None, everyday_cap: int | None = EVERYDAY_TRAIN_CAP
) -> list[LosoRow]:
    """Input rows of every source the project may train on: the public rows in `data/public`,
    GPTFuzz's questions, the constitution's synthetic rows and, where `shared_dir` has them,
    `train/harmful_more.jsonl` (StrongREJECT, HarmBench, MaliciousInstruct, each its own source)
    and `train/refusal_voices.jsonl`'s requests (JailbreakBench harmful, Alpaca benign). Everyday
    prompts of the train split are sampled to EVERYDAY_TRAIN_CAP."""
    rows = [
        LosoRow(
            r["text"], r["label"] == "harmful", r["source"], r["split"], lang=r.get("lang") or "en"
        )
        for r in public_data.input_rows()
    ]
    questions = {r["prompt"] for r in public_data.source_rows("gptfuzz")}
    rows += [LosoRow(q, True, "gptfuzz", "train") for q in sorted(questions)]
    for split in ("train", "val", "test"):
        for r in read_rows(checkout_data_dir() / "synth-general" / f"{split}.jsonl"):
            if r["stage"] == "input":
                harmful = r["label"] == "harmful"
                family = r["transform_family"]
                rows.append(LosoRow(r["text"], harmful, "synthetic", split, family))
    if shared_dir is not None:
        more = shared_dir / "train" / "harmful_more.jsonl"
        if more.is_file():
            rows += [LosoRow(r["prompt"], True, r["source"], "train") for r in read_rows(more)]
        voices = shared_dir / "train" / "refusal_voices.jsonl"
        if voices.is_file():
            seen: set[str] = set()
            for r in read_rows(voices):
                if r["prompt"] not in seen:
                    seen.add(r["prompt"])
                    harmful = r["request"] == "harmful"
                    source = "jailbreakbench" if harmful else "alpaca"
                    rows.append(LosoRow(r["prompt"], harmful, source, "train"))
    # one row per text: the first source keeps it
    unique: dict[str, LosoRow] = {}
    for row in rows:
        unique.setdefault(row.text, row)
    rows = list(unique.values())
    if everyday_cap is None:
        return rows
    everyday_train = [r for r in rows if r.source == EVERYDAY and r.split == "train"]
    kept = set(random.Random(SEED).sample(everyday_train, min(everyday_cap, len(everyday_train))))
    return [r for r in rows if r in kept or not (r.source == EVERYDAY and r.split == "train")]


Encode = Callable[[Sequence[str]], np.ndarray]


def encoder(name: str, classifiers_dir: Path | None = None) -> Encode:
    """Frozen features by name: `minilm` (all-MiniLM-L6-v2 as embedded, int8, first 128
    tokens, as the first stage reads a window), `tuned` (the same with the LoRA of the
    classifiers in `classifiers_dir` merged in; default: the shipped ones) or `mpnet`
    (all-mpnet-base-v2, float32, sentence-transformers: ~7 texts/s on 2 cores) or `e5`
    (multilingual-e5-small, 4-bit, first 512 characters: ~50 texts/s on 2 cores)."""
    if name in ("minilm", "tuned"):
        from refusalkit.classifiers.first_stage.encoder import TextEncoder

        return TextEncoder(adapter=adapter_of(classifiers_dir) if name == "tuned" else None).embed
    if name == "mpnet":
        from sentence_transformers import SentenceTransformer

        from refusalkit.weights import second_encoder_path

        model = SentenceTransformer(
            str(second_encoder_path(load_settings().cache_dir)), local_files_only=True
        )
        model.max_seq_length = 128

        def embed(texts: Sequence[str]) -> np.ndarray:
            return model.encode(list(texts), batch_size=32, normalize_embeddings=True)

        return embed
    if name == "e5":
        from refusalkit.classifiers.first_stage.multilingual import MultilingualEncoder

        return MultilingualEncoder().embed
    raise ConfigError(f"unknown encoder {name!r}; choose one of {', '.join(ENCODERS)}")


# a name joined with "+" is the views side by side (each embedded and cached on its own)
ENCODERS = ("tuned", "minilm", "mpnet", "e5", "tuned+e5", "minilm+e5")
E5_CACHE = "e5-small-q4-512c"


def adapter_of(classifiers_dir: Path | None) -> Path:
    from refusalkit.classifiers import DEFAULT_DIR
    from refusalkit.classifiers.artifacts import Artifacts

    adapter = Artifacts.load(classifiers_dir or DEFAULT_DIR).adapter_path
    if adapter is None:
        raise ConfigError(
            f"the classifiers in {classifiers_dir or DEFAULT_DIR} have no tuned encoder; "
            "use --encoder minilm"
        )
    return adapter


def cache_name(name: str, classifiers_dir: Path | None = None) -> str:
    """A tuned encoder's vectors are kept under its adapter's digest."""
    if name == "e5":
        return E5_CACHE
    if name != "tuned":
        return name
    from refusalkit.weights import adapter_digest

    return f"tuned-{adapter_digest(adapter_of(classifiers_dir))}"


EMBED_BATCH = 256


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def features(
    name: str,
    texts: Sequence[str],
    classifiers_dir: Path | None = None,
    cache: Path | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Each text's vector, embedded once per encoder and kept in `cache` (resumes: the
    vectors are saved every vector_cache.SAVE_EVERY batches and at the end). `a+b` stacks
    a's and b's."""
    if "+" in name:
        parts = [features(n, texts, classifiers_dir, cache, progress) for n in name.split("+")]
        return np.hstack(parts)
    store = (
        cache or load_settings().cache_dir / "loso"
    ) / f"{cache_name(name, classifiers_dir)}.npz"
    keys = [_key(t) for t in texts]
    known = cached_vectors(
        store,
        list(zip(keys, texts, strict=True)),
        lambda: encoder(name, classifiers_dir),
        EMBED_BATCH,
        f"embed ({name})",
        progress,
    )
    return np.stack([known[k] for k in keys])


# one vector a row, or every window of a row (evals/windows.py: a row scores its worst window)
Vectors = np.ndarray | WindowedVectors


@dataclass(frozen=True)
class FoldHead:
    """A fold's linear head and its threshold."""

    head: Any  # sklearn LogisticRegression
    threshold: float

    def scores(self, vectors: Vectors) -> np.ndarray:
        if isinstance(vectors, WindowedVectors):
            return vectors.row_max(self.head.predict_proba(vectors.vectors)[:, 1])
        return self.head.predict_proba(vectors)[:, 1]

    def flags(self, vectors: Vectors) -> np.ndarray:
        return self.scores(vectors) >= self.threshold


HEADS = ("logistic", "mlp")


def _classifier(kind: str, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    from refusalkit.classifiers.first_stage.heads import mlp_classifier

    if kind == "logistic":
        return LogisticRegression(C=c, max_iter=3000)
    if kind == "mlp":
        # early stopping on a tenth of the fold's own rows, never the left-out source
        return mlp_classifier(SEED)
    raise ConfigError(f"unknown head {kind!r}; choose one of {', '.join(HEADS)}")


def fold_head(
    rows: list[LosoRow],
    vectors: Vectors,
    left_out: Callable[[LosoRow], bool],
    flagged: float = EVERYDAY_FLAGGED,
    c: float = 1.0,
    weights: np.ndarray | None = None,
    head: str = "logistic",
    worst_window: bool = False,
) -> FoldHead:
    """A head (`logistic` or `mlp`, one hidden layer) trained on every row but the everyday
    prompts' val/test splits and the rows `left_out`, the two classes balanced by their row
    counts and each row also counting `weights[i]` (1 by default), thresholded to flag
    `flagged` of the everyday validation split. With windowed `vectors` each window is a
    training row with its row's label, as the shipped input head learns, and padded rows
    are left out as it leaves them out; with `worst_window`, fitted again on each harmful
    row's worst window only (`refusalkit train --input-windows worst`)."""
    windowed = isinstance(vectors, WindowedVectors)
    val = [i for i, r in enumerate(rows) if r.source == EVERYDAY and r.split == "val"]
    train = np.array(
        [
            i
            for i, r in enumerate(rows)
            if not left_out(r)
            and not (r.source == EVERYDAY and r.split != "train")
            and not (windowed and r.family in SKIP_FAMILIES_IN_INPUT_TRAINING)
        ]
    )
    labels = np.array([r.harmful for r in rows])
    row_weights = np.ones(len(rows)) if weights is None else weights
    if isinstance(vectors, WindowedVectors):
        picked = vectors[train]
        x, of_row = picked.vectors, train[picked.owner]
    else:
        x, of_row = vectors[train], train
    # sklearn's class_weight="balanced" (by training rows), times the rows' own weights
    harmful = labels[of_row]
    share = np.where(harmful, harmful.mean(), 1 - harmful.mean())
    balanced = row_weights[of_row] / (2 * share)
    # a row weighted 0 teaches nothing, and an MLP minibatch of only such rows cannot be scored
    kept = balanced > 0
    model = _classifier(head, c)
    model.fit(x[kept], harmful[kept], balanced[kept])
    if worst_window:
        kept &= worst_windows(model.predict_proba(x)[:, 1], of_row, harmful)
        share = np.where(harmful, harmful[kept].mean(), 1 - harmful[kept].mean())
        balanced = row_weights[of_row] / (2 * share)
        model = _classifier(head, c)
        model.fit(x[kept], harmful[kept], balanced[kept])
    fold = FoldHead(model, 0.0)
    return FoldHead(model, threshold_at_fpr(fold.scores(vectors[val]), flagged))


LeftOut = Callable[[LosoRow], bool]
FoldFit = Callable[[LeftOut], FoldHead]  # a fold's head, given the rows it must not see


def left_out_by(source: str | None = None, family: str | None = None) -> Callable[[LosoRow], bool]:
    """The rows of a source, or of a family, as `fold_head`'s `left_out`."""
    return lambda row: row.source == source or row.family == family


def _rate(hits: np.ndarray) -> float | None:
    return round(float(hits.mean()), 4) if len(hits) else None


def leave_one_source_out(
    rows: list[LosoRow],
    vectors: Vectors,
    sources: Sequence[str] | None = None,
    flagged: float = EVERYDAY_FLAGGED,
    c: float = 1.0,
    fit: FoldFit | None = None,
) -> dict[str, Any]:
    """For each harmful source (or those named): recall on it, with the head trained on the
    rest and its threshold flagging `flagged` of the everyday validation split (`fit` trains a
    fold's head another way, e.g. with distilled rows)."""
    fit = fit or (lambda left_out: fold_head(rows, vectors, left_out, flagged, c))
    test = np.array([i for i, r in enumerate(rows) if r.source == EVERYDAY and r.split == "test"])
    other_languages = np.array([i for i in test if rows[i].lang != "en"], dtype=int)
    folds: dict[str, dict[str, Any]] = {}
    for source in sources or sorted({r.source for r in rows if r.harmful and not r.added}):
        head = fit(left_out_by(source=source))
        held = np.array(
            [i for i, r in enumerate(rows) if r.source == source and r.harmful and not r.added],
            dtype=int,
        )
        folds[source] = {
            "rows": len(held),
            "recall": _rate(head.flags(vectors[held])),
            "everyday_test_flagged": _rate(head.flags(vectors[test])),
            "everyday_test_other_languages_flagged": _rate(head.flags(vectors[other_languages]))
            if len(other_languages)
            else None,
        }
    recalls = [f["recall"] for f in folds.values()]
    return {
        "everyday_flagged_budget": flagged,
        "everyday_test_other_languages": len(other_languages),
        "folds": folds,
        "mean_recall": round(float(np.mean(recalls)), 4),
        "worst": min(folds, key=lambda s: folds[s]["recall"]),
        "worst_recall": min(recalls),
    }


def leave_one_family_out(
    rows: list[LosoRow],
    vectors: Vectors,
    flagged: float = EVERYDAY_FLAGGED,
    c: float = 1.0,
    fit: FoldFit | None = None,
) -> dict[str, Any]:
    """For each jailbreak family of the synthetic rows (harmful and benign payloads alike are
    wrapped in them): with every row of the family left out, recall on its harmful rows and
    the share of its benign rows flagged. Frozen features read the raw text: the shipped first
    stage's decoded views (base64, rot13, …) are not in them."""
    fit = fit or (lambda left_out: fold_head(rows, vectors, left_out, flagged, c))
    families = sorted({r.family for r in rows if r.family != "none" and not r.added})
    folds: dict[str, dict[str, Any]] = {}
    for family in families:
        head = fit(left_out_by(family=family))
        judged = [(i, r) for i, r in enumerate(rows) if r.family == family and not r.added]
        harmful = np.array([i for i, r in judged if r.harmful], dtype=int)
        benign = np.array([i for i, r in judged if not r.harmful], dtype=int)
        folds[family] = {
            "harmful": len(harmful),
            "recall": _rate(head.flags(vectors[harmful])),
            "benign": len(benign),
            "benign_flagged": _rate(head.flags(vectors[benign])),
        }
    recalls = [f["recall"] for f in folds.values()]
    return {
        "folds": folds,
        "mean_recall": round(float(np.mean(recalls)), 4) if recalls else None,
        "worst": min(folds, key=lambda s: folds[s]["recall"]) if folds else None,
        "worst_benign_flagged": max((f["benign_flagged"] for f in folds.values()), default=None),
    }
