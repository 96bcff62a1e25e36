"""Import time of vae_lab and the time to load and prepare MNIST.

Each import is timed in a fresh Python process, since a second import in the
same process costs nothing. `import vae_lab` alone is cheap by design (Keras
is imported only by the modules that need it), so the script also times
`import vae_lab.model`, which brings Keras and its backend, as a notebook's
first cell does. Data preparation (`data.prepare_mnist`: read the npz, check
the SHA-256 of every array, reshape, cast to float32, scale) is timed in a
fresh process too, for all 60,000 + 10,000 images and for the cpu preset's
10,000 + 1,000.

Run: .venv/bin/python bench/startup.py
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = """
import time
started = time.perf_counter()
{statement}
print("SECONDS", time.perf_counter() - started)
"""
STATEMENTS = {
    "import vae_lab": "import vae_lab",
    "import vae_lab.model (Keras, TensorFlow)": "import vae_lab.model",
    "prepare_mnist() all 70,000 images": (
        "from vae_lab import data\nstarted = time.perf_counter()\ndata.prepare_mnist()"
    ),
    "prepare_mnist(10000, 1000) cpu preset": (
        "from vae_lab import data\nstarted = time.perf_counter()\n"
        "data.prepare_mnist(10_000, 1_000)"
    ),
}


def time_in_fresh_process(statement):
    """Runs `statement` in a new interpreter and returns its seconds."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run(
        [sys.executable, "-c", CHILD.format(statement=statement)],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    line = [x for x in completed.stdout.splitlines() if x.startswith("SECONDS")][-1]
    return float(line.split()[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = {}
    for name, statement in STATEMENTS.items():
        seconds = [time_in_fresh_process(statement) for _ in range(args.repeats)]
        result[name] = {"median_seconds": statistics.median(seconds), "all": seconds}
        print(
            f"{name:45s} {statistics.median(seconds):6.3f} s (runs: "
            + ", ".join(f"{s:.3f}" for s in seconds)
            + ")",
            flush=True,
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(result, file, indent=2)
    return result


if __name__ == "__main__":
    main()
