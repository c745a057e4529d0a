"""Cached graphs of adapters that are no longer used can be pruned; nothing else is touched."""

import json

from refusalkit.weights import adapter_digest, adapter_graphs, prune_adapter_graphs


def _adapter(folder, weights: bytes):
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"r": 16}))
    (folder / "adapter_model.safetensors").write_bytes(weights)
    return folder


def test_only_graphs_of_adapters_outside_keep_are_removed(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    kept = _adapter(tmp_path / "classifiers" / "second_stage", b"kept")
    gone = _adapter(tmp_path / "old" / "encoder_adapter", b"gone")
    kept_graph = cache / f"all-mpnet-base-v2-band-{adapter_digest(kept)}-int8.onnx"
    stale_graph = cache / f"all-minilm-l6-v2-int8-{adapter_digest(gone)}.onnx"
    base = cache / "all-minilm-l6-v2-int8.onnx"  # no adapter: never pruned
    other = cache / "decisions.sqlite3"
    for path in (kept_graph, stale_graph, base, other):
        path.write_bytes(b"x")
    (cache / f".{stale_graph.name}.lock").write_bytes(b"")
    assert set(adapter_graphs(cache)) == {kept_graph, stale_graph}

    listed = prune_adapter_graphs(cache, [tmp_path / "classifiers"], dry_run=True)
    assert listed == [stale_graph] and stale_graph.exists()
    assert prune_adapter_graphs(cache, [tmp_path / "classifiers"]) == [stale_graph]
    assert not stale_graph.exists() and not (cache / f".{stale_graph.name}.lock").exists()
    assert kept_graph.exists() and base.exists() and other.exists()


def test_the_command_keeps_the_shipped_adapters_and_reports_what_it_deleted(tmp_path):
    import os
    import subprocess
    import sys

    from refusalkit.classifiers.artifacts import DEFAULT_DIR

    cache = tmp_path / "cache"
    cache.mkdir()
    shipped = (
        cache / f"all-mpnet-base-v2-band-{adapter_digest(DEFAULT_DIR / 'second_stage')}-int8.onnx"
    )
    stale = cache / "all-minilm-l6-v2-int8-0123456789ab.onnx"
    for path in (shipped, stale):
        path.write_bytes(b"x" * 1024)
    env = {**os.environ, "REFUSALKIT_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "refusalkit.cli", "prune-cache"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("deleted 1 cached graph(s)")
    assert shipped.exists() and not stale.exists()
