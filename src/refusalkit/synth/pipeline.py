"""`refusalkit synth`: constitution → queries → responses → augmentation → dedup → splits.

This module runs the stages in order; what each stage makes lives beside it: `prompts` (seeds,
templates, generator queries), `answers` (output rows), `benign` (imported prompts), `manifest`
(the files a run writes)."""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from refusalkit.backends import Backend, GenerationParams, load_backend
from refusalkit.config import load_settings
from refusalkit.constitution import Constitution, load_constitution
from refusalkit.constitution.loader import resolve_constitution_path
from refusalkit.constitution.schema import Category
from refusalkit.errors import ConfigError, InvalidInputError
from refusalkit.synth import answers, prompts
from refusalkit.synth.benign import benign_rows, read_benign
from refusalkit.synth.dedup import drop_exact, drop_near
from refusalkit.synth.generation import GenerationCache, Request
from refusalkit.synth.manifest import build_manifest, write_splits
from refusalkit.synth.prompts import Prompt, TopicFilter
from refusalkit.synth.rows import Row, row_id
from refusalkit.synth.seeds import Seeds, load_seeds, seeds_path_for
from refusalkit.synth.splits import assign_splits, pick_heldout_families
from refusalkit.synth.transforms import FAMILIES, TransformContext, apply_random
from refusalkit.weights import load_encoder

WORK_DIR = ".work"
OVERSAMPLE = 1.15  # dedup and filters remove some rows; make a few more than asked for


@dataclass
class SynthOptions:
    constitution: str
    n: int
    out: Path
    generator: str | None = None
    concurrency: int | None = None
    seed: int = 0
    resume: bool = False
    transform_rate: float = 0.5
    output_share: float = 0.5
    query_generator_share: float = 0.15
    answer_generator_share: float = 0.3
    heldout_families: int = 2
    near_duplicate_threshold: float = 0.95
    #: JSONL files of benign prompts (and optional answers) added whole as harmless rows
    benign: list[Path] = field(default_factory=list)
    progress: bool = True

    def plan(self, constitution: Constitution, generator_spec: str) -> dict[str, Any]:
        """What must match for --resume to continue a run."""
        keep = asdict(self)
        for transient in ("out", "resume", "concurrency", "progress", "constitution"):
            keep.pop(transient)
        keep.update(constitution=constitution.name, digest=constitution.digest())
        keep["benign"] = [str(path) for path in self.benign]
        keep["generator"] = generator_spec
        return keep


@dataclass
class SynthReport:
    rows: int
    elapsed_s: float
    out: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_min(self) -> float:
        return self.rows / (self.elapsed_s / 60) if self.elapsed_s > 0 else 0.0


def _prepare_out_dir(options: SynthOptions, plan: dict[str, Any]) -> Path:
    out = options.out
    work = out / WORK_DIR
    plan_path = work / "plan.json"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write to {out}: {exc.strerror}; choose another --out") from None
    if plan_path.is_file():
        if not options.resume:
            raise ConfigError(
                f"{out} already holds a synth run; pass --resume to continue it or choose "
                "another --out"
            )
        previous = json.loads(plan_path.read_text())
        if previous != plan:
            changed = sorted(k for k in plan if previous.get(k) != plan[k])
            raise ConfigError(
                f"{out} holds a run made with different settings ({', '.join(changed)}); "
                "use the same settings with --resume, or another --out"
            )
    elif any(out.iterdir()) and not options.resume:
        raise ConfigError(f"{out} is not empty; choose an empty or new --out")
    work.mkdir(exist_ok=True)
    plan_path.write_text(json.dumps(plan, indent=2))
    return work


class Synthesizer:
    def __init__(
        self,
        options: SynthOptions,
        backend_factory: Callable[[], Backend],
        generator_spec: str,
        encoder: Any = None,
    ) -> None:
        self.options = options
        self.constitution_path = resolve_constitution_path(options.constitution)
        self.constitution = load_constitution(self.constitution_path)
        ids = {c.id for c in self.constitution.categories}
        self.seeds: Seeds = load_seeds(seeds_path_for(self.constitution_path), ids)
        categories = len(self.constitution.categories)
        if options.n < categories:
            raise InvalidInputError(
                f"--n {options.n} is smaller than the constitution's {categories} categories; "
                f"ask for at least {categories} rows"
            )
        for path in options.benign:
            read_benign(path)  # a bad file fails now, not after the generator's work
        self.generator_spec = generator_spec
        self.is_embedded = generator_spec in {"embedded", "hf:embedded"}
        self.plan = options.plan(self.constitution, generator_spec)
        self.work = _prepare_out_dir(options, self.plan)
        self.cache = GenerationCache(
            backend_factory, self.work / "generations.jsonl", options.concurrency
        )
        self._encoder = encoder
        self.topic = TopicFilter([c.id for c in self.constitution.categories], self.embed)
        self.stats: Counter[str] = Counter()
        if not generator_spec.startswith(("http://", "https://")) and encoder is None:
            # An in-process generator shares the cores with torch: a 2-thread torch pool slows
            # llama.cpp decoding by about a third even while idle (measured), so torch gets one.
            import torch

            torch.set_num_threads(1)

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            self._encoder = load_encoder()
        return self._encoder

    @property
    def progress(self) -> bool:
        return self.options.progress

    def embed(self, texts: list[str], desc: str) -> np.ndarray:
        if self.options.progress:
            print(f"embedding {len(texts)} texts ({desc})", flush=True)
        return np.asarray(
            self.encoder.encode(
                texts,
                batch_size=64,
                normalize_embeddings=True,
                show_progress_bar=self.options.progress,
                convert_to_numpy=True,
            )
        )

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.options.seed, *parts)))

    def budgets(self) -> dict[str, tuple[int, int]]:
        per_category = math.ceil(self.options.n * OVERSAMPLE / len(self.constitution.categories))
        n_out = round(per_category * self.options.output_share)
        return {c.id: (per_category - n_out, n_out) for c in self.constitution.categories}

    def build_prompt_pools(self) -> dict[str, list[Prompt]]:
        budgets = self.budgets()
        share = self.options.query_generator_share
        pools: dict[str, list[Prompt]] = {}
        requests: list[tuple[str, Request]] = []
        for category in self.constitution.categories:
            n_in, n_out = budgets[category.id]
            wanted = n_in + n_out
            generated = round(wanted * share)
            pools[category.id] = prompts.seed_and_template_prompts(
                category, self.seeds, wanted - generated, self.rng
            )
            calls = math.ceil(generated / 4)
            for request in prompts.query_requests(
                category, calls, self.rng(category.id, "query-requests")
            ):
                requests.append((category.id, request))
        answered = self.cache.run([r for _, r in requests], "generator: queries", self.progress)
        proposed: list[tuple[str, str]] = []
        for (category_id, _), answer in zip(requests, answered, strict=True):
            for line in prompts.parse_query_lines(answer or ""):
                proposed.append((category_id, line))
        self.stats["generator_queries_proposed"] = len(proposed)
        kept = self.topic.keep(proposed, pools, "generated queries")
        for category_id, line in kept:
            group = f"{category_id}:gen:{row_id(line)}"
            pools[category_id].append(Prompt(line, "generator", group))
        self.stats["generator_queries_kept"] = len(kept)
        return pools

    def transform_context(self, rng: random.Random, task: str | None) -> TransformContext:
        # the embedded 135M model writes unrelated text when asked to translate (measured)
        translate = None if self.is_embedded else self.translate
        return TransformContext(rng=rng, task=task, translate=translate)

    def translate(self, text: str, language: str) -> str | None:
        request = Request.user(
            f"Translate the following text into {language}. Reply with the translation only."
            f"\n\n{text}",
            GenerationParams(max_tokens=min(1024, 2 * len(text.split()) + 64), temperature=0.0),
        )
        return self.cache.run([request], "generator: translation", progress=False)[0]

    def maybe_transform(
        self, prompt: Prompt, rng: random.Random, rate: float
    ) -> tuple[str, str, str]:
        if rng.random() >= rate:
            return prompt.text, "none", "none"
        applied = apply_random(prompt.text, self.transform_context(rng, prompt.task))
        if applied is None:
            return prompt.text, "none", "none"
        text, transform = applied
        return text, transform.name, transform.family

    def input_rows(self, category: Category, pool: list[Prompt], count: int) -> list[Row]:
        rng = self.rng(category.id, "input")
        label = self.constitution.label_of(category.id)
        order = list(range(len(pool)))
        rng.shuffle(order)
        rows = []
        for k in range(count):
            prompt = pool[order[k % len(order)]]
            text, transform, family = self.maybe_transform(prompt, rng, self.options.transform_rate)
            rows.append(
                Row(
                    id=row_id("input", category.id, k, text),
                    stage="input",
                    text=text,
                    prompt=text,
                    label=label,
                    category=category.id,
                    transform=transform,
                    transform_family=family,
                    source=prompt.source,  # type: ignore[arg-type]
                    group=prompt.group,
                )
            )
        return rows

    def run(self) -> SynthReport:
        started = time.perf_counter()
        budgets = self.budgets()
        pools = self.build_prompt_pools()

        plans = {
            c.id: answers.plan_output_rows(
                pools[c.id],
                budgets[c.id][1],
                self.constitution.label_of(c.id) == "harmful",
                self.options.answer_generator_share,
                self.rng(c.id, "output-plan"),
            )
            for c in self.constitution.categories
        }
        answer_requests: list[tuple[str, int, Request]] = []
        for category_id, plan in plans.items():
            for k, (prompt, kind) in enumerate(plan):
                if kind == "generator":
                    answer_requests.append((category_id, k, answers.answer_request(prompt, k)))
        answered = self.cache.run(
            [r for _, _, r in answer_requests], "generator: answers", self.progress
        )
        generated: dict[str, dict[int, str | None]] = {c: {} for c in plans}
        for (category_id, k, _), answer in zip(answer_requests, answered, strict=True):
            generated[category_id][k] = answer

        rows: list[Row] = []
        pending: list[tuple[str, Row]] = []
        for category in self.constitution.categories:
            n_in, _ = budgets[category.id]
            rows += self.input_rows(category, pools[category.id], n_in)
            for row, needs_check in answers.output_rows(
                self.constitution,
                self.seeds,
                category,
                plans[category.id],
                generated[category.id],
                self.maybe_transform,
                self.options.transform_rate,
                self.rng(category.id, "output"),
            ):
                if needs_check:
                    pending.append((category.id, row))
                else:
                    rows.append(row)
        # A generator "compliance" counts as harmful only if it is on the category's topic.
        kept = self.topic.keep(
            [(c, r.response or "") for c, r in pending], pools, "generated answers"
        )
        kept_texts = {(c, t) for c, t in kept}
        for category_id, row in pending:
            if (category_id, row.response) in kept_texts:
                rows.append(row)
        self.stats["generator_compliance_proposed"] = len(pending)
        self.stats["generator_compliance_kept"] = len(kept)
        return self.finish(rows, started)

    def finish(self, rows: list[Row], started: float) -> SynthReport:
        imported_rows = benign_rows(
            self.constitution,
            self.constitution_path,
            self.options.benign,
            self.maybe_transform,
            self.options.transform_rate,
            self.rng,
        )
        self.stats["benign_imported"] = len(imported_rows)
        rows += imported_rows
        before = len(rows)
        rows, exact = drop_exact(rows)
        embeddings = self.embed([r.text for r in rows], "near-duplicate check")
        rows, near = drop_near(rows, embeddings, self.options.near_duplicate_threshold)
        # Imported rows come on top of --n and are never trimmed away.
        imported = [r for r in rows if r.source == "imported"]
        rows = [r for r in rows if r.source != "imported"]
        rng = self.rng("trim")
        if len(rows) > self.options.n:
            rows = [rows[i] for i in sorted(rng.sample(range(len(rows)), self.options.n))]
        rows += imported
        heldout = pick_heldout_families(FAMILIES, self.options.heldout_families, self.options.seed)
        rows = assign_splits(rows, heldout, self.options.seed)
        write_splits(self.options.out, rows)
        elapsed = time.perf_counter() - started
        run = {
            "constitution": self.constitution.name,
            "constitution_path": str(self.constitution_path),
            "constitution_hash": self.constitution.digest(),
            "generator": self.generator_spec,
            "seed": self.options.seed,
            "n_requested": self.options.n,
            "options": self.plan,
        }
        dedup = {
            "before": before,
            "exact_removed": exact,
            "near_removed": near,
            "threshold": self.options.near_duplicate_threshold,
        }
        manifest = build_manifest(rows, run, dedup, heldout, self.cache, self.stats, elapsed)
        (self.options.out / "manifest.json").write_text(json.dumps(manifest, indent=2))
        self.cache.close()
        return SynthReport(len(rows), elapsed, self.options.out, manifest)


def synthesize(options: SynthOptions) -> SynthReport:
    """Run the pipeline with the generator the options (or the configuration) name."""
    settings = load_settings()
    spec = options.generator or settings.model
    synthesizer = Synthesizer(options, lambda: load_backend(spec, settings), spec)
    return synthesizer.run()
