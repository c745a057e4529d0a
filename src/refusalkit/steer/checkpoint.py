"""Resumable refusal-token training: the trainable weights, optimizer and schedule, and where
the run stands, saved every few batches to OUT/checkpoint and read back by a rerun of the same
command. A Gemma run takes longer than one sitting on two cores (docs/steer.md)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refusalkit.errors import ConfigError

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.pt"
FINGERPRINT_FILE = "run.json"


@dataclass
class Progress:
    """Where a run stands: `done` batches of `epoch`, whose order came from `epoch_rng`."""

    epoch: int = 0
    done: int = 0
    epoch_rng: Any = None  # random.Random state at the start of `epoch`
    seconds: float = 0.0  # training time spent before this sitting


def save_checkpoint(out: Path, fingerprint: dict, model, optimizer, scheduler, at: Progress):
    import torch

    folder = out / CHECKPOINT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        "trainable": {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "progress": at.__dict__,
        "torch_rng": torch.get_rng_state(),
    }
    # the fingerprint first: a state file never stands without the settings it belongs to
    (folder / FINGERPRINT_FILE).write_text(json.dumps(fingerprint, indent=2) + "\n")
    partial = folder / (STATE_FILE + ".partial")
    torch.save(state, partial)
    os.replace(partial, folder / STATE_FILE)  # a run stopped mid-save keeps the last whole one


def load_checkpoint(
    out: Path, fingerprint: dict, model, optimizer, scheduler, defaults: dict | None = None
) -> Progress | None:
    """The saved progress, with weights, optimizer and schedule restored; None if none saved.
    A setting the checkpoint does not name is taken at its value in `defaults`."""
    import torch

    folder = out / CHECKPOINT_DIR
    if not (folder / STATE_FILE).is_file():
        return None
    saved = json.loads((folder / FINGERPRINT_FILE).read_text())
    saved = {**(defaults or {}), **saved}
    changed = sorted(
        k for k in fingerprint.keys() | saved.keys() if fingerprint.get(k) != saved.get(k)
    )
    if changed:
        raise ConfigError(
            f"{folder} holds a run with other settings ({', '.join(changed)} differ); rerun "
            "with the same options and data to resume it, or delete that folder to start over"
        )
    state = torch.load(folder / STATE_FILE, weights_only=False)
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state["trainable"].items():
            parameters[name].copy_(value)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    return Progress(**state["progress"])  # pickled: the RNG state keeps its tuples


def drop_checkpoint(out: Path) -> None:
    shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
