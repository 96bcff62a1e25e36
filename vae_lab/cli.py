"""The `vae-lab` command: train into a run folder, and report on runs.

Examples:
    vae-lab train                      # cpu preset on a CPU, full on a GPU
    vae-lab train --preset smoke -o /tmp/smoke
    vae-lab train --epochs 20 --filters 8,16
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
            f"expected a positive number such as 0.001, received {text!r}"
        )
    return value


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
    return parser


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
        "--data", help="an npz of MNIST's layout to use instead of data/mnist.npz"
    )
    train.add_argument(
        "-o",
        "--output",
        help="run folder to write (default: runs/<preset> in the repository)",
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
    # Keras and TensorFlow load here, not at import, so --help stays fast.
    from vae_lab import data, training

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
    )
    run_dir = args.output or training.default_run_dir(config.preset)
    dataset = None
    if args.data:
        dataset = data.prepare_mnist(
            config.train_size, config.test_size, path=args.data
        )
    logger.info("Training with %s into %s", config, run_dir)
    result = training.train(
        config, run_dir, dataset=dataset, verbose=args.verbose, fresh=args.fresh
    )
    _log_metrics(result)
    return 0


def _log_metrics(result):
    final = result.metrics.get("final", {})
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        logger.info(
            "%-20s training %8.2f   validation %8.2f   nats per image",
            key,
            final.get(key, float("nan")),
            final.get(f"val_{key}", float("nan")),
        )
    logger.info("Run folder: %s", result.run_dir)


def main(argv=None):
    """Runs `vae-lab` with `argv` (default: the command line); returns the code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    handlers = {"train": _train}
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
        parser.exit(
            130,
            "vae-lab: interrupted. Run the same command again to resume after "
            "the last finished epoch.\n",
        )


def _origin(error):
    """Returns the file where `error` was raised."""
    traceback = error.__traceback__
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_code.co_filename


if __name__ == "__main__":
    sys.exit(main())
