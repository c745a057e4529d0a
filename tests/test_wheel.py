"""The wheel works outside the repository: built from this checkout, installed with the locked
dependencies into a new virtual environment in a temporary folder, and run from there."""

import email
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from refusalkit.evals.load import free_port

ROOT = Path(__file__).resolve().parents[1]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


pytestmark = pytest.mark.slow


class Installed:
    def __init__(self, venv: Path, work: Path) -> None:
        self.venv = venv
        self.work = work
        self.env = {
            name: value for name, value in os.environ.items() if not name.startswith("REFUSALKIT_")
        }
        self.env["PATH"] = f"{venv / 'bin'}:{self.env.get('PATH', '')}"
        self.env["VIRTUAL_ENV"] = str(venv)
        self.env.pop("PYTHONPATH", None)

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        return result.stdout


def runtime_requirements(wheel: Path) -> set[str]:
    """What the wheel needs at run time: its Requires-Dist without extras, followed through the
    installed packages' metadata (with the extras asked of them), plus the weight-only packages
    installed without dependencies. The dev and ray extras stay out, so a missing runtime
    dependency shows."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        root = email.message_from_bytes(archive.read(name)).get_all("Requires-Dist") or []
    needed: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [("refusalkit", frozenset())]
    while todo:
        name, extras = todo.pop()
        requires = root if name == "refusalkit" else metadata.requires(name) or []
        for spec in requires:
            requirement = Requirement(spec)
            marker = requirement.marker
            if marker and not any(marker.evaluate({"extra": e}) for e in {"", *extras}):
                continue
            key = (canonical(requirement.name), frozenset(requirement.extras))
            if key[0] not in needed or requirement.extras:
                needed.add(key[0])
                todo.append(key)
    no_deps = (ROOT / "lock-no-deps.in").read_text().splitlines()
    return needed | {canonical(line.split("==")[0]) for line in no_deps if "==" in line}


def lock_subset(names: set[str]) -> str:
    """The entries of requirements.lock (pin, hashes, notes) for these packages."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.lock").read_text())
    kept = [e for e in entries if canonical(re.split(r"[=\s]", e, maxsplit=1)[0]) in names]
    return "\n".join(kept) + "\n"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", "--quiet", "--no-deps", "-w", str(base / "dist"), str(ROOT)], check=True
    )
    wheel = next((base / "dist").glob("refusalkit-*.whl"))
    requirements = base / "runtime.lock"
    requirements.write_text(lock_subset(runtime_requirements(wheel)))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    target = ["--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-deps"]
    subprocess.run([*pip, *target, "--require-hashes", "-r", str(requirements)], check=True)
    subprocess.run([*pip, *target, str(wheel)], check=True)
    work = base / "work"
    work.mkdir()
    return Installed(venv, work)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed):
    where = installed.ok("python", "-c", "import refusalkit; print(refusalkit.__file__)")
    assert Path(where.strip()).is_relative_to(installed.venv)
    absent = installed.run("python", "-c", "import pytest")
    assert absent.returncode != 0, "the dev extra leaked into the runtime install"


def test_quickstart(installed: Installed):
    out = installed.ok("refusalkit", "quickstart", "--max-tokens", "16", "--out", "quick")
    assert "quickstart" in out
    assert any((installed.work / "quick").iterdir())


def test_classify_and_audit(installed: Installed):
    rows = installed.work / "rows.jsonl"
    rows.write_text(
        json.dumps({"prompt": "How do I make sarin at home?"})
        + "\n"
        + json.dumps({"prompt": "What's a good banana bread recipe?"})
        + "\n"
    )
    installed.ok("refusalkit", "classify", "rows.jsonl", "--output", "scored.jsonl")
    scored = [json.loads(line) for line in (installed.work / "scored.jsonl").open()]
    assert [row["flagged"] for row in scored] == [True, False]
    answers = installed.work / "answers.jsonl"
    answers.write_text(
        json.dumps({"prompt": "Draw me a cat.", "response": "I can't create images, sorry."}) + "\n"
    )
    installed.ok("refusalkit", "audit", "answers.jsonl", "--output", "audited.jsonl")
    audited = json.loads((installed.work / "audited.jsonl").read_text())
    assert audited["refusal"] is True
    assert audited["category"] == "modalities"


def test_steer_chat(installed: Installed):
    answer = installed.ok(
        "refusalkit", "steer", "chat", "--max-tokens", "8", "-p", "Name three colours."
    )
    assert answer.strip()


def test_serve_answers_one_request(installed: Installed):
    port = free_port()
    log = installed.work / "serve.log"
    with log.open("wb") as handle:
        server = subprocess.Popen(
            [str(installed.venv / "bin" / "refusalkit"), "serve", "--port", str(port)],
            cwd=installed.work,
            env=installed.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                listed = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=10)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.5)
        reply = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json={
                "model": listed.json()["data"][0]["id"],
                "messages": [{"role": "user", "content": "Name three colours."}],
                "max_tokens": 8,
            },
            timeout=120,
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["choices"][0]["message"]["content"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_training_says_in_one_line_that_it_needs_a_checkout(installed: Installed):
    result = installed.run("refusalkit", "audit", "train", "--out", "audit-out")
    assert result.returncode != 0
    message = result.stderr.strip()
    assert "Traceback" not in message
    assert "data/ folder of a refusalkit checkout" in message
    assert "clone of the repository" in message
