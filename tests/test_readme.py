"""The README's walkthrough runs as written: every code block after `<!-- runnable -->`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- runnable -->\s*\n```(bash|python)\n(.*?)\n```", re.S)


def runnable_blocks() -> list[tuple[str, str]]:
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_has_runnable_blocks_for_every_capability():
    text = "\n".join(code for _, code in runnable_blocks())
    for command in ("refusalkit chat --guard", "refusalkit audit", "refusalkit steer"):
        assert command in text, command


@pytest.mark.parametrize("index", range(len(runnable_blocks())))
def test_readme_block_runs(index, tmp_path):
    language, code = runnable_blocks()[index]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    command = (
        ["bash", "-euo", "pipefail", "-c", code]
        if language == "bash"
        else [sys.executable, "-c", code]
    )
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"block {index}:\n{code}\n---\n{result.stdout}\n{result.stderr}"
