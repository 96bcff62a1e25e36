"""Train the VAE into a run folder that survives interruptions.

A run folder holds everything a run produced:

    config.json          the settings (`TrainingConfig`)
    history.csv          one row per finished epoch, with seconds per epoch
    vae.weights.h5       the trained weights
    metrics.json         final training, validation and test losses
    loss_curves.png, reconstructions.png, latent_space.png, manifold.png
    backup/              only while training: Keras's BackupAndRestore state

`metrics.json` is written last, so its presence marks a finished run. Run the
same `train` call again after an interruption (Ctrl-C, a killed process, a
restarted kernel) and it continues after the last finished epoch; call it on
a finished run and it loads the result instead of training again.
"""

import contextlib
import logging
import os
import pathlib
from typing import NamedTuple

import keras
import matplotlib.pyplot as plt
import numpy as np

from vae_lab import (
    architecture,
    batch_norm,
    callbacks,
    data,
    errors,
    inference,
    model,
    plots,
    run_files,
)
from vae_lab import config as config_lib

logger = logging.getLogger(__name__)
#: Environment variable naming the folder that holds run folders.
RUNS_ENV_VAR = "VAE_LAB_RUNS"


class TrainingResult(NamedTuple):
    """What `train` and `load_run` return."""

    model: keras.Model
    history: dict
    metrics: dict
    run_dir: pathlib.Path


def default_run_dir(name):
    """Returns `$VAE_LAB_RUNS/name`, or `runs/name` in the repository."""
    root = os.environ.get(RUNS_ENV_VAR)
    if root:
        return pathlib.Path(root) / name
    return pathlib.Path(__file__).resolve().parent.parent / "runs" / name


def run_name(config):
    """Names a run folder as the notebooks do: `deeper_cpu`, `baseline_cpu`, ...

    The architecture comes first (`deeper` for filters (8, 16, 32, 64),
    `baseline` for (8, 16), else the filters), then the preset, so that
    `vae-lab train` and notebook 3 share one run.
    """
    names = {
        architecture.DEEPER_FILTERS: "deeper",
        architecture.BASELINE_FILTERS: "baseline",
    }
    default = "filters_" + "_".join(map(str, config.filters))
    return f"{names.get(config.filters, default)}_{config.preset}"


def train(
    config, run_dir, dataset=None, extra_callbacks=(), verbose="auto", fresh=False
):
    """Trains a VAE as `config` says and writes the run folder.

    Args:
        config: A `TrainingConfig`.
        run_dir: The run folder; created if needed.
        dataset: A prepared `data.Dataset`; by default MNIST as `config` says.
        extra_callbacks: More Keras callbacks, run after the built-in ones.
        verbose: Passed to `fit`: `"auto"` or 1 shows a progress bar, 2 one
            line per epoch, 0 nothing.
        fresh: Delete what the folder holds and start over.

    Returns:
        A `TrainingResult`.

    Raises:
        TypeError: If an argument is of the wrong type.
        ValueError: If the dataset does not fit `config` (see
            `check_dataset`); all checks run before any training.
        RunFolderError: If the folder cannot be written, or holds a run
            with other settings.
        NonFiniteLossError: If the loss became NaN or infinite; the weights
            of the last finished epoch are kept in the folder.
        KeyboardInterrupt: On Ctrl-C. Call `train` again with the same
            arguments to resume after the last finished epoch; a killed
            process or a restarted kernel resumes the same way. A damaged
            backup falls back to the epoch before (`callbacks.repair_backup`).
            Note that a resumed run is not bit-identical to one that was
            never stopped: the data order and the sampling noise restart
            from the seed.
    """
    extra_callbacks = _check_train_arguments(
        config, run_dir, dataset, extra_callbacks, verbose, fresh
    )
    run_dir = run_files.prepare_run_dir(run_dir)
    if fresh:
        clear_run_dir(run_dir)
    _check_same_settings(run_dir, config)
    if (run_dir / run_files.METRICS).is_file():
        logger.info("%s holds a finished run; loading it.", run_dir)
        if extra_callbacks:
            logger.warning(
                "Training did not run, so the extra callbacks (such as "
                "--animate) did nothing. Pass fresh=True (--fresh) to train "
                "this run again, or choose another output folder."
            )
        # A kill while the finished run deleted its backup leaves part of it.
        run_files.remove_backup(run_dir / run_files.BACKUP)
        return load_run(run_dir)
    if dataset is None:
        dataset = data.prepare_mnist(config.train_size, config.test_size)
    dataset = check_dataset(dataset, config)
    # A damaged history would otherwise stop `fit` only after the model is built.
    run_files.read_history(run_dir / run_files.HISTORY)
    run_files.write_text(run_dir / run_files.CONFIG, config.to_json())
    vae = _fit(config, run_dir, dataset, extra_callbacks, verbose)
    return _finish(config, run_dir, vae, dataset)


def _check_train_arguments(config, run_dir, dataset, extra_callbacks, verbose, fresh):
    if not isinstance(config, config_lib.TrainingConfig):
        raise TypeError(
            "config must be a TrainingConfig, such as "
            "config.get_preset('smoke'). Received: "
            f"config={config!r} of type {type(config).__name__}."
        )
    if not isinstance(run_dir, (str, os.PathLike)) or not str(run_dir):
        raise TypeError(
            "run_dir must be a folder path (a str or pathlib.Path). "
            f"Received: run_dir={run_dir!r}."
        )
    if dataset is not None and not isinstance(dataset, tuple):
        raise TypeError(
            "dataset must be a data.Dataset (x_train, y_train, x_test, y_test) "
            f"or None. Received: dataset of type {type(dataset).__name__}."
        )
    if isinstance(extra_callbacks, keras.callbacks.Callback):
        extra_callbacks = (extra_callbacks,)
    extra_callbacks = tuple(extra_callbacks)
    for callback in extra_callbacks:
        if not isinstance(callback, keras.callbacks.Callback):
            raise TypeError(
                "extra_callbacks must hold keras.callbacks.Callback objects. "
                f"Received: {callback!r} of type {type(callback).__name__}."
            )
    if verbose not in ("auto", 0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(
            f"verbose must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}."
        )
    if not isinstance(fresh, bool):
        raise TypeError(f"fresh must be True or False. Received: fresh={fresh!r}.")
    return extra_callbacks


def check_dataset(dataset, config):
    """Checks a dataset against the settings before any training starts.

    Args:
        dataset: A `data.Dataset`, or any tuple `(x_train, y_train, x_test,
            y_test)`.
        config: The `TrainingConfig` it will be trained with.

    Returns:
        The dataset as a `data.Dataset`.

    Raises:
        ValueError: If the images are not float pixels in `[0, 1]` of
            `config.image_shape`, the labels do not match the images, or
            `config.batch_size` is larger than the training split.
    """
    if len(dataset) != len(data.ARRAY_KEYS):
        raise ValueError(
            f"dataset must hold the four arrays {data.ARRAY_KEYS}. Received "
            f"{len(dataset)} items."
        )
    dataset = data.Dataset(*dataset)
    for split in ("train", "test"):
        images = data.check_images(
            getattr(dataset, f"x_{split}"), config.image_shape, f"x_{split}"
        )
        labels = np.asarray(getattr(dataset, f"y_{split}"))
        if labels.shape != (len(images),):
            raise ValueError(
                f"y_{split} must hold one label per image of x_{split}, shape "
                f"({len(images)},). Received: shape={labels.shape}."
            )
    validation = config.validation_count(len(dataset.x_train))
    training = len(dataset.x_train) - validation
    if validation < 1 or training < 1:
        raise ValueError(
            f"{len(dataset.x_train)} training images with validation_split="
            f"{config.validation_split} leave {training} for training and "
            f"{validation} for validation. Expected at least one of each."
        )
    if config.batch_size > training:
        raise ValueError(
            f"batch_size={config.batch_size} is larger than the {training} "
            f"images left for training after the validation split. Expected "
            f"at most {training}; use a smaller batch size or more images."
        )
    return dataset


def _fit(config, run_dir, dataset, extra_callbacks, verbose):
    backup_dir = run_dir / run_files.BACKUP
    # Check the backup on a scratch model: a failed load can leave weights
    # half-replaced, and the model that trains must start clean.
    resume_at = callbacks.repair_backup(
        backup_dir,
        model.compile_vae(_build(config), config.learning_rate),
        config.epochs,
    )
    if resume_at:
        logger.info(
            "Resuming %s after epoch %d of %d.", run_dir, resume_at, config.epochs
        )
    # Note that a resumed run is not bit-identical to an uninterrupted one:
    # the seed restarts the data order and the sampling noise at resume.
    keras.utils.set_random_seed(config.seed)
    vae = model.compile_vae(_build(config), config.learning_rate)
    all_callbacks = [
        callbacks.HistoryRecorder(run_dir / run_files.HISTORY, start_epoch=resume_at),
        callbacks.NonFiniteLossGuard(),
        # The backup goes after the history, so a kill between the two
        # repeats an epoch (and replaces its row) rather than losing one.
        callbacks.backup_callback(backup_dir),
        *extra_callbacks,
    ]
    try:
        vae.fit(
            dataset.x_train,
            dataset.x_train,
            epochs=config.epochs,
            batch_size=config.batch_size,
            validation_split=config.validation_split,
            callbacks=all_callbacks,
            verbose=verbose,
        )
    except errors.NonFiniteLossError as error:
        kept = _keep_last_good_weights(config, vae, run_dir)
        raise errors.NonFiniteLossError(f"{error} {kept}") from None
    return vae


def _keep_last_good_weights(config, vae, run_dir):
    """Saves the last finished epoch's weights and says what was kept."""
    backup_dir = run_dir / run_files.BACKUP
    weights = backup_dir / callbacks.BACKUP_WEIGHTS
    restart = (
        "To train again with other settings, use another output folder or "
        "start over with fresh=True (--fresh on the command line)."
    )
    try:
        vae.load_weights(weights)
        finished = run_files.read_json(backup_dir / callbacks.BACKUP_METADATA)
    except (OSError, ValueError, KeyError):
        return f"No epoch had finished, so no weights were saved. {restart}"
    run_files.save_weights(_uncompiled_copy(config, vae), run_dir / run_files.WEIGHTS)
    return (
        f"The weights after epoch {finished['epoch']}, the last good ones, were "
        f"kept in {run_dir / run_files.WEIGHTS}. {restart}"
    )


def _build(config):
    return model.build_vae(
        config.latent_dim,
        config.filters,
        config.image_shape,
        dtype_policy=config.dtype_policy,
    )


def _uncompiled_copy(config, vae):
    copy = _build(config)
    copy.set_weights(vae.get_weights())
    return copy


def _finish(config, run_dir, vae, dataset):
    # The moving statistics lag behind the final weights (see batch_norm.py);
    # recomputing them on training images only leaves validation honest.
    training_images, _ = config.split_training_images(dataset.x_train)
    batch_norm.recalibrate_batch_norm(vae, training_images, config.batch_size)
    # The final file leaves out Adam's state: 5.8 MB instead of 17 MB.
    run_files.save_weights(_uncompiled_copy(config, vae), run_dir / run_files.WEIGHTS)
    history = run_files.history_columns(
        run_files.read_history(run_dir / run_files.HISTORY)
    )
    metrics = _metrics(config, vae, history, dataset)
    write_figures(run_dir, vae, history, dataset.x_test, dataset.y_test)
    run_files.write_json(run_dir / run_files.METRICS, metrics)
    run_files.remove_backup(run_dir / run_files.BACKUP)
    return TrainingResult(vae, history, metrics, run_dir)


def _metrics(config, vae, history, dataset):
    def evaluate(images):
        return {
            key: float(value)
            for key, value in vae.evaluate(
                images,
                images,
                batch_size=config.batch_size,
                verbose=0,
                return_dict=True,
            ).items()
        }

    training_images, validation_images = config.split_training_images(dataset.x_train)
    test = evaluate(dataset.x_test)
    final = {
        key: values[-1]
        for key, values in history.items()
        if key not in ("epoch", "seconds")
    }
    pixels = int(np.prod(config.image_shape))
    return {
        "preset": config.preset,
        "epochs_completed": len(history.get("epoch", [])),
        "final": final,
        # History's validation figures use the lagging moving statistics of
        # each epoch; these use the recalibrated ones of the saved model.
        "validation": evaluate(validation_images),
        "test": test,
        "final_per_pixel": {key: value / pixels for key, value in final.items()},
        "seconds_per_epoch": float(np.mean(history["seconds"])) if history else None,
        "training_seconds": float(np.sum(history.get("seconds", []))),
        "images": {
            "train": len(training_images),
            "validation": len(validation_images),
            "test": len(dataset.x_test),
        },
        "backend": keras.backend.backend(),
        "gpu": config_lib.gpu_available(),
        "keras_version": keras.__version__,
        "parameters": int(vae.count_params()),
    }


def write_figures(run_dir, vae, history, x_test, y_test, count=10):
    """Draws the four standard figures of a run and saves them as PNG files.

    Note that the manifold needs a 2-D latent space: with `latent_dim` above
    2 the scatter shows `z[0]` and `z[1]` only and there is no manifold, and
    with `latent_dim=1` there is neither.
    """
    z_mean, _ = inference.encode(vae, x_test)
    latent_dim = z_mean.shape[1]
    figures = {
        "loss_curves": plots.plot_loss_curves(history),
        "reconstructions": plots.plot_reconstructions(
            x_test[:count], inference.reconstruct(vae, x_test[:count])
        ),
    }
    if latent_dim >= 2:
        title = "Test Digits in the Latent Space"
        if latent_dim > 2:
            title += f" (z[0], z[1] of {latent_dim})"
        figures["latent_space"] = plots.plot_latent_space(
            z_mean[:, :2], y_test, title=title
        )
    if latent_dim == 2:
        figures["manifold"] = plots.plot_manifold(*inference.manifold(vae))
    for name, figure in figures.items():
        run_files.save_figure(figure, run_dir / run_files.FIGURES[name])
        plt.close(figure)


def _check_same_settings(run_dir, config):
    path = run_dir / run_files.CONFIG
    if not path.is_file():
        return
    stored = read_config(run_dir)
    if stored != config:
        raise errors.RunFolderError(
            f"{run_dir} holds a run with other settings, so it cannot be "
            f"resumed with these. Expected: {stored}. Received: {config}. "
            f"Choose another output folder, or start over with fresh=True "
            f"(--fresh on the command line)."
        )


def read_config(run_dir):
    """Reads the `TrainingConfig` stored in a run folder."""
    path = pathlib.Path(run_dir) / run_files.CONFIG
    try:
        return config_lib.TrainingConfig.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise errors.RunFolderError(
            f"{run_dir} is not a run folder: it has no {run_files.CONFIG}."
        ) from None
    except KeyError as error:
        raise errors.RunFolderError(
            f"{path} does not hold valid settings: the setting {error} is missing."
        ) from None
    except (ValueError, TypeError) as error:
        raise errors.RunFolderError(
            f"{path} does not hold valid settings: {error}"
        ) from None


def clear_run_dir(run_dir):
    """Deletes the files a run writes, leaving anything else in the folder."""
    run_dir = pathlib.Path(run_dir)
    names = [run_files.CONFIG, run_files.HISTORY, run_files.WEIGHTS, run_files.METRICS]
    names += [run_files.ANIMATION_GIF, run_files.REPORT]
    for name in [*names, *run_files.FIGURES.values()]:
        (run_dir / name).unlink(missing_ok=True)
    # Only the files vae_lab writes into its two subfolders go, so a folder
    # of the same name that a user filled is never emptied wholesale.
    run_files.remove_backup(run_dir / run_files.BACKUP)
    frames = run_dir / run_files.ANIMATION_FRAMES
    for path in frames.glob("epoch_*.png"):
        path.unlink()
    with contextlib.suppress(OSError):
        frames.rmdir()  # only when empty


def load_weights(vae, path):
    """Loads weights into `vae`, with a clear error when they do not fit.

    Raises:
        RunFolderError: If the file is missing or from another architecture.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise errors.RunFolderError(
            f"No weights file at {path}. Expected the weights the run saved; "
            f"if they were deleted, train the run again from the start with "
            f"fresh=True (--fresh on the command line)."
        )
    try:
        vae.load_weights(path)
    except (ValueError, KeyError, OSError) as error:
        raise errors.RunFolderError(
            f"The weights in {path} do not fit this model "
            f"({vae.count_params():,} parameters, filters "
            f"{_filters_of(vae)}): they come from another architecture or "
            f"the file is damaged. Keras said: {str(error).splitlines()[0]}"
        ) from None


def _filters_of(vae):
    return tuple(
        layer.filters
        for layer in model.encoder_of(vae).layers
        if isinstance(layer, keras.layers.Conv2D)
    )


def load_run(run_dir):
    """Loads a finished (or interrupted) run without training.

    Returns:
        A `TrainingResult`; `metrics` is empty for an unfinished run.

    Raises:
        RunFolderError: If the folder lacks settings or weights, or they do
            not fit together.
    """
    run_dir = pathlib.Path(run_dir)
    config = read_config(run_dir)
    vae = _build(config)
    load_weights(vae, run_dir / run_files.WEIGHTS)
    model.compile_vae(vae, config.learning_rate)
    history = run_files.history_columns(
        run_files.read_history(run_dir / run_files.HISTORY)
    )
    metrics_path = run_dir / run_files.METRICS
    metrics = _read_metrics(metrics_path) if metrics_path.is_file() else {}
    return TrainingResult(vae, history, metrics, run_dir)


def _read_metrics(path):
    """Reads metrics.json, checking that it has the shape `_metrics` writes."""
    metrics = run_files.read_json(path)
    sections = ("final", "validation", "test")
    required = ("training_seconds", "seconds_per_epoch", "images", "backend")
    if (
        not isinstance(metrics, dict) or any(name not in metrics for name in required)
    ) or not all(
        isinstance(metrics.get(name, {}), dict)
        and all(
            isinstance(value, (int, float)) for value in metrics.get(name, {}).values()
        )
        for name in sections
    ):
        raise errors.RunFolderError(
            f"{path} is not a metrics file written by vae_lab: expected an "
            f"object with {', '.join(required)}, and {', '.join(sections)} "
            f"entries that map loss names to numbers. Delete it and run the "
            f"same train command again to write it anew."
        )
    return metrics
