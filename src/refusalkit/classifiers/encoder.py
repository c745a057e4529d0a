"""The frozen sentence encoder under every classifier head, with token windows.

sentence-transformers truncates long texts; a jailbreak's payload often sits last, after
thousands of tokens. So texts are cut into overlapping token windows here and each window is
embedded (mean pooling + L2 norm, as all-MiniLM-L6-v2 was trained).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class WindowSpec:
    size: int = 128  # word pieces per window, special tokens excluded
    stride: int = 96


class TextEncoder:
    def __init__(self, path: Path | None = None, threads: int | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from refusalkit.models import encoder_path

        self.path = path or encoder_path()
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.path, local_files_only=True).eval()
        self.dim = int(self.model.config.hidden_size)
        self._torch = torch
        self._lock = threading.Lock()
        if threads:
            torch.set_num_threads(threads)

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]

    def windows(self, ids: Sequence[int], spec: WindowSpec) -> list[list[int]]:
        if len(ids) <= spec.size:
            return [list(ids)]
        starts = list(range(0, len(ids) - spec.size + 1, spec.stride))
        if starts[-1] + spec.size < len(ids):
            starts.append(len(ids) - spec.size)  # the tail, where payloads hide, always gets one
        return [list(ids[s : s + spec.size]) for s in starts]

    def embed_ids(self, batch: Sequence[Sequence[int]], batch_size: int = 32) -> np.ndarray:
        """Mean-pooled, normalised embeddings of pre-tokenised windows."""
        torch = self._torch
        cls_id, sep_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        out = np.zeros((len(batch), self.dim), dtype=np.float32)
        order = sorted(range(len(batch)), key=lambda i: len(batch[i]))  # less padding
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            longest = max(len(batch[i]) for i in chunk) + 2
            ids = torch.zeros((len(chunk), longest), dtype=torch.long)
            mask = torch.zeros((len(chunk), longest), dtype=torch.long)
            for row, index in enumerate(chunk):
                sequence = [cls_id, *batch[index], sep_id]
                ids[row, : len(sequence)] = torch.tensor(sequence)
                mask[row, : len(sequence)] = 1
            with self._lock, torch.inference_mode():
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).float()
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out[chunk] = pooled.numpy()
        return out

    def embed(self, texts: Sequence[str], spec: WindowSpec | None = None) -> np.ndarray:
        """One embedding per text, from its first window only (short texts)."""
        spec = spec or WindowSpec()
        return self.embed_ids([self.token_ids(t)[: spec.size] for t in texts])
