"""The encoder every head reads (all-MiniLM-L6-v2 with the artifact's adapter, int8 ONNX), its
token windows and de-obfuscated views, and the linear heads: the input classifier's first stage
and the streaming output classifier's head."""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.classifiers.first_stage.encoder import TextEncoder as TextEncoder
    from refusalkit.classifiers.first_stage.heads import fit_streaming as fit_streaming

_FACE = {
    "TextEncoder": "refusalkit.classifiers.first_stage.encoder",
    "fit_streaming": "refusalkit.classifiers.first_stage.heads",
}
__all__ = sorted(_FACE)
__getattr__ = lazy_face(__name__, _FACE)
