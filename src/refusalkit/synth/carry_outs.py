"""Plain carry-outs: an open model's answers to harmful requests, opened with a compliance prefix
so that it attempts them. They are harmful exchanges in a plain prose voice for the exchange
reader; the other harmful answers it learns from are template step lists and ChatGPT speaking
through a jailbreak persona. Look-alike requests are answered the same way and kept as harmless
exchanges, so that the voice alone does not read as harm.

A kept answer attempts the request, which is what XSTest calls full compliance; answers that
still refuse, or say almost nothing, are dropped. The rows keep their request's split, so the
reader's validation pool gets carry-outs of requests it never trained on.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from refusalkit.datasets.checkout import data_dir
from refusalkit.jsonl import atomic_jsonl, read_rows
from refusalkit.synth.prompts import REFUSAL_RE
from refusalkit.weights import embedded_gguf_path

PREFIXES = ("Sure, here is how", "Sure! Here's", "Here is", "Okay, here's", "Of course.", "To")
# Plain requests (no jailbreak transform, English): harmful ones from sources that ask directly,
# and look-alikes answered in the same voice, so the voice alone does not read as harm.
SOURCES = {
    "harmful": ("aart", "do_not_answer", "multijail", "seed", "generator"),
    "harmless": ("or_bench_hard", "template", "imported", "seed"),
}
PER_SPLIT = {"train": 1000, "val": 200}
MAX_TOKENS = 96
MIN_WORDS = 12
# SmolLM2's chat format, without its default system prompt, the answer opened with the prefix.
CHATML = "<|im_start|>user\n{request}<|im_end|>\n<|im_start|>assistant\n{prefix}"


def carry_outs_file() -> Path:
    """The shipped carry-outs, in the checkout's data/generated."""
    return data_dir() / "generated" / "carry_outs.jsonl"


def carry_out_requests(
    splits: Mapping[str, Sequence[dict]], per_split: Mapping[str, int], seed: int = 0
) -> list[tuple[dict, str, int]]:
    """(request row, compliance prefix, sampling seed): up to `per_split[split]` plain harmful
    requests of each split, then as many look-alikes, in a seeded order; the sampling seed is
    the place in its split."""
    rng = random.Random(seed)
    chosen: list[tuple[dict, str, int]] = []
    for label, sources in SOURCES.items():
        for split, count in per_split.items():
            pool = [
                r
                for r in splits.get(split, ())
                if r["stage"] == "input"
                and r["label"] == label
                and r["transform_family"] == "none"
                and r["source"] in sources
                and r.get("lang", "en") == "en"
            ]
            rng.shuffle(pool)
            chosen += [(row, rng.choice(PREFIXES), place) for place, row in enumerate(pool[:count])]
    return chosen


def carry_out_row(request: dict, response: str) -> dict | None:
    """The exchange (labelled as its request), or None when the answer refuses or says almost
    nothing."""
    response = response.strip()
    if REFUSAL_RE.search(response[:200]) or len(response.split()) < MIN_WORDS:
        return None
    return {
        **request,
        "stage": "output",
        "kind": "carry_out",
        "source": "carry_out:" + request["source"],
        "response": response,
    }


def write_carry_outs(
    requests: Sequence[tuple[dict, str, int]], out: Path, progress: bool = True
) -> list[dict]:
    """Generate with the embedded SmolLM2 and write the kept rows to `out`.

    Each answer is sampled with its request's seed, so a run cut short resumes where it stopped
    (the answers already in `out.partial` are kept) and a rerun writes the same file. llama.cpp is
    called directly: an answer opened for the model needs a raw prompt, not a chat call."""
    from refusalkit.backends.llama_cpu import open_llama
    from refusalkit.backends.llamacpp import quiet_stderr

    partial = out.with_name(out.name + ".partial")
    done = _finished(partial)
    # Two threads, whatever the machine: the shipped file was made with two, and the thread
    # count can change llama.cpp's sums and so the sampled answers.
    with quiet_stderr():
        llm = open_llama(embedded_gguf_path(), n_ctx=1024, n_threads=2, seed=0, verbose=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("a", encoding="utf-8") as handle:
        todo = list(enumerate(requests))[len(done) :]
        for index, (request, prefix, sampling_seed) in tqdm(
            todo, desc="carry-outs", disable=not progress, initial=len(done), total=len(requests)
        ):
            completion: Any = llm.create_completion(
                CHATML.format(request=request["text"], prefix=prefix),
                max_tokens=MAX_TOKENS,
                temperature=0.7,
                seed=sampling_seed,
                repeat_penalty=1.1,
                stop=["<|im_end|>"],
            )
            text = completion["choices"][0]["text"]
            record = {"index": index, "row": carry_out_row(request, prefix + text)}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            done.append(record)
    rows = [d["row"] for d in done if d["row"] is not None]
    with atomic_jsonl(out) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    partial.unlink()
    return rows


def _finished(partial: Path) -> list[dict]:
    """The answers a cut-short run wrote, up to a last line it may not have finished."""
    done: list[dict] = []
    if partial.is_file():
        for line in partial.read_text(encoding="utf-8").splitlines():
            try:
                done.append(json.loads(line))
            except json.JSONDecodeError:
                break
        partial.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in done))
    return done


def read_carry_outs(path: Path | None = None) -> list[dict]:
    path = path or carry_outs_file()
    return read_rows(path, "make it with `refusalkit synth-carry-outs`")


__all__ = ["carry_out_requests", "carry_out_row", "read_carry_outs", "write_carry_outs"]
