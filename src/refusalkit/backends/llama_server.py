"""`python -m refusalkit.backends.llama_server ARGS`: llama-cpp-python's OpenAI server (same
ARGS as `python -m llama_cpp.server`) on the extra-buffer path `llama_cpu` chooses, since the
upstream server has no flag for it. The choice is printed on stderr before the model loads.

`--chat_template_file FILE` serves the model with a Jinja chat template of your own (a GGUF
converted without its template, or a guard model's prompt format); the upstream server can only
name a built-in format.
"""

from __future__ import annotations

import sys
from pathlib import Path

from refusalkit.backends.llama_cpu import apply_to_process, configured_choice

TEMPLATE_FLAG = "--chat_template_file"
TEMPLATE_FORMAT = "refusalkit-template-file"


def _take_template(argv: list[str]) -> tuple[list[str], Path | None]:
    """argv without `--chat_template_file FILE`, and FILE."""
    if TEMPLATE_FLAG not in argv:
        return argv, None
    at = argv.index(TEMPLATE_FLAG)
    if at + 1 >= len(argv):
        sys.exit(f"refusalkit: {TEMPLATE_FLAG} needs a file")
    path = Path(argv[at + 1])
    if not path.is_file():
        sys.exit(f"refusalkit: chat template {path} does not exist")
    return argv[:at] + argv[at + 2 :], path


def register_template(path: Path) -> None:
    """Register FILE's Jinja template as a chat format. It is rendered with `messages` and
    `add_generation_prompt` and writes every special token itself (no BOS is added); generation
    ends at the model's own end-of-turn token."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from llama_cpp import llama_chat_format

    template = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(
        path.read_text(encoding="utf-8")
    )

    def render(messages, **_: object) -> llama_chat_format.ChatFormatterResponse:
        prompt = template.render(messages=messages, add_generation_prompt=True)
        return llama_chat_format.ChatFormatterResponse(prompt=prompt, added_special=True)

    handler = llama_chat_format.chat_formatter_to_chat_completion_handler(render)
    llama_chat_format.LlamaChatCompletionHandlerRegistry().register_chat_completion_handler(
        TEMPLATE_FORMAT, handler, overwrite=True
    )


def main() -> None:
    argv, template = _take_template(sys.argv[1:])
    if template is not None:
        register_template(template)
        argv += ["--chat_format", TEMPLATE_FORMAT]
    sys.argv = [sys.argv[0], *argv]
    choice = configured_choice()
    apply_to_process(choice)
    print(f"refusalkit: llama.cpp {choice.describe()}", file=sys.stderr, flush=True)
    from llama_cpp.server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
