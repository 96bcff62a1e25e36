import pytest

from vae_lab import config


def test_course_defaults():
    defaults = config.TrainingConfig()
    assert (defaults.batch_size, defaults.epochs) == (128, 80)
    assert defaults.validation_split == 0.2
    assert defaults.latent_dim == 2
    assert defaults.image_shape == (28, 28, 1)
    assert defaults.filters == (8, 16, 32, 64)


def test_presets():
    assert config.get_preset("full").train_size is None
    assert config.get_preset("full").epochs == 80
    cpu = config.get_preset("cpu")
    assert (cpu.train_size, cpu.test_size) == (10_000, 1_000)
    assert config.get_preset("smoke").train_size < 1000


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown preset 'gpu'. Expected one of"):
        config.get_preset("gpu")


def test_default_preset_follows_the_environment(monkeypatch):
    monkeypatch.setenv(config.PRESET_ENV_VAR, "smoke")
    assert config.default_preset() == ("smoke", "VAE_LAB_PRESET=smoke is set")
    monkeypatch.setenv(config.PRESET_ENV_VAR, "huge")
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        config.default_preset()


def test_default_preset_without_gpu_is_cpu(monkeypatch):
    monkeypatch.delenv(config.PRESET_ENV_VAR, raising=False)
    monkeypatch.setattr(config, "gpu_available", lambda: False)
    assert config.default_preset()[0] == "cpu"
    monkeypatch.setattr(config, "gpu_available", lambda: True)
    assert config.default_preset()[0] == "full"


def test_resolve_config_applies_overrides_and_ignores_none():
    resolved = config.resolve_config("cpu", epochs=3, batch_size=None)
    assert resolved.epochs == 3 and resolved.batch_size == 128
    assert resolved.preset == "cpu"


def test_json_round_trip():
    original = config.get_preset("cpu").replace(filters=[8, 16])
    assert config.TrainingConfig.from_json(original.to_json()) == original


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be at least 1. Received: epochs=0"),
        ({"epochs": "5"}, TypeError, "epochs must be an integer"),
        ({"batch_size": 12.0}, TypeError, "batch_size must be an integer"),
        ({"validation_split": 1.0}, ValueError, "strictly between 0.0 and 1.0"),
        ({"validation_split": "0.2"}, TypeError, "must be a number"),
        ({"latent_dim": -1}, ValueError, "latent_dim must be at least 1"),
        ({"train_size": 0}, ValueError, "train_size must be at least 1"),
        ({"train_size": 3}, ValueError, "leaves 3 training and 0 validation"),
        ({"filters": []}, ValueError, "at least one convolution"),
        ({"learning_rate": 0}, ValueError, "learning_rate must be strictly"),
        ({"seed": -1}, ValueError, "seed must be at least 0"),
        ({"colour": 1}, TypeError, r"Unknown settings \['colour'\]"),
    ],
)
def test_bad_settings_are_refused(changes, error, message):
    with pytest.raises(error, match=message):
        config.get_preset("cpu").replace(**changes)
