"""Package faces: `from refusalkit.audit import RefusalClassifier` and the like work, and
importing a package does not load what its face names until it is used."""

import importlib
import subprocess
import sys

import pytest

import refusalkit.audit
import refusalkit.classifiers.exchange_reader
import refusalkit.classifiers.first_stage
import refusalkit.classifiers.second_stage
import refusalkit.classifiers.training
import refusalkit.datasets
import refusalkit.evals
import refusalkit.guard
import refusalkit.steer


@pytest.mark.parametrize(
    "package",
    [
        refusalkit.audit,
        refusalkit.evals,
        refusalkit.steer,
        refusalkit.datasets,
        refusalkit.classifiers.training,
        refusalkit.classifiers.first_stage,
        refusalkit.classifiers.second_stage,
        refusalkit.classifiers.exchange_reader,
    ],
)
def test_every_name_a_face_exports_resolves(package):
    assert package.__all__
    for name in package.__all__:
        home = importlib.import_module(package._FACE[name])
        assert getattr(package, name) is getattr(home, name)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # noqa: B018


def test_importing_the_faces_loads_no_model_library():
    code = (
        "import sys, refusalkit.audit, refusalkit.evals, refusalkit.steer, refusalkit.guard; "
        "print(sorted(m for m in ('torch', 'ray', 'onnxruntime', 'transformers') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert {"Guard", "GuardModel", "load_guard_model"} <= set(refusalkit.guard.__all__)
