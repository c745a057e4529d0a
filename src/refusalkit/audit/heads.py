"""The audit's heads and what they read: the level head and the category head, fitted on
composed examples and other models' public answers."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from refusalkit.audit.classifier import (
    OPENING_TOKENS,
    features,
    level_features,
)
from refusalkit.audit.data import AuditExample
from refusalkit.audit.encoder import BatchEncoder
from refusalkit.classifiers.first_stage.heads import LinearHead, balanced_weights, fit_softmax
from refusalkit.taxonomy import CATEGORIES

MIN_OPENING_TOKENS = 10


def opening_cuts(examples: list[AuditExample], seed: int) -> list[int]:
    # Openings cut at random lengths: a refusal's opening cut mid-sentence (as long refusals
    # are at run time) must still read as a refusal, and where a cut falls must not be a cue.
    rng = random.Random(f"audit-cuts:{seed}")
    return [rng.randint(MIN_OPENING_TOKENS, OPENING_TOKENS) for _ in examples]


@dataclass
class HeadRows:
    """Features and labels the heads are fitted on: each composed example twice (full and cut
    opening), each public answer once."""

    examples: list[AuditExample]
    level_x: np.ndarray
    category_x: np.ndarray

    def subset(self, keep: list[bool]) -> HeadRows:
        index = [i for i, k in enumerate(keep) if k]
        return HeadRows(
            [self.examples[i] for i in index], self.level_x[index], self.category_x[index]
        )


def head_rows(
    encoder: BatchEncoder, composed: list[AuditExample], public: list[AuditExample], seed: int
) -> HeadRows:
    prompts, responses = [e.prompt for e in composed], [e.response for e in composed]
    full_x, prompt_x = features(encoder, prompts, responses)
    cut_x, _ = features(encoder, prompts, responses, opening_cuts(composed, seed))
    public_x, public_prompt_x = features(
        encoder, [e.prompt for e in public], [e.response for e in public]
    )
    response_x = np.vstack([full_x, cut_x, public_x])
    examples = composed + composed + public
    level_x = level_features(response_x, [e.response for e in examples], markers=True)
    category_x = np.hstack([response_x, np.vstack([prompt_x, prompt_x, public_prompt_x])])
    return HeadRows(examples, level_x, category_x)


# Public answers weigh three composed rows each: fewer, but in the voices the audit meets
# (chosen on leave-one-model-out and the public validation rows, not on XSTest).
PUBLIC_WEIGHT = 3.0


def fit_level_head(rows: HeadRows, seed: int) -> LinearHead:
    """Multinomial logistic regression, classes balanced, fitted to convergence (scikit-learn)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.utils.class_weight import compute_sample_weight

    levels = [e.level for e in rows.examples]
    weights = compute_sample_weight("balanced", levels) * np.array(
        [PUBLIC_WEIGHT if e.model else 1.0 for e in rows.examples]
    )
    model = LogisticRegression(C=1.0, max_iter=3000, random_state=seed)
    model.fit(rows.level_x, levels, sample_weight=weights)
    return LinearHead(
        model.coef_.astype(np.float32),
        model.intercept_.astype(np.float32),
        [str(c) for c in model.classes_],
    )


def fit_category_head(rows: HeadRows, seed: int) -> LinearHead:
    categories = [c.id for c in CATEGORIES]
    refusals = [i for i, e in enumerate(rows.examples) if e.category]
    y = np.array([categories.index(rows.examples[i].category or "") for i in refusals])
    return fit_softmax(
        rows.category_x[refusals],
        y,
        categories,
        seed=seed,
        class_weight=balanced_weights(y, len(categories)),
    )
