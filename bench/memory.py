"""Peak memory (RSS) and seconds per epoch of a real `vae_lab` training run.

A fresh child process runs `vae_lab.training.train` on a preset (by default
the cpu preset: the course's 10,000 training and 1,000 test images, the
deeper model) with its epochs cut to `--epochs`, writing the whole run folder
(weights, history, metrics, figures) into a temporary folder. The parent then
reads the child's peak resident memory from the operating system
(`getrusage(RUSAGE_CHILDREN)`), and the seconds of each epoch, validation
pass included, from the run's `history.csv`. The first epoch includes
tracing; later epochs show the steady pace. Peak memory is reached in the
first epoch and in the final evaluation and figures, so two epochs show the
peak of the full eight-epoch preset as well.

Run: .venv/bin/python bench/memory.py --preset cpu --epochs 2
"""

import argparse
import csv
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

CHILD = """
import sys
from vae_lab import config, training
settings = config.get_preset(sys.argv[1]).replace(
    epochs=int(sys.argv[2]), filters=tuple(int(f) for f in sys.argv[3].split(","))
)
training.train(settings, sys.argv[4], verbose=0)
"""


def run_child(preset, epochs, filters, run_dir):
    """Trains in a child process; returns its wall time in seconds."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            preset,
            str(epochs),
            ",".join(str(f) for f in filters),
            str(run_dir),
        ],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--filters", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        run_dir = pathlib.Path(folder) / "run"
        wall = run_child(args.preset, args.epochs, args.filters, run_dir)
        with (run_dir / "history.csv").open(encoding="utf-8") as handle:
            seconds = [float(row["seconds"]) for row in csv.DictReader(handle)]
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    # ru_maxrss is in KiB on Linux: the largest child that has finished so far.
    peak_bytes = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    result = {
        "preset": args.preset,
        "filters": args.filters,
        "epochs": args.epochs,
        "images": metrics.get("images"),
        "peak_rss_bytes": peak_bytes,
        "epoch_seconds": seconds,
        "wall_seconds": wall,
    }
    print(
        f"preset {args.preset}, filters {tuple(args.filters)}, {args.epochs} "
        f"epochs: peak RSS {peak_bytes / 2**30:.2f} GiB, epoch seconds "
        + ", ".join(f"{s:.1f}" for s in seconds)
        + f", whole run {wall:.1f} s"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(result, file, indent=2)
    return result


if __name__ == "__main__":
    main()
