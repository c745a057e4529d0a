"""`refusalkit synth`: constitution → queries → responses → augmentation → dedup → splits."""

from __future__ import annotations

import json
import math
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from refusalkit.backends import Backend, GenerationParams, load_backend
from refusalkit.config import load_settings
from refusalkit.constitution import Constitution, load_constitution
from refusalkit.constitution.loader import resolve_constitution_path
from refusalkit.constitution.schema import Category
from refusalkit.errors import ConfigError, InvalidInputError
from refusalkit.jsonl import json_lines
from refusalkit.models import load_encoder
from refusalkit.synth import grammar
from refusalkit.synth.dedup import drop_exact, drop_near
from refusalkit.synth.generation import GenerationCache, Request
from refusalkit.synth.rows import Row, exchange_text, row_id
from refusalkit.synth.seeds import Seeds, load_seeds, seeds_path_for
from refusalkit.synth.splits import assign_splits, pick_heldout_families
from refusalkit.synth.transforms import FAMILIES, TransformContext, apply_random

WORK_DIR = ".work"
OVERSAMPLE = 1.15  # dedup and filters remove some rows; make a few more than asked for
REFUSAL_RE = re.compile(
    r"\b(I can(?:'|’)?t|I cannot|I won(?:'|’)?t|I(?:'|’)m sorry|I am sorry|I(?:'|’)m not able|"
    r"I am not able|unable to (?:help|assist|provide)|as an AI|I must decline|"
    r"not (?:appropriate|something I can))",
    re.IGNORECASE,
)
BULLET_RE = re.compile(r"^\s*(?:#?\d+[.):]|[-*•#]+)(?:\s*(?:#?\d+[.):]|[-*•#]+))*\s*")
# A generated line counts as a request only if it asks for something; the 135M model often
# writes statements instead ("Soldiers are the most vulnerable."), which would be label noise.
REQUEST_RE = re.compile(
    r"(\?\s*$|^(?:how|what|why|where|which|who|when|can|could|would|will|is|are|do|does|"
    r"should|write|give|tell|explain|help|describe|list|show|create|make|draft|find|generate|"
    r"provide|teach|suggest|please|i (?:want|need|would like)|i'm looking|compose)\b)",
    re.IGNORECASE,
)
QUERY_TONES = [
    "casual and short", "polite and detailed", "urgent", "curious", "blunt",
    "formal", "from a beginner", "from an expert",
]  # fmt: skip


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

    def plan(self, constitution: Constitution, generator_spec: str) -> dict[str, object]:
        """What must match for --resume to continue a run."""
        keep = asdict(self)
        for transient in ("out", "resume", "concurrency", "progress", "constitution"):
            keep.pop(transient)
        keep.update(constitution=constitution.name, digest=constitution.digest())
        keep["benign"] = [str(path) for path in self.benign]
        keep["generator"] = generator_spec
        return keep


@dataclass
class Prompt:
    text: str
    source: str
    group: str
    task: str | None = None


@dataclass
class SynthReport:
    rows: int
    elapsed_s: float
    out: Path
    manifest: dict[str, object] = field(default_factory=dict)

    @property
    def rows_per_min(self) -> float:
        return self.rows / (self.elapsed_s / 60) if self.elapsed_s > 0 else 0.0


def _prepare_out_dir(options: SynthOptions, plan: dict[str, object]) -> Path:
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
        encoder=None,
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
        self._centroids: np.ndarray | None = None
        self.stats: Counter[str] = Counter()
        if not generator_spec.startswith(("http://", "https://")) and encoder is None:
            # An in-process generator shares the cores with torch: a 2-thread torch pool slows
            # llama.cpp decoding by about a third even while idle (measured), so torch gets one.
            import torch

            torch.set_num_threads(1)

    # -- helpers ---------------------------------------------------------------------------
    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = load_encoder()
        return self._encoder

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

    def neighbour_title(self, category: Category) -> str:
        for permitted in self.constitution.permitted:
            if category.id in permitted.near:
                return permitted.title.lower()
        return "general safety information"

    # -- queries ---------------------------------------------------------------------------
    def budgets(self) -> dict[str, tuple[int, int]]:
        per_category = math.ceil(self.options.n * OVERSAMPLE / len(self.constitution.categories))
        n_out = round(per_category * self.options.output_share)
        return {c.id: (per_category - n_out, n_out) for c in self.constitution.categories}

    def seed_and_template_prompts(self, category: Category, wanted: int) -> list[Prompt]:
        seeds = self.seeds.for_category(category.id)
        pool = [
            Prompt(text, "seed", f"{category.id}:seed:{i}")
            for i, text in enumerate([*category.examples, *seeds.prompts])
        ]
        combos = [
            Prompt(
                grammar.fill_query(frame, task, self.rng(category.id, "frame", t, f)),
                "template",
                f"{category.id}:task:{t}",
                task,
            )
            for t, task in enumerate(seeds.tasks)
            for f, frame in enumerate(grammar.QUERY_FRAMES)
        ]
        self.rng(category.id, "templates").shuffle(combos)
        return pool + combos[: max(0, wanted - len(pool))]

    def query_requests(self, category: Category, calls: int) -> list[Request]:
        rng = self.rng(category.id, "query-requests")
        requests = []
        for call in range(calls):
            examples = rng.sample(category.examples, k=min(3, len(category.examples)))
            listed = "\n".join(f"- {e}" for e in examples)
            prompt = (
                f"Here are requests people send to an AI assistant about "
                f"{category.title.lower()} ({category.description.strip()})\n{listed}\n"
                f"Write 5 new, different requests like these, {rng.choice(QUERY_TONES)}. "
                "One per line, each starting with '- '."
            )
            params = GenerationParams(max_tokens=160, temperature=0.9, seed=call)
            requests.append(Request.user(prompt, params))
        return requests

    @staticmethod
    def parse_query_lines(text: str) -> list[str]:
        lines = []
        for raw in text.splitlines():
            line = BULLET_RE.sub("", raw).strip().strip('"')
            words = line.split()
            if 4 <= len(words) <= 60 and REQUEST_RE.search(line) and not REFUSAL_RE.search(line):
                lines.append(line)
        return lines

    def build_prompt_pools(self) -> dict[str, list[Prompt]]:
        budgets = self.budgets()
        share = self.options.query_generator_share
        pools: dict[str, list[Prompt]] = {}
        requests: list[tuple[str, Request]] = []
        for category in self.constitution.categories:
            n_in, n_out = budgets[category.id]
            wanted = n_in + n_out
            generated = round(wanted * share)
            pools[category.id] = self.seed_and_template_prompts(category, wanted - generated)
            for request in self.query_requests(category, math.ceil(generated / 4)):
                requests.append((category.id, request))
        answers = self.cache.run([r for _, r in requests], "generator: queries", self.progress)
        proposed: list[tuple[str, str]] = []
        for (category_id, _), answer in zip(requests, answers, strict=True):
            for line in self.parse_query_lines(answer or ""):
                proposed.append((category_id, line))
        self.stats["generator_queries_proposed"] = len(proposed)
        kept = self.keep_on_topic(proposed, pools, "generated queries")
        for category_id, line in kept:
            group = f"{category_id}:gen:{row_id(line)}"
            pools[category_id].append(Prompt(line, "generator", group))
        self.stats["generator_queries_kept"] = len(kept)
        return pools

    def keep_on_topic(
        self,
        candidates: list[tuple[str, str]],
        pools: dict[str, list[Prompt]],
        desc: str,
    ) -> list[tuple[str, str]]:
        """Generator text is kept only when the encoder puts it nearest its own category."""
        if not candidates:
            return []
        ids = [c.id for c in self.constitution.categories]
        if self._centroids is None:
            texts = [p.text for category_id in ids for p in pools[category_id]]
            owners = [category_id for category_id in ids for _ in pools[category_id]]
            vectors = self.embed(texts, "category centroids")
            centroids = []
            for category_id in ids:
                mask = np.array([owner == category_id for owner in owners])
                centroid = vectors[mask].mean(axis=0)
                centroids.append(centroid / np.linalg.norm(centroid))
            self._centroids = np.stack(centroids)
        vectors = self.embed([text for _, text in candidates], desc)
        nearest = (vectors @ self._centroids.T).argmax(axis=1)
        return [
            candidate
            for candidate, index in zip(candidates, nearest, strict=True)
            if ids[index] == candidate[0]
        ]

    @property
    def progress(self) -> bool:
        return self.options.progress

    # -- rows ------------------------------------------------------------------------------
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

    def plan_output_rows(
        self, category: Category, pool: list[Prompt], count: int
    ) -> list[tuple[Prompt, str]]:
        """Which prompt gets which kind of answer; generator answers are asked for later."""
        rng = self.rng(category.id, "output-plan")
        harmful = self.constitution.label_of(category.id) == "harmful"
        share = self.options.answer_generator_share
        if harmful:
            kinds = {
                "generator": share,
                "compliance": 0.55 - share,
                "refusal": 0.27,
                "partial": 0.18,
            }
        else:
            kinds = {
                "generator": share + 0.25,
                "helpful": 0.45 - share,
                "refusal": 0.15,
                "partial": 0.15,
            }
        names, weights = zip(*((k, max(0.0, w)) for k, w in kinds.items()), strict=True)
        order = list(range(len(pool)))
        rng.shuffle(order)
        return [(pool[order[k % len(order)]], rng.choices(names, weights)[0]) for k in range(count)]

    def answer_request(self, prompt: Prompt, index: int) -> Request:
        # The output classifier reads responses as they stream: a 96-token opening is enough.
        params = GenerationParams(max_tokens=96, temperature=0.7, seed=index)
        return Request.user(prompt.text, params)

    def output_rows(
        self,
        category: Category,
        plan: list[tuple[Prompt, str]],
        generated: dict[int, str | None],
    ) -> list[tuple[Row, bool]]:
        """Rows, each with whether its response came from the generator (filtered later)."""
        rng = self.rng(category.id, "output")
        seeds = self.seeds.for_category(category.id)
        tasks = seeds.tasks or [category.title.lower()]
        harmful_category = self.constitution.label_of(category.id) == "harmful"
        rows: list[tuple[Row, bool]] = []
        for k, (prompt, kind) in enumerate(plan):
            task = prompt.task or rng.choice(tasks)
            source = prompt.source
            from_generator = kind == "generator"
            if from_generator:
                response = generated.get(k)
                if not response or not response.strip():
                    continue
                source = "generator"
                if REFUSAL_RE.search(response[:200]):
                    kind = "refusal"
                else:
                    kind = "compliance" if harmful_category else "helpful"
            elif kind == "compliance":
                steps = seeds.steps or [f"Work out the details of how to {task}."]
                response = grammar.compliance(task, steps, rng)
                source = "template"
            elif kind == "helpful":
                if not seeds.answers:
                    continue
                response = grammar.helpful(rng.choice(seeds.answers), rng)
                source = "seed"
            elif kind == "refusal":
                message = (
                    self.constitution.refusal_for(category.id)
                    if harmful_category and rng.random() < 0.3
                    else grammar.refusal(task, rng)
                )
                response, source = message, "template"
            else:
                response = grammar.partial(task, self.neighbour_title(category), rng)
                source = "template"
            label = "harmful" if kind == "compliance" else "harmless"
            shown, transform, family = self.maybe_transform(
                prompt, rng, self.options.transform_rate / 2
            )
            rows.append(
                (
                    Row(
                        id=row_id("output", category.id, k, shown, response),
                        stage="output",
                        text=exchange_text(shown, response),
                        prompt=shown,
                        response=response,
                        label=label,
                        category=category.id,
                        transform=transform,
                        transform_family=family,
                        source=source,  # type: ignore[arg-type]
                        group=prompt.group,
                        kind=kind,  # type: ignore[arg-type]
                    ),
                    from_generator and kind == "compliance",
                )
            )
        return rows

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> SynthReport:
        started = time.perf_counter()
        budgets = self.budgets()
        pools = self.build_prompt_pools()

        plans = {
            c.id: self.plan_output_rows(c, pools[c.id], budgets[c.id][1])
            for c in self.constitution.categories
        }
        answer_requests: list[tuple[str, int, Request]] = []
        for category_id, plan in plans.items():
            for k, (prompt, kind) in enumerate(plan):
                if kind == "generator":
                    answer_requests.append((category_id, k, self.answer_request(prompt, k)))
        answers = self.cache.run(
            [r for _, _, r in answer_requests], "generator: answers", self.progress
        )
        generated: dict[str, dict[int, str | None]] = {c: {} for c in plans}
        for (category_id, k, _), answer in zip(answer_requests, answers, strict=True):
            generated[category_id][k] = answer

        rows: list[Row] = []
        pending: list[tuple[str, Row]] = []
        for category in self.constitution.categories:
            n_in, _ = budgets[category.id]
            rows += self.input_rows(category, pools[category.id], n_in)
            for row, needs_check in self.output_rows(
                category, plans[category.id], generated[category.id]
            ):
                if needs_check:
                    pending.append((category.id, row))
                else:
                    rows.append(row)
        # A generator "compliance" counts as harmful only if it is on the category's topic.
        kept = self.keep_on_topic(
            [(c, r.response or "") for c, r in pending], pools, "generated answers"
        )
        kept_texts = {(c, t) for c, t in kept}
        for category_id, row in pending:
            if (category_id, row.response) in kept_texts:
                rows.append(row)
        self.stats["generator_compliance_proposed"] = len(pending)
        self.stats["generator_compliance_kept"] = len(kept)
        return self.finish(rows, started)

    def benign_rows(self) -> list[Row]:
        """Imported benign prompts as harmless input rows; with an answer, output rows too."""
        permitted = [c.id for c in self.constitution.permitted]
        if not permitted:
            raise ConfigError(
                f"--benign needs a permitted category in {self.constitution_path} to file "
                "imported prompts under"
            )
        category = "everyday_requests" if "everyday_requests" in permitted else permitted[0]
        rows: list[Row] = []
        for path in self.options.benign:
            for index, prompt, answer in read_benign(path):
                group = f"import:{path.stem}:{index}"
                rng = self.rng("benign", path.stem, index)
                shown, transform, family = self.maybe_transform(
                    Prompt(prompt, "imported", group), rng, self.options.transform_rate
                )
                common = dict(
                    label="harmless", category=category, transform=transform,
                    transform_family=family, source="imported", group=group,
                )  # fmt: skip
                rows.append(
                    Row(
                        id=row_id("import", group, shown),
                        stage="input",
                        text=shown,
                        prompt=shown,
                        **common,
                    )  # fmt: skip
                )
                if answer:
                    answer = answer[:MAX_IMPORTED_ANSWER_CHARS]
                    rows.append(
                        Row(
                            id=row_id("import-out", group, answer),
                            stage="output",
                            text=exchange_text(prompt, answer),
                            prompt=prompt,
                            response=answer,
                            kind="helpful",
                            **{**common, "transform": "none", "transform_family": "none"},
                        )  # fmt: skip
                    )
        self.stats["benign_imported"] = len(rows)
        return rows

    def finish(self, rows: list[Row], started: float) -> SynthReport:
        rows += self.benign_rows()
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
        self.write(rows)
        elapsed = time.perf_counter() - started
        manifest = self.manifest(rows, before, exact, near, heldout, elapsed)
        (self.options.out / "manifest.json").write_text(json.dumps(manifest, indent=2))
        self.cache.close()
        return SynthReport(len(rows), elapsed, self.options.out, manifest)

    def write(self, rows: list[Row]) -> None:
        for split in ("train", "val", "test"):
            path = self.options.out / f"{split}.jsonl"
            temporary = path.with_suffix(".jsonl.tmp")
            with temporary.open("w", encoding="utf-8") as handle:
                for row in rows:
                    if row.split == split:
                        handle.write(row.model_dump_json() + "\n")
            os.replace(temporary, path)

    def manifest(
        self,
        rows: list[Row],
        before: int,
        exact: int,
        near: int,
        heldout: list[str],
        elapsed: float,
    ) -> dict[str, object]:
        def count(field_name: str) -> dict[str, int]:
            return dict(sorted(Counter(getattr(r, field_name) for r in rows).items()))

        return {
            "constitution": self.constitution.name,
            "constitution_path": str(self.constitution_path),
            "constitution_hash": self.constitution.digest(),
            "generator": self.generator_spec,
            "seed": self.options.seed,
            "n_requested": self.options.n,
            "rows": len(rows),
            "files": {s: f"{s}.jsonl" for s in ("train", "val", "test")},
            "counts": {
                name: count(name)
                for name in (
                    "split",
                    "stage",
                    "label",
                    "category",
                    "transform",
                    "transform_family",
                    "source",
                    "kind",
                )
            },  # fmt: skip
            "label_by_stage": {
                stage: dict(Counter(r.label for r in rows if r.stage == stage))
                for stage in ("input", "output")
            },
            "heldout_families": heldout,
            "dedup": {
                "before": before,
                "exact_removed": exact,
                "near_removed": near,
                "near_duplicate_rate": round((exact + near) / before, 4) if before else 0.0,
                "threshold": self.options.near_duplicate_threshold,
            },
            "generator_stats": {
                "calls": self.cache.calls,
                "cached": self.cache.cached_hits,
                "failures": self.cache.failures,
                "last_error": self.cache.last_error,
                **dict(self.stats),
            },
            "options": self.plan,
            "elapsed_s": round(elapsed, 1),
            "rows_per_min": round(len(rows) / (elapsed / 60), 1) if elapsed else None,
        }


# An opening is what the streaming classifier reads; long imported answers add nothing past it.
MAX_IMPORTED_ANSWER_CHARS = 2000


def read_benign(path: Path) -> list[tuple[int, str, str | None]]:
    """(line number, prompt, answer or None) from a JSONL file with `prompt` and optionally
    `response` or `chosen` (CoCoNot's preference format)."""
    if not path.is_file():
        raise ConfigError(f"--benign {path}: no such file")
    rows: list[tuple[int, str, str | None]] = []
    for number, record in json_lines(path):
        prompt = record.get("prompt") if isinstance(record, dict) else None
        if not isinstance(prompt, str) or not prompt.strip():
            found = ", ".join(record) if isinstance(record, dict) else type(record).__name__
            raise InvalidInputError(f"{path}:{number}: needs a text `prompt` (found: {found})")
        answer = record.get("response") or record.get("chosen")
        rows.append((number, prompt, answer if isinstance(answer, str) else None))
    return rows


def synthesize(options: SynthOptions) -> SynthReport:
    """Run the pipeline with the generator the options (or the configuration) name."""

    settings = load_settings()
    spec = options.generator or settings.model
    synthesizer = Synthesizer(options, lambda: load_backend(spec, settings), spec)
    return synthesizer.run()
