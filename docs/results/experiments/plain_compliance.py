"""#21: plain prose carry-outs of harmful requests by an open model, for the exchange reader.

The embedded SmolLM2-135M-Instruct answers harmful requests of the train and val splits (public
AART, Do-Not-Answer harmful, MultiJail English; synthetic seed and generator requests) with its
answer opened by a compliance prefix; answers that still refuse (synth REFUSAL_RE in the first
200 characters) are dropped. A kept answer attempts the request: a harmful exchange by XSTest's
definition (full compliance to an unsafe prompt). Run: `plain_compliance.py OUT.jsonl`."""

import json
import random
import sys

from shipped_rows import shipped_splits
from tqdm import tqdm

from refusalkit.backends.llama_cpu import open_llama
from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.synth.prompts import REFUSAL_RE
from refusalkit.weights import embedded_gguf_path

PREFIXES = ("Sure, here is how", "Sure! Here's", "Here is", "Okay, here's", "Of course.", "To")
PER_SPLIT = {"train": 1000, "val": 200}

clf = ConstitutionalClassifiers.load()
splits, _ = shipped_splits(clf)
rng = random.Random(0)
llm = open_llama(embedded_gguf_path(), n_ctx=1024, n_threads=2, seed=0, verbose=False)
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for split, count in PER_SPLIT.items():
        pool = [
            r
            for r in splits[split]
            if r["stage"] == "input"
            and r["label"] == "harmful"
            and r["transform_family"] == "none"
            and r["source"] in ("aart", "do_not_answer", "multijail", "seed", "generator")
            and r.get("lang", "en") == "en"
        ]
        rng.shuffle(pool)
        kept = 0
        for i, row in enumerate(tqdm(pool[:count], desc=split)):
            prefix = rng.choice(PREFIXES)
            prompt = f"<|im_start|>user\n{row['text']}<|im_end|>\n<|im_start|>assistant\n{prefix}"
            text = llm.create_completion(
                prompt,
                max_tokens=96,
                temperature=0.7,
                seed=i,
                repeat_penalty=1.1,
                stop=["<|im_end|>"],
            )["choices"][0]["text"]
            response = (prefix + text).strip()
            if REFUSAL_RE.search(response[:200]) or len(response.split()) < 12:
                continue
            kept += 1
            out.write(
                json.dumps(
                    {
                        **row,
                        "stage": "output",
                        "kind": "plain_compliance",
                        "source": "plain_" + row["source"],
                        "response": response,
                        "text": row["text"],
                    }
                )
                + "\n"
            )
        print(split, "kept", kept, "of", min(count, len(pool)), flush=True)
