"""The callbacks behind a run folder: history, NaN guard and backup repair."""

import json
import logging

import keras
import numpy as np
import pytest

from vae_lab import callbacks, errors, model, run_files


def test_history_recorder_replaces_repeated_epochs(tmp_path):
    path = tmp_path / "history.csv"
    recorder = callbacks.HistoryRecorder(path)
    recorder.on_train_begin()
    for epoch in (0, 1, 1, 2):
        recorder.on_epoch_begin(epoch)
        recorder.on_epoch_end(epoch, {"loss": 10.0 - epoch})
    rows = run_files.read_history(path)
    assert [row["epoch"] for row in rows] == [0, 1, 2]
    assert [row["loss"] for row in rows] == [10.0, 9.0, 8.0]
    assert all(row["seconds"] >= 0 for row in rows)


def test_history_recorder_drops_epochs_that_will_run_again(tmp_path):
    path = tmp_path / "history.csv"
    run_files.write_history(path, [{"epoch": e, "loss": 1.0} for e in range(4)])
    callbacks.HistoryRecorder(path, start_epoch=2).on_train_begin()
    assert [row["epoch"] for row in run_files.read_history(path)] == [0, 1]


def test_history_recorder_warns_about_a_gap(tmp_path, caplog):
    path = tmp_path / "history.csv"
    run_files.write_history(path, [{"epoch": 0, "loss": 1.0}])
    with caplog.at_level(logging.WARNING):
        callbacks.HistoryRecorder(path, start_epoch=3).on_train_begin()
    assert "lists the epochs [0] before resuming at epoch 4" in caplog.text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_loss_guard_names_the_batch_and_the_fixes(value):
    guard = callbacks.NonFiniteLossGuard()
    guard.on_epoch_begin(2)
    guard.on_train_batch_end(0, {"loss": 1.0})
    with pytest.raises(
        errors.NonFiniteLossError,
        match=r"became (nan|inf|-inf) at batch 4 of epoch 3\. Check the learning "
        r"rate .* scaled to \[0, 1\]",
    ):
        guard.on_train_batch_end(3, {"loss": value})


@pytest.fixture
def scratch_model():
    vae = model.compile_vae(model.build_vae(filters=(4,)))
    vae.optimizer.build(vae.trainable_variables)
    return vae


def write_backup(folder, vae, epoch, previous_epoch=None):
    """Writes the files BackupAndRestore writes after `epoch` epochs."""
    folder.mkdir(exist_ok=True)
    vae.save_weights(folder / callbacks.BACKUP_WEIGHTS)
    (folder / callbacks.BACKUP_METADATA).write_text(json.dumps({"epoch": epoch}))
    if previous_epoch is not None:
        previous = folder / (callbacks.BACKUP_WEIGHTS + callbacks.PREVIOUS_SUFFIX)
        previous.write_bytes((folder / callbacks.BACKUP_WEIGHTS).read_bytes())
        (folder / (callbacks.BACKUP_METADATA + callbacks.PREVIOUS_SUFFIX)).write_text(
            json.dumps({"epoch": previous_epoch})
        )


def test_repair_backup_without_a_backup_starts_at_zero(tmp_path, scratch_model):
    assert callbacks.repair_backup(tmp_path / "none", scratch_model, 5) == 0


def test_repair_backup_keeps_a_good_backup(tmp_path, scratch_model):
    write_backup(tmp_path, scratch_model, epoch=3, previous_epoch=2)
    assert callbacks.repair_backup(tmp_path, scratch_model, 5) == 3


@pytest.mark.parametrize(
    ("damaged", "content"),
    [
        (callbacks.BACKUP_METADATA, ""),
        (callbacks.BACKUP_METADATA, '{"epo'),
        (callbacks.BACKUP_METADATA, '{"epoch": "three"}'),
        (callbacks.BACKUP_METADATA, '{"epoch": 9}'),
        (callbacks.BACKUP_WEIGHTS, ""),
        (callbacks.BACKUP_WEIGHTS, "half a file"),
    ],
)
def test_repair_backup_falls_back_to_the_previous_epoch(
    tmp_path, scratch_model, damaged, content, caplog
):
    write_backup(tmp_path, scratch_model, epoch=3, previous_epoch=2)
    (tmp_path / damaged).write_text(content)
    with caplog.at_level(logging.WARNING):
        assert callbacks.repair_backup(tmp_path, scratch_model, 5) == 2
    assert "resuming from the one before it" in caplog.text
    # Keras's BackupAndRestore now finds the previous epoch in the latest place.
    stored = json.loads((tmp_path / callbacks.BACKUP_METADATA).read_text())
    assert stored == {"epoch": 2}


def test_repair_backup_starts_over_when_nothing_loads(tmp_path, scratch_model, caplog):
    write_backup(tmp_path, scratch_model, epoch=3, previous_epoch=2)
    for path in tmp_path.iterdir():
        path.write_bytes(b"\0" * 64)
    with caplog.at_level(logging.WARNING):
        assert callbacks.repair_backup(tmp_path, scratch_model, 5) == 0
    assert "could be loaded" in caplog.text and "training starts over" in caplog.text
    assert not tmp_path.exists()


def test_repair_backup_refuses_weights_of_another_architecture(tmp_path):
    other = model.compile_vae(model.build_vae(filters=(4, 4)))
    other.optimizer.build(other.trainable_variables)
    write_backup(tmp_path, other, epoch=1)
    vae = model.compile_vae(model.build_vae(filters=(4,)))
    assert callbacks.repair_backup(tmp_path, vae, 5) == 0


def test_backup_callback_restores_what_repair_backup_accepted(tmp_path, scratch_model):
    # The whole chain on a real fit: Keras writes, we check, Keras restores.
    images = np.random.default_rng(0).uniform(size=(16, 28, 28, 1)) > 0.7
    images = images.astype("float32")
    scratch_model.fit(
        images,
        images,
        epochs=2,
        batch_size=8,
        callbacks=[callbacks.backup_callback(tmp_path)],
        verbose=0,
    )
    expected = scratch_model.get_weights()
    fresh = model.compile_vae(model.build_vae(filters=(4,)))
    assert callbacks.repair_backup(tmp_path, fresh, 3) == 2
    again = model.compile_vae(model.build_vae(filters=(4,)))
    seen = []

    class FirstEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(epoch)
            for ours, theirs in zip(self.model.get_weights(), expected, strict=True):
                np.testing.assert_array_equal(ours, theirs)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        again.fit(
            images,
            images,
            epochs=3,
            batch_size=8,
            callbacks=[callbacks.backup_callback(tmp_path), FirstEpoch()],
            verbose=0,
        )
    assert seen == [2]
