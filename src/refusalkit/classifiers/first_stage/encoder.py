"""The frozen sentence encoder under every classifier head, with token windows.

sentence-transformers truncates long texts; a jailbreak's payload often sits last, after
thousands of tokens. So texts are cut into overlapping token windows here and each window is
embedded (mean pooling + L2 norm, as all-MiniLM-L6-v2 was trained) by an int8 ONNX graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from refusalkit.classifiers.first_stage.normalize import views
from refusalkit.classifiers.first_stage.sessions import EncoderSessions
from refusalkit.config import load_settings
from refusalkit.weights import encoder_onnx_path, encoder_path


@dataclass(frozen=True)
class WindowSpec:
    size: int = 128  # word pieces per window, special tokens excluded
    stride: int = 96


class TextEncoder:
    """Tokenise with the model's tokenizer; embed with the int8 ONNX graph (weights.py)."""

    def __init__(
        self,
        threads: int | None = None,
        cache_dir: Path | None = None,
        adapter: Path | None = None,
    ) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(encoder_path(), local_files_only=True)
        self.adapter = adapter
        self.onnx_path = encoder_onnx_path(cache_dir or load_settings().cache_dir, adapter)
        self.sessions = EncoderSessions(self.onnx_path, threads)
        self.dim = self.sessions.dim
        self._cls = self.tokenizer.cls_token_id
        self._sep = self.tokenizer.sep_token_id

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]

    def passage(self, text: str, start: int, size: int) -> str:
        """The characters of `text` that tokens [start, start + size) came from."""
        encoded = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        offsets = encoded["offset_mapping"]
        end = min(start + size, len(offsets)) - 1
        return text[offsets[start][0] : offsets[end][1]] if offsets else text

    def embed_ids(self, batch: Sequence[Sequence[int]]) -> np.ndarray:
        """Mean-pooled, normalised embeddings of pre-tokenised windows, one window a run.

        Dynamic int8 quantisation scales activations per tensor, so a window embedded beside
        others (and their padding) would come out slightly different. One at a time, a window
        always gets the same vector, in training and at run time alike (several windows run
        side by side, each in its own run).
        """
        out = np.zeros((len(batch), self.dim), dtype=np.float32)
        feeds = []
        for window in batch:
            ids = np.array([[self._cls, *window, self._sep]], dtype=np.int64)
            feeds.append({"input_ids": ids, "attention_mask": np.ones_like(ids)})
        for index, vectors in enumerate(self.sessions.run_all(feeds)):
            out[index] = vectors[0]
        return out

    def embed(self, texts: Sequence[str], spec: WindowSpec | None = None) -> np.ndarray:
        """One embedding per text, from its first window only (short texts)."""
        spec = spec or WindowSpec()
        return self.embed_ids([self.token_ids(t)[: spec.size] for t in texts])


# Training and run time cut texts the same way: these three functions are the only definition.


def window_starts(length: int, spec: WindowSpec) -> list[int]:
    if length <= spec.size:
        return [0]
    starts = list(range(0, length - spec.size + 1, spec.stride))
    if starts[-1] + spec.size < length:
        starts.append(length - spec.size)  # the tail, where payloads hide, always gets one
    return starts


@dataclass
class InputWindows:
    """Every window of every de-obfuscated view of an input, and where each came from."""

    views: list[str]
    windows: list[list[int]]
    view_of: list[int]  # windows[i] was cut from views[view_of[i]] ...
    start_of: list[int]  # ... starting at this token

    def is_cut(self, index: int) -> bool:
        """Whether window `index` is one of several cut from its view."""
        return self.view_of.count(self.view_of[index]) > 1

    def passage(self, encoder: TextEncoder, index: int) -> str:
        """The text of window `index`: its whole view when the view is one window, else the
        window's own characters (tokenised again for their offsets)."""
        view = self.views[self.view_of[index]]
        if not self.is_cut(index):
            return view
        return encoder.passage(view, self.start_of[index], len(self.windows[index]))


def input_view_windows(encoder: TextEncoder, text: str, spec: WindowSpec) -> InputWindows:
    cut = InputWindows(views(text), [], [], [])
    for index, view in enumerate(cut.views):
        ids = encoder.token_ids(view)
        starts = window_starts(len(ids), spec)
        cut.windows += [list(ids[s : s + spec.size]) for s in starts]
        cut.view_of += [index] * len(starts)
        cut.start_of += starts
    return cut


def input_windows(encoder: TextEncoder, text: str, spec: WindowSpec) -> list[list[int]]:
    """Every window of every de-obfuscated view of an input."""
    return input_view_windows(encoder, text, spec).windows


def prompt_window(encoder: TextEncoder, prompt: str, size: int) -> list[int]:
    """The prompt's last window: the context every response window is read in."""
    return encoder.token_ids(prompt)[-size:]


def stream_windows(ids: Sequence[int], check_every: int, size: int) -> list[list[int]]:
    """The response windows a stream is checked on: the last `size` tokens every `check_every`."""
    ends = list(range(check_every, len(ids), check_every)) + [len(ids)]
    return [list(ids[max(0, end - size) : end]) for end in ends]


# The output head reads [prompt, window, PRODUCT_SCALE * prompt ⊙ window]: the product lets a
# linear head weigh what an answer says by what was asked (a harmful exchange is a harmful
# request *and* a compliant answer), which [prompt, window] alone cannot express.
PRODUCT_SCALE = 10.0


def exchange_features(
    prompt_vector: np.ndarray, window_vectors: np.ndarray, with_product: bool
) -> np.ndarray:
    prompts = np.repeat(prompt_vector[None, :], len(window_vectors), axis=0)
    parts = [prompts, window_vectors]
    if with_product:
        parts.append(PRODUCT_SCALE * prompts * window_vectors)
    return np.concatenate(parts, axis=1)
