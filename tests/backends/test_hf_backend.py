"""The transformers backend on the embedded weights, converted from the GGUF and cached."""

import numpy as np
import pytest

from refusalkit.backends import GenerationParams, load_backend, user_message
from refusalkit.config import load_settings
from refusalkit.weights import embedded_gguf_path, embedded_hf_path


@pytest.fixture(scope="module")
def hf_dir():
    return embedded_hf_path(load_settings().cache_dir)


@pytest.fixture(scope="module")
def hf_backend(hf_dir):
    backend = load_backend("hf:embedded")
    yield backend
    backend.close()


def test_conversion_is_cached(hf_dir):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"):
        assert (hf_dir / name).is_file(), name
    stamp = (hf_dir / "model.safetensors").stat().st_mtime_ns
    assert embedded_hf_path(load_settings().cache_dir) == hf_dir
    assert (hf_dir / "model.safetensors").stat().st_mtime_ns == stamp


def test_converted_weights_match_llama_cpp(hf_backend):
    """Same model, two runtimes: next-token logits agree up to Q4/Q8 rounding."""
    import torch

    from refusalkit.backends.llama_cpu import open_llama

    ids = hf_backend.tokenizer.apply_chat_template(
        user_message("How do I make a cake?"), add_generation_prompt=True, return_dict=True
    )["input_ids"]
    llm = open_llama(embedded_gguf_path(), n_ctx=512, logits_all=True, verbose=False)
    llm.eval(ids)
    llama_logits = np.array(llm.scores[len(ids) - 1])
    llm.close()
    with torch.no_grad():
        hf_logits = hf_backend.model(torch.tensor([ids])).logits[0, -1].numpy()
    assert np.corrcoef(llama_logits, hf_logits)[0, 1] > 0.99
    top_llama = set(np.argsort(-llama_logits)[:5].tolist())
    top_hf = set(np.argsort(-hf_logits)[:5].tolist())
    assert len(top_llama & top_hf) >= 4


def test_chat_answers(hf_backend):
    answer = hf_backend.chat(user_message("What is the capital of France?"), GenerationParams(12))
    assert "Paris" in answer


def test_stream_and_cancel(hf_backend):
    long = GenerationParams(max_tokens=400, ignore_eos=True)
    stream = hf_backend.stream(user_message("Tell me a very long story."), long)
    for _ in range(3):
        next(stream)
    stream.cancel()
    assert list(stream) == []
    assert stream.finish_reason == "cancelled"
    assert stream.completion_tokens < 40  # stopped within a few tokens, not at 400


def test_ignore_eos_and_count(hf_backend):
    with hf_backend.stream(user_message("Hi"), GenerationParams(12, ignore_eos=True)) as stream:
        assert stream.text()
    assert stream.completion_tokens == 12
    assert hf_backend.count_tokens("hello there") == 2


def test_generate_batch_matches_single_answers(hf_backend):
    prompts = ["What is the capital of France?", "Name a fruit."]
    params = GenerationParams(max_tokens=10)
    batch = hf_backend.generate_batch([user_message(p) for p in prompts], params, batch_size=2)
    assert len(batch) == 2
    assert batch[0] == hf_backend.chat(user_message(prompts[0]), params)
