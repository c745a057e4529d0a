"""all-MiniLM-L6-v2 as the audit reads it: word pieces through `tokenizers`, vectors from the
int8 ONNX graph of the encoder with an adapter merged in."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from refusalkit.config import load_settings
from refusalkit.errors import ModelNotFoundError
from refusalkit.weights import encoder_onnx_path, encoder_path

BATCH = 64


class WordPieces:
    """The encoder's tokenizer through `tokenizers` alone: loading it through transformers'
    AutoTokenizer costs ~2.7 s of start-up, over a quarter of a 2,250-row audit."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        self.backend = Tokenizer.from_file(str(encoder_path() / "tokenizer.json"))
        self.backend.no_truncation()  # the file truncates to 128; the closing window needs the end
        self.backend.no_padding()
        self.cls_token_id = self._special("[CLS]")
        self.sep_token_id = self._special("[SEP]")

    def _special(self, token: str) -> int:
        found = self.backend.token_to_id(token)
        if found is None:
            raise ModelNotFoundError(f"the encoder's tokenizer.json has no {token} token")
        return found

    def __call__(
        self, texts: list[str], add_special_tokens: bool = False, verbose: bool = False
    ) -> dict[str, list[list[int]]]:
        encodings = self.backend.encode_batch(texts, add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in encodings]}


def encoder_tokenizer() -> WordPieces:
    return WordPieces()


def token_ids(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    return tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]


class BatchEncoder:
    """The int8 ONNX encoder run on padded batches of similar length.

    Dynamic int8 quantisation makes a vector depend slightly on its batch; batches are formed
    from each call's rows alone, so the same rows in the same call give the same vectors."""

    def __init__(self, adapter: Path | None, threads: int | None = None) -> None:
        import os

        import onnxruntime

        self.tokenizer: Any = encoder_tokenizer()  # a BERT tokenizer: [CLS] and [SEP] exist
        path = encoder_onnx_path(load_settings().cache_dir, adapter)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self.dim = 384

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return token_ids(self.tokenizer, texts)

    def embed(self, windows: Sequence[Sequence[int]]) -> np.ndarray:
        out = np.zeros((len(windows), self.dim), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            longest = max(len(windows[i]) for i in chunk) + 2
            ids = np.zeros((len(chunk), longest), dtype=np.int64)
            mask = np.zeros((len(chunk), longest), dtype=np.int64)
            for row, index in enumerate(chunk):
                tokens = [cls, *windows[index], sep]
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            vectors = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            out[chunk] = vectors
        return out
