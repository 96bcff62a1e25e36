"""Training into a run folder: resume, non-finite losses, and argument checks.

The mechanics are tested on the baseline model (filters 8, 16) and the shared
512-image subset, which trains an epoch in well under a second.
"""

import re
import shutil

import keras
import numpy as np
import pytest
from interrupts import StopAt

from vae_lab import callbacks, config, data, errors, model, run_files, training


def tiny_config(epochs=4, **changes):
    changes = {"filters": (8, 16), **changes}
    return config.get_preset("smoke").replace(epochs=epochs, **changes)


class EpochCounter(keras.callbacks.Callback):
    """Records which epochs ran."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


class PoisonWeightsAt(keras.callbacks.Callback):
    """Fills one kernel with NaN at `epoch`, as a blown-up step would."""

    def __init__(self, epoch):
        super().__init__()
        self.poison_epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.poison_epoch:
            layer = model.decoder_of(self.model).get_layer("decoder_dense")
            layer.kernel.assign(np.full(layer.kernel.shape, np.nan, "float32"))


def history_epochs(run_dir):
    return [row["epoch"] for row in run_files.read_history(run_dir / "history.csv")]


def interrupt(run_dir, small_dataset, epochs, stop_epoch, **config_changes):
    with pytest.raises(KeyboardInterrupt):
        training.train(
            tiny_config(epochs, **config_changes),
            run_dir,
            dataset=small_dataset,
            extra_callbacks=[StopAt(stop_epoch)],
            verbose=0,
        )


def test_interrupted_run_resumes_and_finishes_without_repeating_epochs(
    tmp_path, small_dataset, monkeypatch
):
    interrupt(tmp_path, small_dataset, epochs=4, stop_epoch=2)
    assert history_epochs(tmp_path) == [0, 1]
    assert not (tmp_path / run_files.METRICS).exists()
    first_rows = run_files.read_history(tmp_path / run_files.HISTORY)

    # Resume, and crash again after the last epoch, before the final files.
    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "write_figures", crash)
    counter = EpochCounter()
    with pytest.raises(KeyboardInterrupt):
        training.train(
            tiny_config(4), tmp_path, dataset=small_dataset, extra_callbacks=[counter]
        )
    monkeypatch.undo()
    assert counter.epochs == [2, 3]
    assert not (tmp_path / run_files.METRICS).exists()

    # The third call trains nothing more and only writes the final files.
    counter = EpochCounter()
    result = training.train(
        tiny_config(4), tmp_path, dataset=small_dataset, extra_callbacks=[counter]
    )
    assert counter.epochs == []
    assert history_epochs(tmp_path) == [0, 1, 2, 3]
    assert run_files.read_history(tmp_path / run_files.HISTORY)[:2] == first_rows
    assert result.metrics["epochs_completed"] == 4
    for name in [*run_files.FIGURES.values(), run_files.WEIGHTS]:
        assert (tmp_path / name).is_file()
    assert not (tmp_path / run_files.BACKUP).exists()
    # A fourth call finds the finished run and loads it.
    assert training.train(tiny_config(4), tmp_path).metrics == result.metrics


def test_other_settings_in_the_folder_are_refused_unless_fresh(tmp_path, small_dataset):
    # Stopping as the first epoch begins costs no training at all.
    interrupt(tmp_path, small_dataset, epochs=3, stop_epoch=0)
    with pytest.raises(
        errors.RunFolderError,
        match=r"holds a run with other settings, so it cannot be resumed with "
        r"these\. Expected: TrainingConfig\(.*epochs=3.*Received: "
        r"TrainingConfig\(.*epochs=5.*fresh=True \(--fresh",
    ):
        training.train(tiny_config(5), tmp_path, dataset=small_dataset)
    with pytest.raises(KeyboardInterrupt):
        training.train(
            tiny_config(5),
            tmp_path,
            dataset=small_dataset,
            extra_callbacks=StopAt(0),
            fresh=True,
        )
    assert training.read_config(tmp_path).epochs == 5


def test_fresh_removes_only_what_vae_lab_wrote(tmp_path):
    for folder in ("backup", "animation"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "thesis.tex").write_text("keep me")
    (tmp_path / "backup" / "latest.weights.h5").write_text("old backup")
    (tmp_path / "animation" / "epoch_001.png").write_text("old frame")
    (tmp_path / "metrics.json").write_text("{}")
    training.clear_run_dir(tmp_path)
    assert (tmp_path / "backup" / "thesis.tex").read_text() == "keep me"
    assert (tmp_path / "animation" / "thesis.tex").read_text() == "keep me"
    assert not (tmp_path / "backup" / "latest.weights.h5").exists()
    assert not (tmp_path / "animation" / "epoch_001.png").exists()
    assert not (tmp_path / "metrics.json").exists()
    (tmp_path / "animation" / "thesis.tex").unlink()
    training.clear_run_dir(tmp_path)
    assert not (tmp_path / "animation").exists()


def test_damaged_metrics_file_is_a_clear_error(smoke_run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(smoke_run.run_dir, copy)
    for text in ("[]", '{"final": 5, "test": "x"}', "{}"):
        (copy / "metrics.json").write_text(text)
        with pytest.raises(errors.RunFolderError, match="not a metrics file"):
            training.load_run(copy)


def test_run_names_match_the_notebooks():
    assert training.run_name(config.get_preset("cpu")) == "deeper_cpu"
    baseline = config.get_preset("smoke").replace(filters=(8, 16))
    assert training.run_name(baseline) == "baseline_smoke"
    other = config.get_preset("cpu").replace(filters=(4, 8, 16))
    assert training.run_name(other) == "filters_4_8_16_cpu"


def test_non_finite_loss_keeps_the_last_good_weights(tmp_path, small_dataset):
    with pytest.raises(errors.NonFiniteLossError) as raised:
        training.train(
            tiny_config(4),
            tmp_path,
            dataset=small_dataset,
            extra_callbacks=[PoisonWeightsAt(2)],
            verbose=0,
        )
    message = str(raised.value)
    assert re.search(r"became nan at batch \d+ of epoch 3\.", message)
    assert "Check the learning rate" in message and "scaled to [0, 1]" in message
    assert "The weights after epoch 2, the last good ones, were kept" in message
    assert "fresh=True" in message
    kept = training.load_run(tmp_path)
    assert kept.metrics == {}
    assert all(np.all(np.isfinite(w)) for w in kept.model.get_weights())
    backup = model.compile_vae(training._build(tiny_config(4)))
    backup.optimizer.build(backup.trainable_variables)
    backup.load_weights(tmp_path / run_files.BACKUP / callbacks.BACKUP_WEIGHTS)
    for ours, theirs in zip(
        kept.model.get_weights(), backup.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(ours, theirs)


def test_non_finite_loss_in_the_first_epoch_says_nothing_was_kept(
    tmp_path, small_dataset
):
    with pytest.raises(errors.NonFiniteLossError, match="No epoch had finished"):
        training.train(
            tiny_config(2),
            tmp_path,
            dataset=small_dataset,
            extra_callbacks=[PoisonWeightsAt(0)],
            verbose=0,
        )
    assert not (tmp_path / run_files.WEIGHTS).exists()


def test_a_huge_learning_rate_is_stopped_with_advice(tmp_path, small_dataset):
    # Measured: Adam at 2.0 with batches of 32 overflows within two epochs.
    settings = tiny_config(3, learning_rate=2.0, batch_size=32)
    with pytest.raises(errors.NonFiniteLossError, match="Check the learning rate"):
        training.train(settings, tmp_path, dataset=small_dataset, verbose=0)
    if (tmp_path / run_files.WEIGHTS).exists():
        weights = training.load_run(tmp_path).model.get_weights()
        assert all(np.all(np.isfinite(w)) for w in weights)


def test_load_weights_from_another_architecture_is_refused(tmp_path):
    baseline = model.build_vae(filters=(8, 16))
    baseline.save_weights(tmp_path / "baseline.weights.h5")
    deeper = model.build_vae(filters=(8, 16, 32))
    with pytest.raises(
        errors.RunFolderError,
        match=r"do not fit this model \(.* parameters, filters \(8, 16, 32\)\): "
        r"they come from another architecture",
    ):
        training.load_weights(deeper, tmp_path / "baseline.weights.h5")


@pytest.mark.parametrize(
    ("content", "suffix"),
    [(b"", ".weights.h5"), (b"not hdf5 at all", ".weights.h5"), (b"x", ".pkl")],
)
def test_load_weights_refuses_damaged_or_foreign_files(tmp_path, content, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(content)
    with pytest.raises(errors.RunFolderError, match="do not fit this model"):
        training.load_weights(model.build_vae(filters=(8,)), path)


def test_load_weights_names_a_missing_file(tmp_path):
    with pytest.raises(errors.RunFolderError, match="No weights file at"):
        training.load_weights(model.build_vae(filters=(8,)), tmp_path / "none.h5")


def test_load_run_of_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(errors.RunFolderError, match="has no config.json"):
        training.load_run(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(errors.RunFolderError, match="does not hold valid settings"):
        training.load_run(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"config": "smoke"}, TypeError, "config must be a TrainingConfig"),
        ({"run_dir": None}, TypeError, "run_dir must be a folder path"),
        ({"run_dir": ""}, TypeError, "run_dir must be a folder path"),
        ({"dataset": np.zeros((4, 28, 28, 1))}, TypeError, "dataset must be a"),
        ({"extra_callbacks": ["x"]}, TypeError, "extra_callbacks must hold"),
        ({"verbose": 3}, ValueError, "verbose must be 'auto', 0, 1 or 2"),
        ({"fresh": "yes"}, TypeError, "fresh must be True or False"),
    ],
)
def test_train_checks_its_arguments_first(tmp_path, kwargs, error, message):
    arguments = {"config": tiny_config(), "run_dir": tmp_path / "run"}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        training.train(**arguments)
    assert not (tmp_path / "run").exists()


def test_batch_size_larger_than_the_training_split_is_refused(tmp_path, small_dataset):
    settings = tiny_config(batch_size=500)
    with pytest.raises(
        ValueError,
        match=r"batch_size=500 is larger than the 410 images left for training",
    ):
        training.train(settings, tmp_path, dataset=small_dataset)
    assert not (tmp_path / run_files.CONFIG).exists()


def test_labels_that_do_not_match_the_images_are_refused(tmp_path, small_dataset):
    broken = small_dataset._replace(y_test=small_dataset.y_test[:5])
    with pytest.raises(ValueError, match=r"y_test must hold one label per image"):
        training.train(tiny_config(), tmp_path, dataset=broken)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((8, 27, 27, 1)), r"are 27x27 pixels; the model was built for 28x28"),
        (np.zeros((8, 32, 32, 1)), r"are 32x32 pixels; the model was built for 28x28"),
        (np.zeros((8, 28, 28, 3)), r"have 3 channels; the model expects 1"),
        (np.zeros((8, 28, 28)), r"Use reshape_images to add the channel axis"),
        (np.full((8, 28, 28, 1), 255.0), r"Call normalize_images first"),
        (np.full((8, 28, 28, 1), 255, "uint8"), r"from 255 to 255"),
        (np.full((8, 28, 28, 1), np.nan), r"x_train holds NaN or infinite pixels"),
        (np.full((8, 28, 28, 1), np.inf), r"x_train holds NaN or infinite pixels"),
        (np.full((8, 28, 28, 1), -0.5), r"must hold pixels in \[0, 1\]"),
    ],
)
def test_wrong_images_are_refused_before_training(
    tmp_path, small_dataset, images, message
):
    broken = small_dataset._replace(x_train=images, y_train=np.zeros(len(images)))
    with pytest.raises(ValueError, match=message):
        training.train(tiny_config(), tmp_path, dataset=broken)
    assert not (tmp_path / run_files.CONFIG).exists()


def test_dataset_as_a_plain_tuple_is_accepted(small_dataset):
    checked = training.check_dataset(tuple(small_dataset), tiny_config())
    assert isinstance(checked, data.Dataset)
    with pytest.raises(ValueError, match="must hold the four arrays"):
        training.check_dataset(tuple(small_dataset)[:2], tiny_config())


@pytest.mark.parametrize(
    ("latent_dim", "figures"),
    [
        (1, {"loss_curves.png", "reconstructions.png"}),
        (3, {"loss_curves.png", "reconstructions.png", "latent_space.png"}),
    ],
)
def test_latent_spaces_other_than_2d_finish_with_the_figures_they_allow(
    tmp_path, small_dataset, latent_dim, figures
):
    settings = tiny_config(1, latent_dim=latent_dim, filters=(4,))
    result = training.train(settings, tmp_path, dataset=small_dataset, verbose=0)
    assert result.metrics["epochs_completed"] == 1
    assert {path.name for path in tmp_path.glob("*.png")} == figures


def test_numpy_numbers_in_the_settings_can_be_stored(tmp_path):
    settings = config.TrainingConfig(
        epochs=np.int64(3), learning_rate=np.float32(0.5), filters=np.array([8, 16])
    )
    assert type(settings.epochs) is int and type(settings.learning_rate) is float
    assert config.TrainingConfig.from_json(settings.to_json()) == settings
