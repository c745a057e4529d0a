"""Trained classifier artifacts: heads, calibration, a card, and the constitution they enforce."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from refusalkit.classifiers.first_stage.encoder import WindowSpec
from refusalkit.classifiers.first_stage.heads import Head, LinearHead, load_head
from refusalkit.constitution import Constitution, load_constitution
from refusalkit.errors import ConfigError, ModelNotFoundError

DEFAULT_DIR = Path(__file__).resolve().parent / "artifacts" / "general"
FILES = ("meta.json", "input_head.npz", "output_head.npz", "calibration.json", "constitution.yaml")


@dataclass
class Thresholds:
    default: float
    per_category: dict[str, float] = field(default_factory=dict)

    def for_category(self, category: str | None) -> float:
        return self.per_category.get(category or "", self.default)


@dataclass
class Calibration:
    target_fpr: float
    input: Thresholds
    output: Thresholds

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        return cls(data["target_fpr"], Thresholds(**data["input"]), Thresholds(**data["output"]))


@dataclass
class Meta:
    constitution: str
    constitution_hash: str
    encoder: str
    input_window: WindowSpec
    output_window: WindowSpec
    check_every: int  # response tokens between streamed checks
    restricted: list[str]
    seed: int
    data: str
    adapter: str | None = None  # LoRA folder of the tuned encoder, inside the artifact dir
    # the output head also reads prompt ⊙ window (encoder.exchange_features); older: False
    exchange_product: bool = False
    input_head: str = "linear"  # or "mlp": one ReLU hidden layer (heads.MlpHead)
    # the windows of a harmful input row the input head learned from: "every" or its "worst"
    input_windows: str = "every"

    @classmethod
    def from_dict(cls, data: dict) -> Meta:
        data = dict(data)
        data["input_window"] = WindowSpec(**data["input_window"])
        data["output_window"] = WindowSpec(**data["output_window"])
        return cls(**data)


@dataclass
class Artifacts:
    directory: Path
    meta: Meta
    input_head: Head  # linear, or one hidden layer (`refusalkit train --input-head mlp`)
    output_head: LinearHead
    calibration: Calibration
    constitution: Constitution

    @classmethod
    def load(cls, directory: Path | str | None = None) -> Artifacts:
        path = Path(directory) if directory else DEFAULT_DIR
        if not path.is_dir():
            raise ModelNotFoundError(
                f"classifier directory {path} does not exist; train one with "
                "`refusalkit train --constitution C --out DIR` or omit --classifiers"
            )
        missing = [name for name in FILES if not (path / name).is_file()]
        if missing:
            raise ModelNotFoundError(
                f"{path} is not a classifier directory (missing {', '.join(missing)}); "
                "point --classifiers at what `refusalkit train` wrote"
            )
        try:
            meta = Meta.from_dict(json.loads((path / "meta.json").read_text()))
            calibration = Calibration.from_dict(json.loads((path / "calibration.json").read_text()))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: corrupt classifier metadata ({exc}); retrain") from None
        return cls(
            path,
            meta,
            load_head(path / "input_head.npz"),
            LinearHead.load(path / "output_head.npz"),
            calibration,
            load_constitution(path / "constitution.yaml"),
        )

    @property
    def adapter_path(self) -> Path | None:
        return self.directory / self.meta.adapter if self.meta.adapter else None

    def save(self, directory: Path, constitution_path: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = asdict(self.meta)
        (directory / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        self.input_head.save(directory / "input_head.npz")
        self.output_head.save(directory / "output_head.npz")
        (directory / "calibration.json").write_text(
            json.dumps(asdict(self.calibration), indent=2) + "\n"
        )
        if constitution_path.resolve() != (directory / "constitution.yaml").resolve():
            shutil.copyfile(constitution_path, directory / "constitution.yaml")
