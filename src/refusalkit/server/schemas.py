"""Request bodies: the OpenAI chat-completions subset the guard serves, plus classify and audit."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    include_usage: bool = False


class GuardPolicy(BaseModel):
    """Per-request guard settings; only keys listed in `policy_keys` may send them."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["block", "flag"] | None = None


class ChatCompletionRequest(BaseModel):
    # Clients send many optional OpenAI fields (user, logprobs, ...); unknown ones are ignored.
    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1)
    guard: GuardPolicy | None = None
    refusal_thresholds: dict[str, float] | None = None


class ClassifyItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str | None = None
    messages: list[ChatMessage] | None = None
    response: str | None = None


class ClassifyRequest(BaseModel):
    inputs: list[ClassifyItem] = Field(min_length=1)


class AuditItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = ""
    response: str


class AuditRequest(BaseModel):
    items: list[AuditItem] = Field(min_length=1)
