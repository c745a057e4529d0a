"""Errors a user can cause. Each carries one line that names the thing and the fix."""


class RefusalkitError(Exception):
    """Base for user-facing errors; the CLI prints the message and exits non-zero."""

    exit_code = 1


class ConfigError(RefusalkitError):
    """A bad refusalkit.toml, REFUSALKIT_* variable or model spec."""

    exit_code = 2


class ModelNotFoundError(RefusalkitError):
    """An embedded model package or a model path that is not there."""


class EndpointError(RefusalkitError):
    """An OpenAI-compatible endpoint that cannot be reached or answered with an error."""


class InvalidInputError(RefusalkitError):
    """A malformed request: empty prompt, bad messages, bad parameters."""

    exit_code = 2
