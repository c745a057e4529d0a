"""`python -m refusalkit.backends.llama_server ARGS`: llama-cpp-python's OpenAI server (same
ARGS as `python -m llama_cpp.server`) on the extra-buffer path `llama_cpu` chooses, since the
upstream server has no flag for it. The choice is printed on stderr before the model loads."""

from __future__ import annotations

import sys

from refusalkit.backends.llama_cpu import apply_to_process, configured_choice


def main() -> None:
    choice = configured_choice()
    apply_to_process(choice)
    print(f"refusalkit: llama.cpp {choice.describe()}", file=sys.stderr, flush=True)
    from llama_cpp.server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
