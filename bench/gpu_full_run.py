"""The course's full run on a GPU under JAX, timed, into a run folder.

The full configuration is the `full` preset: all 60,000 training images,
80 epochs, batch size 128, validation split 0.2 (48,000 images train, the
last 12,000 validate), the deeper model (8, 16, 32, 64). The script records
seconds per epoch, the total time, the final training, validation and test
losses, and the GPU memory, and writes a folder that
`vae_lab.training.load_run` can open on any laptop:

    config.json     the settings (a `TrainingConfig`)
    history.csv     one row per epoch, with a `seconds` column
    vae.weights.h5  the trained weights (about 6 MB, no optimizer state)
    metrics.json    final losses, timings, GPU memory, device and versions

It needs only keras, numpy, h5py and JAX (the GPU machine has no
TensorFlow, and neither Matplotlib nor TensorFlow is imported here), plus
the repository's `data/mnist.npz`. Run it from the repository root:

    KERAS_BACKEND=jax python bench/gpu_full_run.py

and check it on a CPU first with a tiny override, which takes a minute:

    KERAS_BACKEND=jax python bench/gpu_full_run.py --epochs 2 \
        --train-size 1000 --output /tmp/gpu_check
"""

import argparse
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from vae_lab import batch_norm, config, data, model, run_files  # noqa: E402

DEFAULT_OUTPUT = REPOSITORY / "bench" / "gpu_full_run"


class EpochTimer(keras.callbacks.Callback):
    """Times each epoch, prints one line, and rewrites the history file.

    Writing the history after every epoch means a run cut short (by the
    device's time limit, say) still leaves the epochs it finished.
    """

    def __init__(self, epochs, history_path):
        super().__init__()
        self.epochs = epochs
        self.history_path = history_path
        self.rows = []
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
        self.rows.append({**row, "seconds": seconds})
        run_files.write_history(self.history_path, self.rows)
        print(
            f"epoch {epoch + 1}/{self.epochs}: {seconds:.2f} s, "
            f"loss {row['loss']:.2f}, val_loss {row.get('val_loss', float('nan')):.2f}",
            flush=True,
        )


def device_description():
    """Names the accelerator Keras trains on, and its peak memory if known."""
    if keras.backend.backend() != "jax":
        return {"backend": keras.backend.backend(), "device": platform.processor()}
    import jax

    device = jax.devices()[0]
    stats = device.memory_stats() or {}
    return {
        "backend": "jax",
        "jax_version": jax.__version__,
        "device": f"{device.platform}: {device.device_kind}",
        "device_count": jax.device_count(),
        "peak_bytes_in_use": stats.get("peak_bytes_in_use"),
        "bytes_limit": stats.get("bytes_limit"),
    }


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="default: 80 (the full preset)")
    parser.add_argument("--train-size", type=int, help="default: all 60,000")
    parser.add_argument("--test-size", type=int, help="default: all 10,000")
    parser.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(argv)
    settings = config.resolve_config(
        "full",
        epochs=arguments.epochs,
        train_size=arguments.train_size,
        test_size=arguments.test_size,
    )
    output = run_files.prepare_run_dir(arguments.output)
    started = time.perf_counter()
    dataset = data.prepare_mnist(settings.train_size, settings.test_size)
    load_seconds = time.perf_counter() - started
    keras.utils.set_random_seed(settings.seed)
    vae = model.build_vae(
        settings.latent_dim,
        settings.filters,
        settings.image_shape,
        dtype_policy=settings.dtype_policy,
    )
    model.compile_vae(vae, settings.learning_rate)
    timer = EpochTimer(settings.epochs, output / run_files.HISTORY)
    fit_started = time.perf_counter()
    vae.fit(
        dataset.x_train,
        dataset.x_train,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        validation_split=settings.validation_split,
        callbacks=[timer],
        verbose=0,
    )
    training_seconds = time.perf_counter() - fit_started
    # As training.train does: recompute BatchNormalization's statistics for
    # the final weights on the training images, then measure held-out losses.
    training_images, validation_images = settings.split_training_images(dataset.x_train)
    batch_norm.recalibrate_batch_norm(vae, training_images, settings.batch_size)

    def evaluate(images):
        result = vae.evaluate(
            images, images, batch_size=settings.batch_size, verbose=0, return_dict=True
        )
        return {key: float(value) for key, value in result.items()}

    test = evaluate(dataset.x_test)
    metrics = summarise(settings, dataset, timer.rows, test, training_seconds)
    metrics["validation"] = evaluate(validation_images)
    metrics["backend"] = keras.backend.backend()
    metrics["data_load_seconds"] = load_seconds
    metrics["total_seconds"] = time.perf_counter() - started
    write_run_folder(output, settings, vae, timer.rows, metrics)
    print(f"wrote {output}")
    for key in ("seconds_per_epoch", "training_seconds", "total_seconds"):
        print(f"{key}: {metrics[key]:.1f}")
    print(f"final: {metrics['final']}")
    print(f"device: {metrics['device']}")
    return metrics


def summarise(settings, dataset, rows, test, training_seconds):
    """Collects the figures of a finished run for metrics.json."""
    seconds = [row["seconds"] for row in rows]
    validation = settings.validation_count(len(dataset.x_train))
    final = {k: v for k, v in rows[-1].items() if k not in ("epoch", "seconds")}
    return {
        "preset": settings.preset,
        "epochs_completed": len(rows),
        "final": final,
        "test": {key: float(value) for key, value in test.items()},
        "final_per_pixel": {
            key: value / int(np.prod(settings.image_shape))
            for key, value in final.items()
        },
        "seconds_per_epoch": float(np.mean(seconds)),
        "seconds_per_epoch_after_first": float(np.mean(seconds[1:] or seconds)),
        "first_epoch_seconds": seconds[0],
        "training_seconds": training_seconds,
        "images": {
            "train": len(dataset.x_train) - validation,
            "validation": validation,
            "test": len(dataset.x_test),
        },
        "device": device_description(),
        "keras_version": keras.__version__,
        "python": platform.python_version(),
        "source": "bench/gpu_full_run.py",
    }


def write_run_folder(output, settings, vae, rows, metrics):
    """Writes the files `vae_lab.training.load_run` reads."""
    run_files.write_text(output / run_files.CONFIG, settings.to_json())
    run_files.write_history(output / run_files.HISTORY, rows)
    # A fresh, uncompiled copy leaves Adam's state out of the file.
    copy = model.build_vae(
        settings.latent_dim,
        settings.filters,
        settings.image_shape,
        dtype_policy=settings.dtype_policy,
    )
    copy.set_weights(vae.get_weights())
    run_files.save_weights(copy, output / run_files.WEIGHTS)
    run_files.write_json(output / run_files.METRICS, metrics)


if __name__ == "__main__":
    main()
