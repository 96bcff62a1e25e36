"""The `vae-lab` command: train into a run folder, and report on runs.

Examples:
    vae-lab train                      # cpu preset on a CPU, full on a GPU
    vae-lab train --preset smoke -o /tmp/smoke
    vae-lab train --epochs 20 --filters 8,16 --animate
    vae-lab report runs/cpu            # writes runs/cpu/report.pdf
    vae-lab report runs/cpu runs/baseline -o comparison.pdf

Mistakes in the options or the files get a one-line message and exit code 2;
a training stopped by a NaN loss exits with 1, and Ctrl-C with 130.
"""

import argparse
import logging
import sys

from vae_lab import config as config_lib
from vae_lab import errors

logger = logging.getLogger("vae_lab")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of at least 1, received {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of at least 1, received {value}"
        )
    return value


def _non_negative_int(text):
    if text.strip().lstrip("+").isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(
        f"expected a whole number of at least 0, received {text!r}"
    )


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, received {text!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"expected a number strictly between 0 and 1, received {value}"
        )
    return value


def _learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value < 10.0:
        raise argparse.ArgumentTypeError(
            f"expected a number above 0 and below 10 such as 0.001, received {text!r}"
        )
    return value


def _path(text):
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, received an empty string")
    return text


def _filters(text):
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError(
            "expected comma-separated positive whole numbers such as 8,16,32,64, "
            f"received {text!r}"
        )
    return tuple(int(part) for part in parts)


def build_parser():
    """Returns the argument parser of `vae-lab`."""
    parser = argparse.ArgumentParser(
        prog="vae-lab",
        description="Train and inspect the course's convolutional VAE on MNIST.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train",
        help="train the VAE and write a run folder",
        description=(
            "Train the VAE on the bundled MNIST and write a run folder with "
            "weights, settings, history, metrics and figures. Run the same "
            "command again after an interruption to resume after the last "
            "finished epoch. Options override the preset's settings."
        ),
    )
    _add_train_options(train)
    report = commands.add_parser(
        "report",
        help="write a PDF report of one run, or compare two",
        description=(
            "Write a multi-page PDF: the settings, the architecture with its "
            "parameter counts, the loss curves, reconstructions, the latent "
            "space, the manifold and the final metrics. Given two run folders, "
            "it compares them side by side."
        ),
    )
    _add_report_options(report)
    return parser


def _add_report_options(report):
    report.add_argument(
        "runs",
        nargs="+",
        type=_path,
        metavar="RUN_FOLDER",
        help="one run folder, or two to compare",
    )
    report.add_argument(
        "-o",
        "--output",
        type=_path,
        help=(
            "PDF to write (default: report.pdf in the run folder, or "
            "comparison-with-<second run>.pdf in the first folder)"
        ),
    )
    report.add_argument(
        "--data",
        type=_path,
        help="the npz the runs were trained on, if not data/mnist.npz",
    )


def _add_train_options(train):
    train.add_argument(
        "--preset",
        choices=sorted(config_lib.PRESETS),
        help=(
            "named settings: full (60,000 images, 80 epochs, for a GPU), cpu "
            "(10,000 images, 8 epochs, a few minutes on 2 cores), smoke (a "
            "few seconds, for tests). Default: full when Keras sees a GPU, "
            f"else cpu, unless ${config_lib.PRESET_ENV_VAR} names one"
        ),
    )
    train.add_argument("--epochs", type=_positive_int, help="passes over the data")
    train.add_argument(
        "--batch-size", type=_positive_int, help="images per step (course: 128)"
    )
    train.add_argument(
        "--train-size", type=_positive_int, help="training images to use"
    )
    train.add_argument("--test-size", type=_positive_int, help="test images to use")
    train.add_argument(
        "--validation-split",
        type=_fraction,
        help="fraction of training images held out (course: 0.2)",
    )
    train.add_argument(
        "--filters",
        type=_filters,
        help="encoder filters, comma-separated (deeper: 8,16,32,64; baseline: 8,16)",
    )
    train.add_argument(
        "--latent-dim", type=_positive_int, help="latent dimensions (course: 2)"
    )
    train.add_argument(
        "--learning-rate", type=_learning_rate, help="Adam's step size (0.001)"
    )
    train.add_argument("--seed", type=_non_negative_int, help="random seed (42)")
    train.add_argument(
        "--data",
        type=_path,
        help="an npz of MNIST's layout to use instead of data/mnist.npz",
    )
    train.add_argument(
        "-o",
        "--output",
        type=_path,
        help=(
            "run folder to write (default: runs/deeper_<preset>, or "
            "runs/baseline_<preset> for --filters 8,16, in the repository or "
            "in $VAE_LAB_RUNS; the notebooks use the same folders)"
        ),
    )
    train.add_argument(
        "--mixed-precision",
        action="store_true",
        help=(
            "compute in bfloat16 with float32 weights: 1.3-1.9x faster for the "
            "deeper model on a CPU with AVX512_BF16 (bench/RESULTS.md), slower "
            "on CPUs without bfloat16 arithmetic"
        ),
    )
    train.add_argument(
        "--animate",
        action="store_true",
        help=(
            "save each epoch's reconstructions and manifold and write "
            "training.gif at the end (2-4 s more per epoch on 2 CPU cores)"
        ),
    )
    train.add_argument(
        "--fresh",
        action="store_true",
        help="delete what the run folder holds and start over instead of resuming",
    )
    train.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="0: silent, 1: progress bar (default), 2: one line per epoch",
    )


def _train(args):
    # Keras and TensorFlow load only once the options and the data have
    # passed their checks, so --help and most mistakes answer at once.
    from vae_lab import data

    config = config_lib.resolve_config(
        args.preset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        train_size=args.train_size,
        test_size=args.test_size,
        validation_split=args.validation_split,
        filters=args.filters,
        latent_dim=args.latent_dim,
        learning_rate=args.learning_rate,
        seed=args.seed,
        dtype_policy="mixed_bfloat16" if args.mixed_precision else None,
    )
    dataset = data.prepare_mnist(config.train_size, config.test_size, path=args.data)
    _check_data_shape(args.data, dataset, config)
    _import_keras_quietly()
    from vae_lab import animation, training

    dataset = training.check_dataset(dataset, config)
    run_dir = args.output or training.default_run_dir(training.run_name(config))
    extra_callbacks = []
    if args.animate:
        extra_callbacks.append(
            animation.TrainingAnimation(
                run_dir,
                dataset.x_test,
                calibration_images=config.split_training_images(dataset.x_train)[0],
            )
        )
    logger.info("Training with %s into %s", config, run_dir)
    result = training.train(
        config,
        run_dir,
        dataset=dataset,
        extra_callbacks=extra_callbacks,
        verbose=args.verbose,
        fresh=args.fresh,
    )
    _log_metrics(result)
    return 0


def _check_data_shape(path, dataset, config):
    received = dataset.x_train.shape[1:]
    if received != config.image_shape:
        raise errors.DataFileError(
            f"--data {path}: the images have shape {received[:2]} with "
            f"{received[2]} channel(s). Expected MNIST-sized grey-scale digits, "
            f"{config.image_shape[:2]} with {config.image_shape[2]} channel."
        )


def _report(args):
    if len(args.runs) > 2:
        raise errors.RunFolderError(
            f"report takes one run folder, or two to compare. Received "
            f"{len(args.runs)}: {args.runs}."
        )
    _import_keras_quietly()
    from vae_lab import report

    path = report.write_report(args.runs, args.output, data_path=args.data)
    logger.info("Report written to %s", path)
    return 0


def _log_metrics(result):
    final = result.metrics.get("final", {})
    # The saved model's validation and test losses, measured after the
    # BatchNormalization statistics were recomputed (see batch_norm.py); the
    # last epoch's val_ figures in history.csv used the lagging ones.
    validation = result.metrics.get("validation", {})
    test = result.metrics.get("test", {})
    logger.info(
        "%-20s %10s %12s %8s  (nats per image)", "", "training", "validation", "test"
    )
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        logger.info(
            "%-20s %10.2f %12.2f %8.2f",
            key,
            final.get(key, float("nan")),
            validation.get(key, float("nan")),
            test.get(key, float("nan")),
        )
    logger.info("Run folder: %s", result.run_dir)


def _import_keras_quietly():
    # TensorFlow writes its C++ start-up notices (oneDNN, CUDA drivers, and an
    # alarming "failed call to cuInit" on machines without a GPU) straight to
    # file descriptor 2; they say nothing a student can act on.
    from vae_lab import notebook_setup

    notebook_setup.import_keras_quietly()


def main(argv=None):
    """Runs `vae-lab` with `argv` (default: the command line); returns the code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _show_progress_messages()
    handlers = {"train": _train, "report": _report}
    try:
        return handlers[args.command](args)
    except (errors.DataFileError, errors.RunFolderError) as error:
        parser.exit(2, f"vae-lab: error: {error}\n")
    except errors.NonFiniteLossError as error:
        parser.exit(1, f"vae-lab: training stopped: {error}\n")
    except (ValueError, TypeError) as error:
        if "vae_lab" not in _origin(error):
            raise
        parser.exit(2, f"vae-lab: error: {error}\n")
    except KeyboardInterrupt:
        message = {
            "train": "Run the same command again to resume after the last "
            "finished epoch.",
            "report": "No report was written.",
        }[args.command]
        parser.exit(130, f"vae-lab: interrupted. {message}\n")
    except OSError as error:
        # A full disk or a file taken away mid-run: not a bug in vae_lab,
        # and the run folder keeps its last complete files.
        parser.exit(1, f"vae-lab: error: {error}\n")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a message arrives."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _show_progress_messages():
    """Shows vae_lab's own INFO messages on stderr, once, and no one else's.

    Other libraries' INFO messages (fontTools lists every glyph it embeds in
    a PDF) stay hidden, because only the `vae_lab` logger gets a handler.
    """
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _origin(error):
    """Returns the file where `error` was raised."""
    traceback = error.__traceback__
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_code.co_filename


if __name__ == "__main__":
    sys.exit(main())
