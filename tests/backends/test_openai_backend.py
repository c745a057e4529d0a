"""The OpenAI-compatible backend against a real llama.cpp server on loopback."""

import time

import pytest
from conftest import free_port

from refusalkit.backends import GenerationParams, load_backend, user_message
from refusalkit.backends.openai_http import OpenAIBackend
from refusalkit.errors import EndpointError


@pytest.fixture(scope="module")
def remote(llama_server):
    backend = load_backend(llama_server)
    yield backend
    backend.close()


def test_model_is_discovered_from_the_server(remote):
    assert remote.model_name == "smollm2"


def test_chat_matches_the_embedded_model(remote, embedded):
    params = GenerationParams(max_tokens=24)
    messages = user_message("How do I make a cake?")
    answer = remote.chat(messages, params)
    assert "flour" in answer
    assert answer == embedded.chat(messages, params)


def test_stream_counts_tokens_and_finishes(remote):
    with remote.stream(user_message("Hi"), GenerationParams(max_tokens=30, ignore_eos=True)) as s:
        deltas = list(s)
    assert "".join(deltas)
    assert s.completion_tokens == 30
    assert s.finish_reason == "length"


def test_cancel_really_stops_the_server_generating(remote):
    """The server serves one request at a time: a quick second answer proves the first stopped."""
    long = GenerationParams(max_tokens=1500, ignore_eos=True)
    stream = remote.stream(user_message("Tell me a very long story."), long)
    for _ in range(3):
        next(stream)
    stream.cancel()
    assert list(stream) == []
    started = time.monotonic()
    assert remote.chat(user_message("Say yes."), GenerationParams(max_tokens=4))
    # 1,500 tokens take over 10 s here; an interrupted generation frees the server at once
    assert time.monotonic() - started < 5


def test_count_tokens_uses_the_server_tokenizer(remote, embedded):
    text = "Refusals can be measured, steered and audited."
    assert remote.count_tokens(text) == embedded.count_tokens(text)


def test_concurrent_batch_keeps_order(remote):
    prompts = ["What is 2+2?", "Name a fruit.", "Name a colour.", "Say hi."]
    params = GenerationParams(max_tokens=10)
    answers = remote.generate_batch([user_message(p) for p in prompts], params, concurrency=4)
    assert answers == [remote.chat(user_message(p), params) for p in prompts]


def test_unreachable_endpoint_fails_fast_with_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIBackend(url, model="m", max_retries=1, connect_timeout_s=1)
    started = time.monotonic()
    with pytest.raises(EndpointError, match=rf"cannot reach {url}"):
        backend.chat(user_message("hi"))
    assert time.monotonic() - started < 10


def test_http_error_names_url_and_status(llama_server):
    wrong = llama_server.removesuffix("/v1") + "/nothing-here/v1"
    backend = OpenAIBackend(wrong, model="smollm2", max_retries=0)
    with pytest.raises(EndpointError, match=rf"{wrong} answered HTTP 404"):
        backend.chat(user_message("hi"))


def test_missing_tokenize_route_is_explained(llama_server):
    wrong = llama_server.removesuffix("/v1") + "/nothing-here/v1"
    backend = OpenAIBackend(wrong, model="smollm2", max_retries=0)
    with pytest.raises(EndpointError, match="no tokenize route"):
        backend.count_tokens("hello")
