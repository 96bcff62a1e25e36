"""Callbacks that make a training run safe to interrupt and easy to read.

Resuming rests on Keras's own `keras.callbacks.BackupAndRestore`, which saves
the weights (with the optimizer's state) and the number of finished epochs at
the end of every epoch. It writes both files in place, so a process killed
mid-write can leave either one damaged; `repair_backup` runs before `fit` and
makes sure the backup it finds can really be loaded.
"""

import json
import logging
import math
import pathlib
import time

import keras

from vae_lab import errors, run_files

logger = logging.getLogger(__name__)

#: The files `BackupAndRestore` writes into its folder.
BACKUP_WEIGHTS = "latest.weights.h5"
BACKUP_METADATA = "training_metadata.json"
#: `double_checkpoint=True` keeps the previous pair under this suffix.
PREVIOUS_SUFFIX = ".bkp"


class HistoryRecorder(keras.callbacks.Callback):
    """Writes the per-epoch history to a CSV file after every epoch.

    Unlike `keras.callbacks.CSVLogger`, which appends, this rewrites the
    whole file atomically and first drops any rows at or after the epoch just
    finished. A run killed after this callback but before the backup was
    saved repeats that epoch on resume, and its row is then replaced rather
    than duplicated, so the history stays continuous.

    Args:
        path: The CSV file.
        start_epoch: The epoch training resumes at; rows from that epoch on
            are dropped when training begins, because those epochs run again.
    """

    def __init__(self, path, start_epoch=0):
        super().__init__()
        self.path = path
        self.start_epoch = start_epoch
        self.rows = []
        self._started = None

    def on_train_begin(self, logs=None):
        rows = run_files.read_history(self.path)
        self.rows = [row for row in rows if row["epoch"] < self.start_epoch]
        finished = [row["epoch"] for row in self.rows]
        if finished != list(range(self.start_epoch)):
            logger.warning(
                "%s lists the epochs %s before resuming at epoch %d; the "
                "history of the missing epochs is lost.",
                self.path,
                finished,
                self.start_epoch + 1,
            )
        if len(self.rows) != len(rows):
            run_files.write_history(self.path, self.rows)

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
        row["seconds"] = seconds
        self.rows = [r for r in self.rows if r["epoch"] < epoch] + [row]
        run_files.write_history(self.path, self.rows)


class NonFiniteLossGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite.

    It raises `NonFiniteLossError` from inside `fit`, so no later callback
    runs: the backup of the last finished epoch is not overwritten with
    broken weights, and the caller can restore it.

    Attributes:
        epoch: The epoch running (0-based), for the message.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        value = (logs or {}).get("loss")
        if value is not None and not math.isfinite(float(value)):
            raise errors.NonFiniteLossError(
                f"The training loss became {float(value)} at batch {batch + 1} "
                f"of epoch {self.epoch + 1}. Check the learning rate (try a "
                "smaller one, such as 0.001) and that the images are scaled "
                "to [0, 1] (data.normalize_images)."
            )


def backup_callback(backup_dir):
    """Returns the `BackupAndRestore` callback that `training.train` uses.

    It keeps the previous epoch's backup too (`double_checkpoint`), so a
    backup damaged mid-write falls back to the one before, and it leaves the
    backup in place at the end of `fit`: `train` deletes it only after the
    final files are written.
    """
    return keras.callbacks.BackupAndRestore(
        str(backup_dir), delete_checkpoint=False, double_checkpoint=True
    )


def repair_backup(backup_dir, model, epochs):
    """Makes an interrupted run's backup loadable, or removes it.

    `BackupAndRestore` tries the previous weights only when the latest ones
    fail to open, and a half-written `training_metadata.json` stops `fit` with
    a bare `JSONDecodeError`. This loads each pair, latest first, into
    `model` (weights and optimizer state) and checks its epoch count; the
    first pair that works is put in the latest place, so Keras resumes from
    it. When none works, the backup is deleted and training starts over.

    Args:
        backup_dir: The `BackupAndRestore` folder.
        model: A compiled model of the run's architecture. Note that a failed
            attempt may leave it with some of the backup's weights: use a
            scratch model, not the one to train.
        epochs: The run's number of epochs; a backup claiming more is refused.

    Returns:
        The number of finished epochs training resumes after (0: from the
        start).
    """
    backup_dir = pathlib.Path(backup_dir)
    if not backup_dir.is_dir():
        return 0
    latest = (backup_dir / BACKUP_WEIGHTS, backup_dir / BACKUP_METADATA)
    previous = tuple(path.with_name(path.name + PREVIOUS_SUFFIX) for path in latest)
    problems = []
    for attempt in ("latest", "previous"):
        if attempt == "previous":
            if not all(path.is_file() for path in previous):
                break
            # Keras loads weights only from a name ending in .weights.h5, so
            # the previous pair is tried from the latest place.
            for source, target in zip(previous, latest, strict=True):
                run_files.copy_file(source, target)
        try:
            epoch = _load_backup_pair(model, *latest, epochs)
        except (OSError, ValueError, KeyError, TypeError) as error:
            problems.append(f"{attempt}: {str(error).splitlines()[0]}")
            continue
        if attempt == "previous":
            logger.warning(
                "The latest backup in %s is damaged (%s); resuming from the "
                "one before it.",
                backup_dir,
                problems[0],
            )
        return epoch
    if any(path.exists() for path in (*latest, *previous)):
        logger.warning(
            "No backup in %s could be loaded (%s); training starts over.",
            backup_dir,
            "; ".join(problems),
        )
    run_files.remove_backup(backup_dir)
    return 0


def _load_backup_pair(model, weights_path, metadata_path, epochs):
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    epoch = metadata["epoch"] if isinstance(metadata, dict) else None
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise ValueError(f"no whole number of epochs in {metadata!r}")
    if epoch > epochs:
        raise ValueError(f"it claims {epoch} epochs of {epochs}")
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(weights_path)
    return epoch
