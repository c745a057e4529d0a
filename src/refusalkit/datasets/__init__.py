"""Shared data, one home: evaluation sets (`eval_sets`), the public training rows (`public`) and
the hand-written refusal voices that audit and steer both compose answers from (`refusal_seeds`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.datasets.eval_sets import coconot as coconot
    from refusalkit.datasets.eval_sets import coconot_by_category as coconot_by_category
    from refusalkit.datasets.eval_sets import default_data_dir as default_data_dir
    from refusalkit.datasets.eval_sets import xstest_completions as xstest_completions
    from refusalkit.datasets.eval_sets import xstest_prompts as xstest_prompts
    from refusalkit.datasets.public import answer_rows as answer_rows
    from refusalkit.datasets.public import default_public_dir as default_public_dir
    from refusalkit.datasets.public import input_rows as input_rows
    from refusalkit.datasets.public import output_rows as output_rows
    from refusalkit.datasets.public import prompt_group as prompt_group
    from refusalkit.datasets.public import split_of as split_of
    from refusalkit.datasets.refusal_seeds import held_out as held_out
    from refusalkit.datasets.selfaware import selfaware_rows as selfaware_rows
    from refusalkit.datasets.voices import voice_rows as voice_rows

_FACE = {
    "coconot": "refusalkit.datasets.eval_sets",
    "coconot_by_category": "refusalkit.datasets.eval_sets",
    "default_data_dir": "refusalkit.datasets.eval_sets",
    "xstest_completions": "refusalkit.datasets.eval_sets",
    "xstest_prompts": "refusalkit.datasets.eval_sets",
    "answer_rows": "refusalkit.datasets.public",
    "default_public_dir": "refusalkit.datasets.public",
    "input_rows": "refusalkit.datasets.public",
    "output_rows": "refusalkit.datasets.public",
    "prompt_group": "refusalkit.datasets.public",
    "split_of": "refusalkit.datasets.public",
    "held_out": "refusalkit.datasets.refusal_seeds",
    "selfaware_rows": "refusalkit.datasets.selfaware",
    "voice_rows": "refusalkit.datasets.voices",
}
__all__ = sorted(_FACE)
__getattr__ = lazy_face(__name__, _FACE)
