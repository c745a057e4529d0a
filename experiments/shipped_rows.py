"""The rows `refusalkit train` reads for the shipped (general) classifiers: the synthetic splits
of data/synth-general with the public rows of each split added (`train.splits_with_public`)."""

from pathlib import Path

from refusalkit.classifiers import ConstitutionalClassifiers
from refusalkit.classifiers.training import TrainOptions, public_rows, splits_with_public
from refusalkit.datasets import default_public_dir
from refusalkit.synth import carry_outs_file

ROOT = Path(__file__).resolve().parents[1]


def shipped_splits(
    classifiers: ConstitutionalClassifiers,
) -> tuple[dict[str, list[dict]], TrainOptions]:
    options = TrainOptions("general", ROOT / "data" / "synth-general", ROOT)
    options.public = default_public_dir()
    options.carry_outs = carry_outs_file()  # as `refusalkit train` does by default
    public = public_rows(options, classifiers.encoder, classifiers.artifacts.constitution)
    return splits_with_public(options, public), options
