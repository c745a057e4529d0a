"""#38 experiment (stop 36): refusal_voices' answers (Llama-2, Gemma, Qwen) in the audit heads'
training. Shipped encoder; level heads refit as `train_audit` fits them, with and without the
voices' rows. Judged without XSTest: leave-one-model-out over seven voices, and the public
validation answers (heads fitted on composed train + public train). Run: `audit_voices.py`."""

import json
from pathlib import Path

import numpy as np

from refusalkit.audit import (
    AuditTrainOptions,
    RefusalClassifier,
    binary_accuracy,
    composed_examples,
    fit_level_head,
    head_rows,
    leave_one_model_out,
    public_examples,
    refusal_levels,
)
from refusalkit.datasets import answer_rows, voice_rows

SEED = 0
classifier = RefusalClassifier()
train = composed_examples(AuditTrainOptions(out=Path("/tmp/unused")))[0]
public = public_examples(answer_rows() + voice_rows())
everything = [e for part in public.values() for e in part]
for with_voices in (False, True):
    lomo = leave_one_model_out(classifier, train, everything, SEED, train_on_voices=with_voices)
    print("voices in training" if with_voices else "without voices", "LOMO:")
    print(
        json.dumps(
            {
                m: (v["binary_accuracy"], v["string_match_binary_accuracy"])
                for m, v in lomo["by_model"].items()
            }
        )
    )

rows = head_rows(classifier.encoder, train, public["train"] + public["val"], SEED)
n_fit = 2 * len(train) + len(public["train"])
index = np.arange(len(rows.examples))
is_voice = np.array([e.source == "refusal_voices" for e in rows.examples])
for with_voices in (False, True):
    fitted = (index < n_fit) & (with_voices | ~is_voice)
    head = fit_level_head(rows.subset(list(fitted)), SEED)
    for name, held in (
        ("earlier sources", (index >= n_fit) & ~is_voice),
        ("refusal_voices", (index >= n_fit) & is_voice),
    ):
        part = rows.subset(list(held))
        _, levels = refusal_levels(
            head.probabilities(part.level_x), head.classes, classifier.threshold
        )
        truth = [e.level for e in part.examples]
        print(
            "with" if with_voices else "without",
            "voices, validation",
            name,
            len(truth),
            binary_accuracy(levels, truth),
        )
