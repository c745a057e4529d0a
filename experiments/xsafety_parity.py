"""#41 (2026-12-07): the multilingual bar's first half, not measured until now: French, German,
Spanish and Japanese harmful requests caught within 0.05 of their English sources. The requests:
52 of XSafety's crime and unsafe-instruction prompts hand-checked as clearly harmful
(src/refusalkit/evals/data/xsafety_harmful_sample.json; `bench loso` now reports the same),
each in English and its translations. The heads: every source trained on (no fold left out),
thresholded at 2% of everyday validation prompts; with `--distil`, distilled on XSafety's
translations with both of those topics left out whole, so that no translation of a judged
prompt (nor its topic) is trained on. Everyday test prompts flagged beside, English and other
languages apart. Run from the root: `xsafety_parity.py VIEW [--distil] [--neutral]`
(`--neutral`: the base view's language directions projected out, loso_language_neutral.py's
`means`)."""

import json
import sys
from pathlib import Path

import numpy as np
from loso_language_neutral import language_texts, offsets, projection

from refusalkit.evals import (
    LosoRow,
    distilled_fit,
    features,
    fold_head,
    loso_rows,
    parity_requests,
)
from refusalkit.jsonl import read_rows

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
HELD_TOPICS = {"Crimes_And_Illegal_Activities", "Unsafe_Instruction_Topic"}
LANGUAGES = ("en", "fr", "de", "es", "ja", "zh", "ru", "ar", "hi", "bn")


def main() -> None:
    view, distil, neutral = sys.argv[1], "--distil" in sys.argv, "--neutral" in sys.argv
    rows = loso_rows(SHARED)
    judged = parity_requests(SHARED)
    xsafety = read_rows(SHARED / "train" / "xsafety.jsonl")
    english = {(r["topic"], r["row"]): r["prompt"] for r in xsafety if r["lang"] == "en"}
    pairs = [
        (english[r["topic"], r["row"]], r["prompt"])
        for r in xsafety
        if r["lang"] != "en" and r["topic"] not in HELD_TOPICS and (r["topic"], r["row"]) in english
    ]
    parts = view.split("+")
    groups = language_texts({r.text for r in rows if r.split == "train"}) if neutral else {}

    def vectors_of(texts: list[str]) -> np.ndarray:
        blocks = []
        for i, part in enumerate(parts):
            block = features(part, texts, progress=False)
            if neutral and i == 0:
                block = block @ projection(offsets(part, groups))
            blocks.append(block)
        return np.hstack(blocks)

    vectors = vectors_of([r.text for r in rows])

    def nothing(row: LosoRow) -> bool:
        return False

    if distil:
        fit = distilled_fit(
            rows,
            vectors,
            [t for _, t in pairs],
            vectors_of([s for s, _ in pairs]),
            vectors_of([t for _, t in pairs]),
        )
        head = fit(nothing)
    else:
        head = fold_head(rows, vectors, nothing)
    test = [(i, r) for i, r in enumerate(rows) if r.source == "benign" and r.split == "test"]
    everyday = {
        "en": float(head.flags(vectors[[i for i, r in test if r.lang == "en"]]).mean()),
        "other": float(head.flags(vectors[[i for i, r in test if r.lang != "en"]]).mean()),
    }
    recall = {
        lang: round(float(head.flags(vectors_of(judged[lang])).mean()), 4)
        for lang in LANGUAGES
        if lang in judged
    }
    gaps = {lang: round(recall["en"] - r, 4) for lang, r in recall.items() if lang != "en"}
    print(
        json.dumps(
            {
                "view": view,
                "distil": distil,
                "neutral": neutral,
                "distilled_pairs": len(pairs) if distil else 0,
                "requests": len(judged["en"]),
                "recall": recall,
                "gap_to_english": gaps,
                "bar_languages_within_0.05": all(gaps[g] <= 0.05 for g in ("fr", "de", "es", "ja")),
                "everyday_test_flagged": {k: round(v, 4) for k, v in everyday.items()},
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
