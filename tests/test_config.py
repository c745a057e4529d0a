import pytest

from refusalkit.backends import load_backend
from refusalkit.backends.openai_http import OpenAIBackend
from refusalkit.config import load_settings
from refusalkit.errors import ConfigError


def test_defaults_without_file_or_env(monkeypatch):
    monkeypatch.delenv("REFUSALKIT_CACHE_DIR", raising=False)
    settings = load_settings()
    assert settings.model == "embedded"
    assert settings.cache_dir.name == "refusalkit"


def test_toml_file_then_env_override(tmp_path, monkeypatch):
    monkeypatch.delenv("REFUSALKIT_CACHE_DIR", raising=False)
    (tmp_path / "refusalkit.toml").write_text(
        'model = "local"\ntimeout_s = 12\ncache_dir = "/tmp/rk-cache"\n'
        '[endpoints.local]\nurl = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
    )
    settings = load_settings()
    assert settings.model == "local"
    assert settings.timeout_s == 12
    assert str(settings.cache_dir) == "/tmp/rk-cache"
    assert settings.endpoints["local"].url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("REFUSALKIT_TIMEOUT_S", "3.5")
    monkeypatch.setenv("REFUSALKIT_ENDPOINTS__LOCAL__MODEL", "other")
    settings = load_settings()
    assert settings.timeout_s == 3.5
    assert settings.model == "local"


def test_explicit_config_path(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere.toml"
    path.write_text('model = "hf:/models/x"\n')
    monkeypatch.setenv("REFUSALKIT_CONFIG", str(path))
    assert load_settings().model == "hf:/models/x"
    monkeypatch.setenv("REFUSALKIT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="missing.toml"):
        load_settings()


def test_bad_toml_names_file(tmp_path):
    (tmp_path / "refusalkit.toml").write_text("model = \n")
    with pytest.raises(ConfigError, match=r"refusalkit.toml: invalid TOML"):
        load_settings()


def test_bad_value_names_field(tmp_path):
    (tmp_path / "refusalkit.toml").write_text("timeout_s = -1\n")
    with pytest.raises(ConfigError, match=r"timeout_s: .*greater than 0"):
        load_settings()


def test_unknown_key_is_rejected(tmp_path):
    (tmp_path / "refusalkit.toml").write_text('modle = "embedded"\n')
    with pytest.raises(ConfigError, match="modle"):
        load_settings()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bogus", "unknown model spec 'bogus'"),
        ("hf:/no/such/dir", "does not exist"),
        ("gguf:", "names no path"),
        ("  ", "empty model spec"),
    ],
)
def test_bad_model_specs(spec, message):
    with pytest.raises(ConfigError, match=message):
        load_backend(spec)


def test_named_endpoint_and_url_specs(tmp_path, monkeypatch):
    (tmp_path / "refusalkit.toml").write_text(
        '[endpoints.vllm]\nurl = "http://127.0.0.1:9/v1/"\nmodel = "llama"\n'
        'api_key_env = "MY_KEY"\n'
    )
    monkeypatch.setenv("MY_KEY", "secret")
    backend = load_backend("vllm")
    assert isinstance(backend, OpenAIBackend)
    assert backend.base_url == "http://127.0.0.1:9/v1"
    assert backend.model_name == "llama"
    assert backend._client.api_key == "secret"
    by_url = load_backend("http://127.0.0.1:9/v1#qwen")
    assert by_url.model_name == "qwen"
