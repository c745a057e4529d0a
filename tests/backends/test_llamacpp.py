import threading
import time

import pytest

from refusalkit.backends import GenerationParams, user_message, validate_messages
from refusalkit.errors import InvalidInputError

LONG = GenerationParams(max_tokens=1500, ignore_eos=True)


def test_chat_is_deterministic_when_greedy(embedded):
    params = GenerationParams(max_tokens=24)
    first = embedded.chat(user_message("How do I make a cake?"), params)
    second = embedded.chat(user_message("How do I make a cake?"), params)
    assert first.strip()
    assert first == second
    assert "flour" in first


def test_stream_deltas_join_to_the_chat_answer(embedded):
    params = GenerationParams(max_tokens=20)
    messages = user_message("Name three colours.")
    with embedded.stream(messages, params) as stream:
        deltas = list(stream)
    assert len(deltas) > 1
    assert "".join(deltas) == embedded.chat(messages, params)
    assert stream.finish_reason in {"stop", "length"}
    assert stream.completion_tokens == len(deltas)


def test_ignore_eos_generates_exactly_max_tokens(embedded):
    with embedded.stream(user_message("Hi"), GenerationParams(max_tokens=40, ignore_eos=True)) as s:
        s.text()
    assert s.completion_tokens == 40
    assert s.finish_reason == "length"


def test_cancel_stops_generation(embedded):
    stream = embedded.stream(user_message("Tell me a very long story."), LONG)
    for _ in range(3):
        next(stream)
    context_after_three = embedded.llama.n_tokens
    stream.cancel()
    assert stream.cancelled and stream.finish_reason == "cancelled"
    assert list(stream) == []
    assert stream.completion_tokens == 3
    assert embedded.llama.n_tokens == context_after_three  # the decode loop is gone
    # the lock is free again: a new request runs at once
    assert embedded.chat(user_message("Say yes."), GenerationParams(max_tokens=4))


def test_cancel_from_another_thread(embedded):
    stream = embedded.stream(user_message("Tell me a very long story."), LONG)
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(stream))
    started = time.monotonic()
    reader.start()
    while len(seen) < 5:
        time.sleep(0.01)
    stream.cancel()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert time.monotonic() - started < 10  # 1,500 tokens would take far longer
    assert stream.completion_tokens < 100


def test_count_tokens(embedded):
    assert embedded.count_tokens("") == 0
    short = embedded.count_tokens("hello")
    longer = embedded.count_tokens("hello there, how are you doing today?")
    assert 0 < short < longer


def test_generate_batch_keeps_order(embedded):
    prompts = ["What is 2+2?", "What colour is the sky?", "Name a fruit."]
    params = GenerationParams(max_tokens=12)
    batch = embedded.generate_batch([user_message(p) for p in prompts], params, concurrency=3)
    assert batch == [embedded.chat(user_message(p), params) for p in prompts]


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], "messages are empty"),
        ([{"role": "user", "content": "   "}], "prompt is empty"),
        ([{"role": "robot", "content": "hi"}], "role 'robot'"),
        ([{"role": "user"}], "needs 'role' and 'content'"),
        ([{"role": "user", "content": "hi"}, {"role": "system", "content": "x"}], "last"),
    ],
)
def test_bad_messages_are_rejected(embedded, messages, message):
    with pytest.raises(InvalidInputError, match=message):
        embedded.stream(messages)


def test_a_judge_may_end_with_the_assistant_turn_a_chat_may_not(embedded):
    judged = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]
    assert isinstance(embedded.chat(judged, GenerationParams(max_tokens=4)), str)
    with pytest.raises(InvalidInputError, match="last message must come from the user"):
        validate_messages(judged)  # what the server and the guard check


def test_bad_params_are_rejected():
    with pytest.raises(InvalidInputError, match="max_tokens"):
        GenerationParams(max_tokens=0)
    with pytest.raises(InvalidInputError, match="temperature"):
        GenerationParams(temperature=5)
