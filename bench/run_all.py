"""Runs every benchmark of vae_lab in turn and prints one table.

Each part runs in its own child process, one after the other (never two at
once, so they do not compete for the cores):

1. startup.py: `import vae_lab`, `import vae_lab.model`, `prepare_mnist`.
2. throughput.py for the deeper model (8, 16, 32, 64) and the baseline
   (8, 16): vae_lab against the plain reference and the candidate settings,
   alternating, warm-up excluded.
3. memory.py for both models: a real `training.train` run of the cpu preset
   cut to two epochs, for peak RSS and measured seconds per epoch.

The figures go to the screen and, with --json, to a file. On 2 cores the
whole run takes about 6-9 minutes.

Run: .venv/bin/python bench/run_all.py [--quick] [--json bench/results.json]
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
MODELS = {"deeper": [8, 16, 32, 64], "baseline": [8, 16]}
#: Per model: batches per timed round, rounds, evaluation batches, rounds.
ROUNDS = {
    "deeper": ["--steps", "4", "--rounds", "5", "--eval-steps", "6"],
    "baseline": ["--steps", "16", "--rounds", "4", "--eval-steps", "16"],
}
QUICK_ROUNDS = ["--steps", "3", "--rounds", "1", "--eval-steps", "3"]
VARIANTS = ["reference", "vae_lab", "xla", "spe4", "bf16"]
CPU_PRESET_IMAGES = {"train": 8_000, "validation": 2_000}
FULL_IMAGES = {"train": 48_000, "validation": 12_000}


def run_part(script, arguments, folder):
    """Runs one bench script in a child process and returns its JSON."""
    output = (
        pathlib.Path(folder)
        / f"{script}-{len(list(pathlib.Path(folder).iterdir()))}.json"
    )
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(HERE / f"{script}.py"), *arguments, "--json", str(output)],
        env=environment,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{completed.stderr[-3000:]}")
    print(
        completed.stdout.rstrip(),
        f"\n  ({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    return json.loads(output.read_text(encoding="utf-8"))


def machine():
    """The machine and the versions, for the record."""
    import importlib.metadata as metadata

    cpu = "unknown"
    if pathlib.Path("/proc/cpuinfo").is_file():
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("keras", "tensorflow", "jax", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "load_average_at_start": load,
    }


def epoch_seconds(train, evaluate, images):
    """Seconds per epoch from throughputs: training pass plus validation pass."""
    return images["train"] / train + images["validation"] / evaluate


def print_table(results):
    print("\n== Throughput (images/s, batch 128, median of alternating rounds;")
    print("   'x ref': median over rounds of the ratio to the reference's")
    print("   neighbouring round, which ran under the same load) ==")
    print(
        f"{'model':9s} {'variant':10s} {'train':>8s} {'x ref':>6s} {'eval':>8s} "
        f"{'x ref':>6s} {'last loss':>9s} {'cpu-preset epoch':>16s} {'full epoch':>10s}"
    )
    for name, result in results["throughput"].items():
        train, evaluate = result["train"], result["evaluate"]
        for variant, figures in train.items():
            ips = figures["images_per_second"]
            eval_ips = evaluate.get(variant, evaluate["vae_lab"])["images_per_second"]
            eval_text = (
                f"{eval_ips:8.0f} {evaluate[variant]['paired_ratio']:6.2f}"
                if variant in evaluate
                else f"{'':8s} {'':6s}"
            )
            print(
                f"{name:9s} {variant:10s} {ips:8.0f} {figures['paired_ratio']:6.2f} "
                f"{eval_text} {figures.get('final_training_loss') or 0:9.1f} "
                f"{epoch_seconds(ips, eval_ips, CPU_PRESET_IMAGES):14.1f} s "
                f"{epoch_seconds(ips, eval_ips, FULL_IMAGES):8.0f} s"
            )
    print("\n== A real cpu-preset run (training.train, 2 epochs) ==")
    for name, result in results["memory"].items():
        seconds = ", ".join(f"{s:.1f}" for s in result["epoch_seconds"])
        print(
            f"{name:9s} peak RSS {result['peak_rss_bytes'] / 2**30:5.2f} GiB, "
            f"seconds per epoch {seconds} (first includes tracing), "
            f"whole run {result['wall_seconds']:.0f} s"
        )
    print("\n== Start-up ==")
    for name, figures in results["startup"].items():
        print(f"{name:45s} {figures['median_seconds']:6.3f} s")
    for name, result in results["throughput"].items():
        for variant in ("vae_lab", "bf16"):
            figures = result["train"].get(variant)
            if figures:
                fastest = figures["fastest"] / result["train"]["reference"]["fastest"]
                print(
                    f"Ratio {variant} / reference, training, {name}: "
                    f"{figures['paired_ratio']:.2f} paired, {fastest:.2f} "
                    "fastest round against fastest round"
                )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round each")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = {"machine": machine(), "throughput": {}, "memory": {}}
    with tempfile.TemporaryDirectory() as folder:
        results["startup"] = run_part(
            "startup", ["--repeats", "1" if args.quick else "3"], folder
        )
        for name, filters in MODELS.items():
            rounds = QUICK_ROUNDS if args.quick else ROUNDS[name]
            results["throughput"][name] = run_part(
                "throughput",
                ["--filters", *map(str, filters), "--variants", *VARIANTS, *rounds],
                folder,
            )
        for name, filters in MODELS.items():
            results["memory"][name] = run_part(
                "memory",
                [
                    "--preset",
                    "cpu",
                    "--epochs",
                    "1" if args.quick else "2",
                    "--filters",
                    *map(str, filters),
                ],
                folder,
            )
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    print_table(results)
    print(f"\nMachine: {results['machine']}")
    print(f"Whole benchmark: {results['seconds']:.0f} s")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
