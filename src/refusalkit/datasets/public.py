"""Public, human-written safety and everyday data copied into the project (`data/public/`).

One reviewed table maps each source's harm labels onto the general constitution's categories;
rows become the same shape as synthetic rows (`stage`, `text`, `label`, `category`, `group`, …)
so the classifier training reads both. Splits are by group (a prompt, a MultiJail id, a
GPTFuzz question), so no prompt is on both sides. Licences and attribution: `data/public/README.md`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from refusalkit.datasets.checkout import data_dir
from refusalkit.errors import ConfigError
from refusalkit.taxonomy import BY_ID

HARMLESS = "harmless"
EVERYDAY = "everyday_requests"


@dataclass(frozen=True)
class Source:
    name: str
    file: str  # licence and attribution of each: data/public/README.md
    # rows whose own `source` is one of these are not copied into the project
    leave_out: frozenset[str] = frozenset()


SOURCES: tuple[Source, ...] = (
    Source("aart", "aart.jsonl"),
    Source("do_not_answer", "do_not_answer.jsonl"),
    Source("gptfuzz", "gptfuzz_responses.jsonl"),
    Source("multijail", "multijail.jsonl"),
    Source("hh_red_team", "hh_red_team.jsonl"),
    Source("benign", "benign_prompts.jsonl"),
    Source("or_bench_hard", "or_bench_hard.jsonl"),
    Source("cvalues_zh", "cvalues_zh.jsonl"),
    Source("refusal_voices", "refusal_voices.jsonl"),
    Source("selfaware", "selfaware.jsonl"),
    # MaliciousInstruct's licence is not stated (train/README.md): it stays out, and so stays a
    # source the shipped classifiers never trained on (`bench classifiers`' unseen_sources)
    Source("harmful_more", "harmful_more.jsonl", frozenset({"MaliciousInstruct"})),
)

# harmful_more's (StrongREJECT, HarmBench) own category → the constitution's; None: the nearest
# restricted category by the constitution's examples (`training.rows.nearest_category`). Their
# crime, sexual-content and "harmful" categories each span several of ours ("Sexual content"
# holds grooming, revenge porn and voyeurism alike), so they go by their text.
HARMFUL_MORE_CATEGORY: dict[str, str | None] = {
    "Disinformation and deception": "disinformation",
    "Hate, harassment and discrimination": "hate_harassment",
    "Violence": "violent_crime_terrorism",
    "Sexual content": None,
    "Non-violent crimes": None,
    "Illegal goods and services": None,
    "cybercrime_intrusion": "cyber_attacks",
    "misinformation_disinformation": "disinformation",
    "chemical_biological": "cbrn_weapons",
    "harassment_bullying": "hate_harassment",
    "illegal": None,
    "harmful": None,
}
# Harmful requests that the heads learn and the encoder's tuning leaves out, so that
# `bench loso`'s folds on them stay honest for the tuned encoder: StrongREJECT and HarmBench
# (harmful_more) and JailbreakBench's behaviours (refusal_voices' harmful requests).
HEAD_ONLY_SOURCES = frozenset({"StrongREJECT", "HarmBench", "jailbreakbench"})

# AART `crime` → category. The constitution has no general-crime category: theft, property,
# animal and environmental crimes go to the nearest one (violent crime); the guard blocks both.
AART_CRIME: dict[str, str] = {
    **dict.fromkeys(
        ["hate crimes", "crimes motivated by race", "crimes motivated by religion",
         "crimes motivated by disability", "crimes motivated by gender identity",
         "crimes motivated by sexual orientation"], "hate_harassment"),
    **dict.fromkeys(
        ["terrorism", "violence", "assassinations", "domestic violence", "kidnapping",
         "kidnappings", "hijackings", "robbery", "assault", "murder", "arson",
         "acts of violence committed for political or ideological purposes",
         "property crimes", "burglary", "vandalism", "theft", "shoplifting", "other crimes",
         "animal neglect", "animal abuse", "animal cruelty", "cockfighting", "dog fighting",
         "circuses", "landfills", "pollution", "air pollution", "environmental crimes",
         "illegal dumping", "water contamination", "climate change"], "violent_crime_terrorism"),
    "bombings": "explosives_weapons",
    "cyberterrorism": "cyber_attacks",
    **dict.fromkeys(
        ["sex trafficking", "labor trafficking", "human trafficking", "child trafficking",
         "organ trafficking", "migrant smuggling", "prostitution"], "human_trafficking"),
    **dict.fromkeys(
        ["drug addiction", "drug possession", "drug abuse", "drug crimes", "drug dealing",
         "drug trafficking", "drug manufacturing", "alcohol abuse", "smoking",
         "driving under the influence"], "illicit_drugs"),
    **dict.fromkeys(
        ["corporate fraud", "ponzi schemes", "pyramid schemes", "financial crimes",
         "identity theft", "fraud", "money laundering", "embezzlement", "tax evasion",
         "credit card fraud", "gambling", "horse racing"], "fraud_scams"),
    **dict.fromkeys(["rape", "pornography"], "non_consensual_sexual"),
}  # fmt: skip

# Do-Not-Answer `types_of_harm` → category, HARMLESS (a question to answer with care, not a
# request for harmful help: a benign input row) or None (mixed; left out of input training).
DNA_HARM: dict[str, str | None] = {
    "Assisting illegal activities": "violent_crime_terrorism",
    "Compromise privacy by leaking or inferring private information (person/individual)":
        "privacy_doxxing",
    "Toxic language (hate speech)": "hate_harassment",
    "Social stereotypes and unfair discrimination": "hate_harassment",
    "Reducing the cost of disinformation campaigns": "disinformation",
    "Nudging or advising users to perform unethical or unsafe actions": None,
    "Mental Health or Overreliance Crisis": None,
    "Adult Content": None,
    "Risks from leaking or inferring sensitive information (organization/gov)": HARMLESS,
    "Disseminating false or misleading information": HARMLESS,
    "Causing material harm by disseminating misinformation e.g. in medicine or law": HARMLESS,
    "Treat Chatbot as a Human": HARMLESS,
}  # fmt: skip

# MultiJail tag → category; a row takes the first of its tags found here, in this order.
MULTIJAIL_TAG: dict[str, str] = {
    "Child abuse": "child_sexual_content",
    "Sexual exploitation & human trafficking": "human_trafficking",
    "Self-harm": "self_harm",
    "Weapons": "explosives_weapons",
    "Terrorism & organized crime": "violent_crime_terrorism",
    "Violence & incitement": "violent_crime_terrorism",
    "Substance abuse & banned substances": "illicit_drugs",
    "Fraud & deception": "fraud_scams",
    "Soliciting personally identifiable information": "privacy_doxxing",
    "Hate speech & offensive language": "hate_harassment",
    "Discrimination & injustice": "hate_harassment",
    "Bullying & harassment": "hate_harassment",
    "Conspiracy theories & misinformation": "disinformation",
    "Theft": "violent_crime_terrorism",
    "Property crime & vandalism": "violent_crime_terrorism",
    "Animal abuse": "violent_crime_terrorism",
    "Non-violent unethical behavior (e.g. lying, cheating, etc.)": "fraud_scams",
    "Adult content": "non_consensual_sexual",
}

# Do-Not-Answer `action` → (refusal level, taxonomy group) for the refusal audit. Levels follow
# XSTest: a response that declines, or only points elsewhere, is a full refusal; one that answers
# (with caveats or both sides) is compliance. Actions 1 ("refutes the opinion or premise") and 3
# ("answers with a disclaimer or refers to an expert") are left out: each holds flat refusals
# ("I apologize, but I cannot assist with…", "I cannot prescribe any medication… consult a
# professional") beside real answers, so neither has one level (counts: docs/audit.md).
DNA_ACTION: dict[int, tuple[str, str | None] | None] = {
    0: ("full_refusal", "should_not"),  # refuses, or says it can't assist
    1: None,
    2: ("compliance", None),  # gives both sides
    3: None,
    4: ("full_refusal", "cannot"),  # lacks the knowledge or ability, or is unsure
    5: ("compliance", None),  # follows the instruction
}

# (`types_of_harm`, action) → taxonomy category of the refusal; rows not listed refuse for a
# reason the taxonomy cannot name from the harm type alone (their group is still known).
DNA_REFUSAL_CATEGORY: dict[tuple[str, int], str] = {
    ("Assisting illegal activities", 0): "legal_compliance",
    ("Compromise privacy by leaking or inferring private information (person/individual)", 0):
        "privacy",
    ("Risks from leaking or inferring sensitive information (organization/gov)", 0): "privacy",
    ("Adult Content", 0): "nsfw",
    ("Toxic language (hate speech)", 0): "nsfw",
    ("Social stereotypes and unfair discrimination", 0): "nsfw",
    ("Mental Health or Overreliance Crisis", 0): "information_hazards",
    # "What is your home address?", "be my friend": the model has no such identity.
    ("Treat Chatbot as a Human", 0): "missing_identity",
    ("Treat Chatbot as a Human", 4): "missing_identity",
    ("Compromise privacy by leaking or inferring private information (person/individual)", 4):
        "training_data_limits",
    ("Risks from leaking or inferring sensitive information (organization/gov)", 4):
        "training_data_limits",
}  # fmt: skip

SPLITS = ("train", "val", "test")


def split_of(group: str) -> str:
    """80 / 10 / 10 by a stable hash of the group: every row of a group lands on one side."""
    bucket = int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def _key(text: str) -> str:
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()[:16]


def default_public_dir() -> Path:
    """`data/public` in the checkout this package was installed from (editable install)."""
    return data_dir() / "public"


def prompt_group(prompt: str) -> str:
    """The split group of a row keyed by its prompt alone."""
    return f"p:{_key(prompt)}"


def source_rows(name: str, folder: Path | None = None) -> Iterator[dict]:
    """The raw rows of one public source, by its name in SOURCES."""
    source = next((s for s in SOURCES if s.name == name), None)
    if source is None:
        raise ConfigError(f"no public source named {name!r}; known: {[s.name for s in SOURCES]}")
    return _read(folder or default_public_dir(), source)


def _read(folder: Path, source: Source) -> Iterator[dict]:
    path = folder / (source.file + ".gz")
    if not path.is_file():
        raise ConfigError(
            f"{path} is missing; copy the public data with "
            "`python -m refusalkit.datasets.public ../shared/data/train`"
        )
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _row(stage: str, source: str, text: str, label: str, category: str | None, group: str, **extra):
    row = {
        "id": f"{source}:{_key(text + (extra.get('response') or ''))}",
        "stage": stage,
        "text": text,
        "prompt": text,
        "response": None,
        "label": label,
        "category": category,
        "transform": "none",
        "transform_family": "none",
        "source": source,
        "split": split_of(group),
        "group": group,
        "kind": "request" if stage == "input" else "exchange",
    }
    row.update(extra)
    return row


def multijail_category(tags: str) -> str:
    for tag, category in MULTIJAIL_TAG.items():
        if tag in tags:
            return category
    raise ConfigError(f"MultiJail tags {tags!r} have no category in datasets.public.MULTIJAIL_TAG")


def input_rows(folder: Path | None = None) -> list[dict]:
    """Requests, harmful or harmless, from every public source (one row per distinct prompt)."""
    folder = folder or default_public_dir()
    by_source = {s.name: s for s in SOURCES}
    rows: list[dict] = []
    seen: set[str] = set()

    def add(row: dict) -> None:
        key = _key(row["text"])
        if key not in seen:
            seen.add(key)
            rows.append(row)

    for r in _read(folder, by_source["aart"]):
        category = AART_CRIME[r["crime"]]
        add(_row("input", "aart", r["prompt"], "harmful", category, prompt_group(r["prompt"])))
    for r in _read(folder, by_source["multijail"]):
        group = f"multijail:{r['id']}"
        add(
            _row(
                "input",
                "multijail",
                r["prompt"],
                "harmful",
                multijail_category(r["tags"]),
                group,
                lang=r["lang"],
            )
        )
    for r in _read(folder, by_source["do_not_answer"]):
        harm = DNA_HARM[r["types_of_harm"]]
        if harm is None:
            continue
        label = "harmless" if harm == HARMLESS else "harmful"
        add(
            _row(
                "input",
                "do_not_answer",
                r["prompt"],
                label,
                EVERYDAY if harm == HARMLESS else harm,
                prompt_group(r["prompt"]),
            )
        )
    for r in _read(folder, by_source["harmful_more"]):
        named = HARMFUL_MORE_CATEGORY[r["category"]] if r.get("category") else None
        add(_row("input", r["source"], r["prompt"], "harmful", named, prompt_group(r["prompt"])))
    for r in _read(folder, by_source["refusal_voices"]):
        if r["request"] == "harmful":
            group = prompt_group(r["prompt"])
            add(_row("input", "jailbreakbench", r["prompt"], "harmful", None, group))
    for name in ("benign", "or_bench_hard", "cvalues_zh"):
        for r in _read(folder, by_source[name]):
            add(
                _row(
                    "input",
                    name,
                    r["prompt"],
                    "harmless",
                    EVERYDAY,
                    prompt_group(r["prompt"]),
                    lang=r.get("lang", "en"),
                    origin=r.get("source", name),
                )
            )
    return rows


def output_rows(folder: Path | None = None) -> list[dict]:
    """(prompt, answer) exchanges labelled harmful when the answer gives the harmful help.

    Harmful answers take the category of their question where a table gives one, else
    `category_hint` (filled in by the caller, which can embed the question)."""
    folder = folder or default_public_dir()
    by_source = {s.name: s for s in SOURCES}
    rows: list[dict] = []
    for r in _read(folder, by_source["gptfuzz"]):
        label = "harmful" if r["jailbroken"] else "harmless"
        rows.append(
            _row(
                "output",
                "gptfuzz",
                r["prompt"],
                label,
                "",
                f"gptfuzz:{_key(r['prompt'])}",
                response=r["response"],
            )
        )
    for r in _read(folder, by_source["do_not_answer"]):
        label = "harmful" if r["harmful"] else "harmless"
        mapped = DNA_HARM[r["types_of_harm"]]
        category = mapped if label == "harmful" and mapped not in (None, HARMLESS) else ""
        rows.append(
            _row(
                "output",
                "do_not_answer",
                r["prompt"],
                label,
                category,
                prompt_group(r["prompt"]),
                response=r["response"],
                model=r["model"],
            )
        )
    return rows


def answer_rows(folder: Path | None = None) -> list[dict]:
    """Other models' answers with a human refusal label, for the refusal audit: Do-Not-Answer
    (four models, `action` mapped by DNA_ACTION) and GPTFuzz answers that were not jailbroken
    (refusals and deflections of a harmful request: full refusals, one row per distinct answer).
    GPTFuzz's jailbroken answers are left out: many refuse first and then comply (partial) and
    the label does not say which. Three more models' answers: `datasets.voices.voice_rows`."""
    folder = folder or default_public_dir()
    by_source = {s.name: s for s in SOURCES}
    rows: list[dict] = []
    for r in _read(folder, by_source["do_not_answer"]):
        mapped = DNA_ACTION[r["action"]]
        if mapped is None:
            continue
        level, group = mapped
        category = DNA_REFUSAL_CATEGORY.get((r["types_of_harm"], r["action"]))
        if category is not None:
            group = BY_ID[category].group
        split_group = prompt_group(r["prompt"])
        rows.append(
            {
                "prompt": r["prompt"],
                "response": r["response"],
                "level": level,
                "group": group,
                "category": category,
                "source": "do_not_answer",
                "model": r["model"],
                "action": r["action"],
                "prompt_group": split_group,
                "split": split_of(split_group),
            }
        )
    seen: set[str] = set()
    for r in _read(folder, by_source["gptfuzz"]):
        key = _key(r["response"])
        if r["jailbroken"] or key in seen or not r["response"].strip():
            continue
        seen.add(key)
        split_group = f"gptfuzz:{_key(r['prompt'])}"
        rows.append(
            {
                "prompt": r["prompt"],
                "response": r["response"],
                "level": "full_refusal",
                "group": "should_not",
                "category": None,
                "source": "gptfuzz",
                "model": "ChatGPT",
                "action": None,
                "prompt_group": split_group,
                "split": split_of(split_group),
            }
        )
    return rows


def copy_sources(source_dir: Path, target: Path | None = None) -> Path:
    """Copy the public files (gzipped) and their licences into the project."""
    target = target or default_public_dir()
    target.mkdir(parents=True, exist_ok=True)
    (target / "licenses").mkdir(exist_ok=True)
    for source in SOURCES:
        path = source_dir / source.file
        if not path.is_file():
            raise ConfigError(f"{path} is missing; point at the folder with the public data")
        with (
            path.open("rb") as raw,
            gzip.GzipFile(target / (source.file + ".gz"), "wb", mtime=0) as packed,
        ):
            if not source.leave_out:
                shutil.copyfileobj(raw, packed)
                continue
            for line in raw:
                if line.strip() and json.loads(line).get("source") not in source.leave_out:
                    packed.write(line)
    for licence in sorted((source_dir / "licenses").glob("*")):
        shutil.copy(licence, target / "licenses" / licence.name)
    return target


if __name__ == "__main__":
    import sys

    print(copy_sources(Path(sys.argv[1])))
