"""The `vae-lab` command end to end, in real processes: train, stop, resume.

These tests start `vae-lab` as a student would, so they pay TensorFlow's
start-up (about 5 s) per process; they use the smoke preset, and the
baseline filters (8, 16) where the point is the mechanics.
"""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from vae_lab import cli, config, run_files, training

REPO = pathlib.Path(__file__).resolve().parent.parent
#: Settings for the interruption tests: enough epochs to stop one mid-run.
RESUME_OPTIONS = [
    "train",
    "--preset",
    "smoke",
    "--filters",
    "8,16",
    "--epochs",
    "10",
    "--train-size",
    "256",
    "--test-size",
    "64",
    "--verbose",
    "2",
]


def vae_lab_command():
    script = pathlib.Path(sys.executable).parent / "vae-lab"
    return [str(script)] if script.exists() else [sys.executable, "-m", "vae_lab.cli"]


def _default_sigint():
    # A shell starts background jobs with SIGINT ignored, and Python keeps an
    # ignored SIGINT ignored; give the child Ctrl-C back, as a terminal would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*argv):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [*vae_lab_command(), *map(str, argv)],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def finished_epochs(run_dir):
    try:
        return [row["epoch"] for row in run_files.read_history(run_dir / "history.csv")]
    except Exception:  # noqa: BLE001 - a reader may race the atomic rename
        return []


def wait_for_epochs(process, run_dir, count, timeout=120):
    """Waits until the history lists at least `count` epochs."""
    deadline = time.monotonic() + timeout
    while len(finished_epochs(run_dir)) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "training did not progress"
        time.sleep(0.02)


def epochs_started(stdout):
    """The 1-based epoch numbers Keras announced, from `verbose=2` output."""
    return [int(number) for number in re.findall(r"^Epoch (\d+)/\d+$", stdout, re.M)]


def test_help_explains_every_option(capsys):
    parser = cli.build_parser()
    train_help = parser._subparsers._group_actions[0].choices["train"].format_help()
    for option in (
        "--preset",
        "--epochs",
        "--batch-size",
        "--train-size",
        "--test-size",
        "--validation-split",
        "--filters",
        "--latent-dim",
        "--learning-rate",
        "--seed",
        "--data",
        "--output",
        "--fresh",
        "--animate",
        "--verbose",
    ):
        assert option in train_help
    report_help = parser._subparsers._group_actions[0].choices["report"].format_help()
    assert "RUN_FOLDER" in report_help and "--output" in report_help


def test_ctrl_c_then_kill_then_resume(tmp_path):
    run_dir = tmp_path / "run"
    command = [*RESUME_OPTIONS, "-o", run_dir]

    # Ctrl-C: a one-line message that says how to resume, exit code 130.
    first = start(*command)
    wait_for_epochs(first, run_dir, 1)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().endswith(
        "vae-lab: interrupted. Run the same command again to resume after the "
        "last finished epoch."
    )
    after_ctrl_c = finished_epochs(run_dir)

    # A killed process: no message at all, and nothing to clean up.
    second = start(*command)
    wait_for_epochs(second, run_dir, len(after_ctrl_c) + 1)
    second.kill()
    stdout, _ = second.communicate(timeout=60)
    assert second.returncode == -signal.SIGKILL
    assert epochs_started(stdout)[0] in (len(after_ctrl_c), len(after_ctrl_c) + 1)
    killed_rows = run_files.read_history(run_dir / "history.csv")
    killed = [row["epoch"] for row in killed_rows]
    assert killed == list(range(len(killed))) and 0 < len(killed) < 10
    assert not (run_dir / run_files.METRICS).exists()

    # The same command again: it resumes, losing at most the epoch in flight.
    third = start(*command)
    stdout, err = third.communicate(timeout=300)
    assert third.returncode == 0, err
    resumed_at = epochs_started(stdout)[0]
    assert resumed_at in (len(killed), len(killed) + 1), (resumed_at, killed)
    assert epochs_started(stdout) == list(range(resumed_at, 11))
    rows = run_files.read_history(run_dir / "history.csv")
    assert [row["epoch"] for row in rows] == list(range(10))
    assert rows[: resumed_at - 1] == killed_rows[: resumed_at - 1]
    metrics = run_files.read_json(run_dir / run_files.METRICS)
    assert metrics["epochs_completed"] == 10
    assert not (run_dir / run_files.BACKUP).exists()


def test_train_end_to_end_writes_every_artifact(tmp_path):
    run_dir = tmp_path / "smoke"
    process = start("train", "--preset", "smoke", "--animate", "-o", run_dir)
    stdout, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert f"Run folder: {run_dir}" in err

    expected = {
        "config.json",
        "history.csv",
        "vae.weights.h5",
        "metrics.json",
        "loss_curves.png",
        "reconstructions.png",
        "latent_space.png",
        "manifold.png",
        "training.gif",
        "animation",
    }
    assert {path.name for path in run_dir.iterdir()} == expected

    smoke = config.get_preset("smoke")
    assert training.read_config(run_dir) == smoke
    rows = run_files.read_history(run_dir / "history.csv")
    assert [row["epoch"] for row in rows] == [0, 1]
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        assert all(
            np.isfinite(row[key]) and np.isfinite(row[f"val_{key}"]) for row in rows
        )
    assert all(row["seconds"] > 0 for row in rows)

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs_completed"] == 2
    assert metrics["parameters"] == 1_441_529
    assert metrics["images"] == {"train": 410, "validation": 102, "test": 128}
    assert set(metrics["test"]) >= {"loss", "reconstruction_loss", "kl_loss"}
    assert metrics["final"]["val_loss"] == rows[-1]["val_loss"]

    result = training.load_run(run_dir)
    assert result.model.count_params() == 1_441_529
    for name in run_files.FIGURES.values():
        with Image.open(run_dir / name) as image:
            assert image.format == "PNG" and min(image.size) > 100
    frames = sorted(path.name for path in (run_dir / "animation").iterdir())
    assert frames == ["epoch_001.png", "epoch_002.png"]
    with Image.open(run_dir / "training.gif") as gif:
        assert gif.n_frames == 2
    assert "Wrote " in err and "training.gif: 2 frames" in err
