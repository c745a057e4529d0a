"""Any local Hugging Face causal LM directory, on CPU or CUDA (PyTorch)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from refusalkit.backends.base import (
    LOCAL_REPEAT_PENALTY,
    Backend,
    GenerationParams,
    Message,
    TextStream,
    validate_messages,
)
from refusalkit.backends.registry import local_path
from refusalkit.config import Settings
from refusalkit.errors import ModelNotFoundError
from refusalkit.weights import embedded_hf_path


def pick_device(device: str | None = None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def stream_generate(
    stream: TextStream,
    model: Any,
    tokenizer: Any,
    inputs: Any,
    generate_kwargs: dict[str, Any],
    seed: int | None = None,
) -> Iterator[str]:
    """`model.generate` on a worker thread, its text yielded as it decodes.

    `stream.cancel()` stops the decode loop at the next token; a failure inside generation is
    raised here, in the reading thread (else the reader would wait on the streamer forever).
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    class _Cancel(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            stream.completion_tokens += 1
            return torch.full((input_ids.shape[0],), stream.cancelled, dtype=torch.bool)

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    eos = generate_kwargs.get("eos_token_id", tokenizer.eos_token_id)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            if seed is not None:
                torch.manual_seed(seed)
            with torch.inference_mode():
                out = model.generate(
                    **inputs,
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_Cancel()]),
                    **generate_kwargs,
                )
            if stream.finish_reason is None:
                stream.finish_reason = "stop" if int(out[0, -1]) == eos else "length"
        except BaseException as exc:  # surfaced in the reading thread below
            failure.append(exc)
            streamer.end()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        for delta in streamer:
            if delta:
                yield delta
    except GeneratorExit:  # the reader left early: stop the decode loop too
        stream.cancel_requested.set()
        raise
    finally:
        worker.join()
    if failure:
        raise failure[0]


class TransformersBackend(Backend):
    """A model directory with config.json and weights, loaded with transformers."""

    default_concurrency = 1

    def __init__(self, model_dir: Path, spec: str | None = None, device: str | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not (model_dir / "config.json").is_file():
            raise ModelNotFoundError(
                f"{model_dir} is not a Hugging Face model directory (no config.json); "
                "give the folder that save_pretrained wrote"
            )
        self.spec = spec or f"hf:{model_dir}"
        self.path = model_dir
        self.device = pick_device(device)
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        # transformers objects are typed loosely here: their stubs do not follow chat templates
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        model: Any = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=dtype, local_files_only=True
        )
        self.model: Any = model.to(self.device)
        self.model.eval()
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.path.name

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _encode(self, messages: list[Message]) -> Any:
        return self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.device)

    def _generate_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_tokens,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            "repetition_penalty": params.repeat_penalty or LOCAL_REPEAT_PENALTY,
        }
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if params.ignore_eos:
            kwargs["min_new_tokens"] = params.max_tokens
        if params.stop:
            kwargs.update(stop_strings=params.stop, tokenizer=self.tokenizer)
        return kwargs

    def stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> TextStream:
        checked = validate_messages(messages, judged_turn=True)
        params = params or GenerationParams()

        def produce(stream: TextStream) -> Iterator[str]:
            with self._lock:
                yield from stream_generate(
                    stream,
                    self.model,
                    self.tokenizer,
                    self._encode(checked),
                    self._generate_kwargs(params),
                    params.seed,
                )

        return TextStream(produce)

    def generate_batch(
        self,
        conversations: Sequence[Sequence[Message]],
        params: GenerationParams | None = None,
        concurrency: int | None = None,
        progress: bool = False,
        batch_size: int = 8,
    ) -> list[str]:
        """Padded batches through one generate call each: far faster than one at a time."""
        import torch
        from tqdm.auto import tqdm

        params = params or GenerationParams()
        checked = [validate_messages(c, judged_turn=True) for c in conversations]
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        results: list[str] = []
        bar = tqdm(total=len(checked), desc="generating", disable=not progress, unit="req")
        for start in range(0, len(checked), batch_size):
            chunk = checked[start : start + batch_size]
            texts = [
                self.tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False)
                for c in chunk
            ]
            inputs = self.tokenizer(
                texts, return_tensors="pt", padding=True, add_special_tokens=False
            ).to(self.device)
            if params.seed is not None:
                torch.manual_seed(params.seed + start)
            with self._lock, torch.inference_mode():
                out = self.model.generate(**inputs, **self._generate_kwargs(params))
            new_tokens = out[:, inputs["input_ids"].shape[1] :]
            results.extend(self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
            bar.update(len(chunk))
        bar.close()
        return results

    def close(self) -> None:
        del self.model


def from_spec(spec: str, argument: str, settings: Settings) -> TransformersBackend:
    """`hf:/path/to/model`, or `hf:embedded` (the embedded model converted once)."""
    if argument == "embedded":
        path = embedded_hf_path(settings.cache_dir)
    else:
        path = local_path(spec, argument)
    return TransformersBackend(path, spec=spec, device=settings.device)
