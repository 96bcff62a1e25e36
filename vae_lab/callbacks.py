"""Callbacks that make a training run safe to interrupt and easy to read."""

import math
import time

import keras

from vae_lab import errors, run_files


class HistoryRecorder(keras.callbacks.Callback):
    """Writes the per-epoch history to a CSV file after every epoch.

    Unlike `keras.callbacks.CSVLogger`, which appends, this rewrites the
    whole file atomically and first drops any rows at or after the epoch just
    finished. A run killed after this callback but before the backup was
    saved repeats that epoch on resume, and its row is then replaced rather
    than duplicated, so the history stays continuous.

    Args:
        path: The CSV file.
    """

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.rows = []
        self._started = None

    def on_train_begin(self, logs=None):
        self.rows = run_files.read_history(self.path)

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
                f"of epoch {self.epoch + 1}. "
                "Check the learning rate (try a smaller one) and that the "
                "images are scaled to [0, 1]. The weights of the last finished "
                "epoch were kept."
            )
