"""llama.cpp's CPU path: extra buffer types (weight repacking, AMX) chosen from the CPU, with a
setting that overrides the choice, for in-process models and for the OpenAI server."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from refusalkit.backends import load_backend
from refusalkit.backends.llama_cpu import choose_extra_buffers, host_cpu_flags
from refusalkit.evals.load import free_port, llama_server_command

HOST_FLAGS = host_cpu_flags()
HOST_HAS_AMX = any(flag.startswith("amx") for flag in HOST_FLAGS)
NO_FEATURES: frozenset[str] = frozenset()


def test_auto_turns_extra_buffers_off_where_the_host_has_amx():
    choice = choose_extra_buffers("auto", frozenset({"avx2", "avx512f", "amx_int8", "amx_tile"}))
    assert not choice.enabled
    assert "amx_int8" in choice.reason and "amx_tile" in choice.reason
    assert "amx_tile" in choice.host_flags


def test_auto_turns_extra_buffers_off_where_the_llama_build_reports_amx():
    choice = choose_extra_buffers("auto", frozenset({"avx2"}), frozenset({"AVX2", "AMX_INT8"}))
    assert not choice.enabled
    assert "AMX_INT8" in choice.reason


def test_auto_keeps_extra_buffers_on_without_amx():
    choice = choose_extra_buffers("auto", frozenset({"avx2", "fma"}), frozenset({"AVX2"}))
    assert choice.enabled
    assert choice.reason == "no AMX seen"


@pytest.mark.parametrize(("setting", "enabled"), [("on", True), ("off", False)])
def test_the_setting_overrides_what_the_cpu_suggests(setting, enabled):
    assert choose_extra_buffers(setting, frozenset({"amx_int8"}), NO_FEATURES).enabled is enabled
    assert choose_extra_buffers(setting, frozenset({"avx2"}), NO_FEATURES).enabled is enabled


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 amx_tile\n\nprocessor\t: 1\n")
    assert host_cpu_flags(cpuinfo) == {"fpu", "sse", "avx2", "amx_tile"}
    assert host_cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_embedded_backend_loads_on_the_configured_path(monkeypatch, setting):
    monkeypatch.setenv("REFUSALKIT_LLAMA_EXTRA_BUFFERS", setting)
    backend = load_backend("embedded")
    try:
        assert backend.llama.model_params.use_extra_bufts is (setting == "on")
        assert backend.chat([{"role": "user", "content": "Hi"}]).strip()
    finally:
        backend.close()


def test_the_embedded_backend_on_a_cpu_reporting_amx_loads_without_extra_buffers(monkeypatch):
    from refusalkit.backends import llama_cpu

    monkeypatch.setattr(llama_cpu, "host_cpu_flags", lambda: frozenset({"avx2", "amx_int8"}))
    backend = load_backend("embedded")
    try:
        assert backend.llama.model_params.use_extra_bufts is False
    finally:
        backend.close()


def test_a_bad_setting_is_one_clear_error(monkeypatch):
    from refusalkit.config import load_settings
    from refusalkit.errors import ConfigError

    monkeypatch.setenv("REFUSALKIT_LLAMA_EXTRA_BUFFERS", "sometimes")
    with pytest.raises(ConfigError, match="llama_extra_buffers"):
        load_settings()


LOAD_AND_DECODE = textwrap.dedent(
    """
    from refusalkit.backends.llama_cpu import open_llama
    from refusalkit.weights import embedded_gguf_path

    llm = open_llama(embedded_gguf_path(), n_ctx=512, verbose=True)
    print(llm.create_completion("The sky is", max_tokens=8)["choices"][0]["text"])
    """
)


EMBEDDED_BACKEND = textwrap.dedent(
    """
    from refusalkit.backends import load_backend, user_message

    backend = load_backend("embedded")
    assert backend.llama.model_params.use_extra_bufts is False
    print(backend.chat(user_message("Name three colours.")))
    """
)


@pytest.mark.skipif(not HOST_HAS_AMX, reason="this CPU has no AMX (no amx_* flag in /proc/cpuinfo)")
def test_on_an_amx_cpu_the_embedded_model_loads_without_the_amx_buffer():
    # Subprocesses: the crash this guards against takes the whole process down.
    backend = subprocess.run(
        [sys.executable, "-c", EMBEDDED_BACKEND], capture_output=True, text=True, timeout=300
    )
    assert backend.returncode == 0, backend.stderr[-3000:]
    assert backend.stdout.strip()
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_DECODE], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "AMX model buffer" not in result.stderr
    assert result.stdout.strip()


@pytest.mark.skipif(HOST_HAS_AMX, reason="extra buffers on would take the AMX path on this CPU")
def test_extra_buffers_on_offers_llama_cpp_its_repacked_layouts():
    """The observable difference on a CPU without AMX: llama.cpp tries CPU_REPACK only when on."""
    env = {**os.environ, "REFUSALKIT_LLAMA_EXTRA_BUFFERS": "on"}
    on = subprocess.run(
        [sys.executable, "-c", LOAD_AND_DECODE], capture_output=True, text=True, env=env
    )
    env["REFUSALKIT_LLAMA_EXTRA_BUFFERS"] = "off"
    off = subprocess.run(
        [sys.executable, "-c", LOAD_AND_DECODE], capture_output=True, text=True, env=env
    )
    assert on.returncode == 0 and off.returncode == 0, (on.stderr + off.stderr)[-3000:]
    assert "CPU_REPACK" in on.stderr
    assert "CPU_REPACK" not in off.stderr and "AMX model buffer" not in off.stderr


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_llama_server_entry_point_obeys_the_setting(tmp_path: Path, setting):
    if setting == "on" and HOST_HAS_AMX:
        pytest.skip("extra buffers on would take the AMX path on this CPU")
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "REFUSALKIT_LLAMA_EXTRA_BUFFERS": setting}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            llama_server_command(port, "smollm2", 2),
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/v1/completions",
                    json={"prompt": "The sky is", "max_tokens": 4},
                    timeout=30,
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.3)
        assert answer.status_code == 200
        assert answer.json()["choices"][0]["text"]
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = log.read_text()
    assert f"refusalkit: llama.cpp extra buffer types: {setting} (set {setting}" in text
    assert ("CPU_REPACK" in text) is (setting == "on")
    assert "AMX model buffer" not in text
