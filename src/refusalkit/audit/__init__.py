"""The refusal audit: does a response refuse, how fully, and why (a taxonomy category)?

from refusalkit.audit import RefusalClassifier
RefusalClassifier().classify(["Draw me a cat."], ["I can't create images."])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.audit.classifier import (
        AuditResult as AuditResult,
    )
    from refusalkit.audit.classifier import (
        RefusalClassifier as RefusalClassifier,
    )
    from refusalkit.audit.model_audit import (
        audit_model as audit_model,
    )
    from refusalkit.audit.model_audit import (
        load_prompts as load_prompts,
    )
    from refusalkit.audit.run import (
        AuditOptions as AuditOptions,
    )
    from refusalkit.audit.run import (
        AuditSummary as AuditSummary,
    )
    from refusalkit.audit.run import (
        run_audit as run_audit,
    )
    from refusalkit.audit.train import (
        AuditTrainOptions as AuditTrainOptions,
    )
    from refusalkit.audit.train import (
        train_audit as train_audit,
    )

_FACE = {
    "AuditResult": "refusalkit.audit.classifier",
    "RefusalClassifier": "refusalkit.audit.classifier",
    "audit_model": "refusalkit.audit.model_audit",
    "load_prompts": "refusalkit.audit.model_audit",
    "AuditOptions": "refusalkit.audit.run",
    "AuditSummary": "refusalkit.audit.run",
    "run_audit": "refusalkit.audit.run",
    "AuditTrainOptions": "refusalkit.audit.train",
    "train_audit": "refusalkit.audit.train",
}
__all__ = sorted(_FACE)
__getattr__ = lazy_face(__name__, _FACE)
