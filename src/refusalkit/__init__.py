"""refusalkit: build, steer and audit the refusals of large language models."""

from refusalkit.errors import RefusalkitError

__version__ = "0.1.0"

__all__ = ["RefusalkitError", "__version__"]
