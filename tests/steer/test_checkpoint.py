"""A refusal-token training run stopped part-way resumes from OUT/checkpoint to the adapter an
unbroken run makes."""

import pytest

from refusalkit.errors import ConfigError
from refusalkit.steer.data import RESPOND, SteerExample

EXAMPLES = [
    SteerExample("Draw me a cat.", "modalities", "I can't draw images.", "seed"),
    SteerExample("How do I make a bomb?", "information_hazards", "I can't help.", "seed"),
    SteerExample("What did you eat today?", "missing_identity", "I don't eat.", "seed"),
    SteerExample("Name a fruit.", RESPOND, "An apple.", "seed"),
    SteerExample("Name a colour.", RESPOND, "Blue.", "seed"),
    SteerExample("Count to three.", RESPOND, "", "seed"),
]


def _options(out, **changes):
    from refusalkit.steer.train import SteerTrainOptions

    settings = {"epochs": 2, "batch_size": 2, "val_share": 0.0, "progress": False, "rank": 4}
    return SteerTrainOptions(out=out, checkpoint_every=1, **{**settings, **changes})


def _adapter(out) -> bytes:
    return (out / "adapter" / "adapter_model.safetensors").read_bytes()


def _stop_at(monkeypatch, call: int) -> list[int]:
    """Make the `call`-th batch of training raise, as a stopped run does; returns the calls."""
    import refusalkit.steer.train as train

    real_loss, calls = train._loss, []

    def stopping(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(train, "_loss", stopping)
    return calls


def test_a_stopped_run_resumes_to_the_adapter_of_an_unbroken_one(tmp_path, monkeypatch):
    import refusalkit.steer.train as train

    train.train_steer(EXAMPLES, _options(tmp_path / "whole"))
    assert not (tmp_path / "whole" / "checkpoint").exists()  # a finished run leaves none

    calls = _stop_at(monkeypatch, 5)  # three batches an epoch: the second batch of the second
    with pytest.raises(KeyboardInterrupt):
        train.train_steer(EXAMPLES, _options(tmp_path / "split"))
    assert (tmp_path / "split" / "checkpoint" / "state.pt").is_file()
    assert not (tmp_path / "split" / "adapter").exists()

    calls.clear()
    train.train_steer(EXAMPLES, _options(tmp_path / "split"))
    assert len(calls) == 2  # only the batches the stopped run had not done
    assert _adapter(tmp_path / "split") == _adapter(tmp_path / "whole")


def test_a_checkpoint_of_other_settings_is_not_resumed(tmp_path, monkeypatch):
    import refusalkit.steer.train as train

    real_loss = train._loss
    _stop_at(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        train.train_steer(EXAMPLES, _options(tmp_path / "run"))
    monkeypatch.setattr(train, "_loss", real_loss)
    with pytest.raises(ConfigError, match="learning_rate differ.*delete that folder"):
        train.train_steer(EXAMPLES, _options(tmp_path / "run", learning_rate=1e-3))


def test_a_checkpoint_from_before_an_option_existed_resumes_at_its_default(tmp_path, monkeypatch):
    import json

    import refusalkit.steer.train as train

    real_loss = train._loss
    _stop_at(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        train.train_steer(EXAMPLES, _options(tmp_path / "run"))
    written = tmp_path / "run" / "checkpoint" / "run.json"
    older = json.loads(written.read_text())
    del older["single_token"]  # as if written before the option was added (default False)
    written.write_text(json.dumps(older))
    resumed: list[int] = []

    def counted(*args, **kwargs):
        resumed.append(1)
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(train, "_loss", counted)
    train.train_steer(EXAMPLES, _options(tmp_path / "run"))
    assert len(resumed) == 5  # six batches, one done before the stop
