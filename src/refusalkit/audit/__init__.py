"""The refusal audit: does a response refuse, how fully, and why (a taxonomy category)?

from refusalkit.audit import RefusalClassifier
RefusalClassifier().classify(["Draw me a cat."], ["I can't create images."])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.audit.classifier import AuditResult as AuditResult
    from refusalkit.audit.classifier import RefusalClassifier as RefusalClassifier
    from refusalkit.audit.classifier import features as features
    from refusalkit.audit.classifier import level_features as level_features
    from refusalkit.audit.classifier import refusal_levels as refusal_levels
    from refusalkit.audit.classifier import response_features as response_features
    from refusalkit.audit.data import LEVELS as LEVELS
    from refusalkit.audit.data import AuditExample as AuditExample
    from refusalkit.audit.data import Level as Level
    from refusalkit.audit.data import public_examples as public_examples
    from refusalkit.audit.encoder import BatchEncoder as BatchEncoder
    from refusalkit.audit.encoder import WordPieces as WordPieces
    from refusalkit.audit.encoder import encoder_tokenizer as encoder_tokenizer
    from refusalkit.audit.encoder import token_ids as token_ids
    from refusalkit.audit.heads import HeadRows as HeadRows
    from refusalkit.audit.heads import fit_level_head as fit_level_head
    from refusalkit.audit.heads import head_rows as head_rows
    from refusalkit.audit.model_audit import audit_model as audit_model
    from refusalkit.audit.model_audit import load_prompts as load_prompts
    from refusalkit.audit.run import AuditOptions as AuditOptions
    from refusalkit.audit.run import AuditSummary as AuditSummary
    from refusalkit.audit.run import run_audit as run_audit
    from refusalkit.audit.train import DNA_MODELS as DNA_MODELS
    from refusalkit.audit.train import MODEL_FAMILY as MODEL_FAMILY
    from refusalkit.audit.train import AuditTrainOptions as AuditTrainOptions
    from refusalkit.audit.train import binary_accuracy as binary_accuracy
    from refusalkit.audit.train import composed_examples as composed_examples
    from refusalkit.audit.train import leave_one_model_out as leave_one_model_out
    from refusalkit.audit.train import synth_rows as synth_rows
    from refusalkit.audit.train import train_audit as train_audit

_FACE = {
    "AuditResult": "refusalkit.audit.classifier",
    "RefusalClassifier": "refusalkit.audit.classifier",
    "features": "refusalkit.audit.classifier",
    "level_features": "refusalkit.audit.classifier",
    "refusal_levels": "refusalkit.audit.classifier",
    "response_features": "refusalkit.audit.classifier",
    "AuditExample": "refusalkit.audit.data",
    "LEVELS": "refusalkit.audit.data",
    "Level": "refusalkit.audit.data",
    "public_examples": "refusalkit.audit.data",
    "BatchEncoder": "refusalkit.audit.encoder",
    "WordPieces": "refusalkit.audit.encoder",
    "encoder_tokenizer": "refusalkit.audit.encoder",
    "token_ids": "refusalkit.audit.encoder",
    "HeadRows": "refusalkit.audit.heads",
    "fit_level_head": "refusalkit.audit.heads",
    "head_rows": "refusalkit.audit.heads",
    "audit_model": "refusalkit.audit.model_audit",
    "load_prompts": "refusalkit.audit.model_audit",
    "AuditOptions": "refusalkit.audit.run",
    "AuditSummary": "refusalkit.audit.run",
    "run_audit": "refusalkit.audit.run",
    "AuditTrainOptions": "refusalkit.audit.train",
    "DNA_MODELS": "refusalkit.audit.train",
    "MODEL_FAMILY": "refusalkit.audit.train",
    "binary_accuracy": "refusalkit.audit.train",
    "composed_examples": "refusalkit.audit.train",
    "leave_one_model_out": "refusalkit.audit.train",
    "synth_rows": "refusalkit.audit.train",
    "train_audit": "refusalkit.audit.train",
}
__all__ = sorted(_FACE)
__getattr__ = lazy_face(__name__, _FACE)
