"""Every mistake a student can make on the command line gets one clear line.

Each case runs `vae-lab` in this process through `cli.main` and pins the
message; a sweep at the end runs a few of them as real processes and checks
that no traceback reaches the terminal. The same mistakes made through the
Python functions are tested in test_data.py, test_config.py,
test_training.py and test_report.py.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from vae_lab import cli, config, data

REPO = pathlib.Path(__file__).resolve().parent.parent


def run_cli(capsys, *argv):
    """Runs `vae-lab argv`; returns the exit code and what went to stderr."""
    try:
        code = cli.main([str(arg) for arg in argv])
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().err


def save_npz(path, x_train, x_test=None, **changes):
    x_test = x_train[:16] if x_test is None else x_test
    arrays = {
        "x_train": x_train,
        "y_train": np.zeros(len(x_train), "uint8"),
        "x_test": x_test,
        "y_test": np.zeros(len(x_test), "uint8"),
    }
    arrays.update(changes)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, mnist):
    """Broken data files, each named after what is wrong with it."""
    folder = tmp_path_factory.mktemp("bad_files")
    digits = mnist.x_train[:64]
    whole = data.REPO_DATA_PATH.read_bytes()
    files = {
        "truncated": folder / "truncated.npz",
        "text": folder / "notes.npz",
        "folder": folder / "a_folder.npz",
    }
    files["truncated"].write_bytes(whole[: len(whole) // 2])
    files["npy"] = folder / "saved_with_np_save.npz"
    with files["npy"].open("wb") as handle:
        np.save(handle, digits)
    files["text"].write_text("x_train,y_train\n1,2\n")
    files["folder"].mkdir()
    files["missing_keys"] = save_npz(
        folder / "keys.npz", digits, x_test=None, y_test=None
    )
    files["missing_keys"] = folder / "keys.npz"
    np.savez(files["missing_keys"], x_train=digits, y_train=np.zeros(64, "uint8"))
    files["pickled"] = folder / "pickled.npz"
    np.savez(
        files["pickled"],
        x_train=np.array([digits[0], "payload"], dtype=object),
        y_train=np.zeros(2),
        x_test=digits,
        y_test=np.zeros(64),
    )
    files["rgb"] = save_npz(folder / "rgb.npz", np.repeat(digits[..., None], 3, -1))
    files["floats"] = save_npz(folder / "floats.npz", digits.astype("float32") / 255)
    # Enough images for the smoke preset, so that only their size is wrong.
    many = mnist.x_train[:600]
    files["27x27"] = save_npz(
        folder / "small.npz", many[:, :27, :27], many[:, :27, :27]
    )
    padded = np.pad(many, ((0, 0), (2, 2), (2, 2)))
    files["32x32"] = save_npz(folder / "large.npz", padded, padded)
    files["empty"] = save_npz(folder / "empty.npz", digits[:0], x_test=digits[:0])
    files["few"] = save_npz(folder / "few.npz", digits)
    altered = mnist.x_train.copy()
    altered[0, 14, 14] ^= 1
    files["altered"] = folder / "altered.npz"
    np.savez(files["altered"], **{**mnist._asdict(), "x_train": altered})
    return files


SMOKE = ("train", "--preset", "smoke", "--verbose", "0")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing", r"MNIST file not found: .*missing\.npz\. Expected the npz"),
        ("truncated", r"Could not read .*truncated\.npz as an npz .*truncated or not"),
        ("text", r"Could not read .*notes\.npz as an npz archive of plain arrays"),
        ("folder", r"a_folder\.npz is a folder\. Expected an npz file"),
        ("npy", r"saved_with_np_save\.npz as an npz .*: it is not a zip archive"),
        (
            "missing_keys",
            r"lacks the arrays \['x_test', 'y_test'\]\. Expected the keys",
        ),
        ("pickled", r"Could not read .*pickled\.npz .*Object arrays cannot be loaded"),
        ("rgb", r"x_train must be uint8 grey-scale .*shape=\(64, 28, 28, 3\)"),
        ("floats", r"x_train must be uint8 .*Received: dtype=float32"),
        ("27x27", r"--data .*: the images have shape \(27, 27\) with 1 channel"),
        (
            "32x32",
            r"--data .*: the images have shape \(32, 32\) .*Expected MNIST-sized",
        ),
        ("empty", r"x_train holds no images\. Expected at least one"),
        (
            "few",
            r"train_size must be at least 1 and at most 64\. Received: train_size=512",
        ),
    ],
)
def test_bad_data_file(capsys, tmp_path, bad_files, name, message):
    path = bad_files.get(name, tmp_path / "missing.npz")
    code, err = run_cli(capsys, *SMOKE, "--data", path, "-o", tmp_path / "run")
    assert code == 2
    assert err.startswith("vae-lab: error: ")
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err
    assert "allow_pickle=True" not in err and "unsafely" not in err
    assert not (tmp_path / "run").exists()


def test_altered_default_data_fails_its_hash(capsys, tmp_path, bad_files, monkeypatch):
    # The repository's own file, altered: its hashes are always checked.
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    monkeypatch.setattr(data, "REPO_DATA_PATH", bad_files["altered"])
    code, err = run_cli(capsys, *SMOKE, "-o", tmp_path / "run")
    assert code == 2
    assert "array x_train is not the canonical MNIST. Expected SHA-256 741c98" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--epochs", "0"],
            "argument --epochs: expected a whole number of at least 1, received 0",
        ),
        (
            ["--epochs", "2.5"],
            "argument --epochs: expected a whole number of at least 1, received '2.5'",
        ),
        (["--epochs", "ten"], "received 'ten'"),
        (
            ["--batch-size", "-1"],
            "argument --batch-size: expected a whole number of at least 1",
        ),
        (["--train-size", "0"], "argument --train-size: expected a whole number"),
        (
            ["--validation-split", "1"],
            "argument --validation-split: expected a number strictly between 0 and"
            " 1, received 1.0",
        ),
        (["--validation-split", "0"], "strictly between 0 and 1, received 0.0"),
        (
            ["--validation-split", "a fifth"],
            "expected a number between 0 and 1, received 'a fifth'",
        ),
        (
            ["--latent-dim", "0"],
            "argument --latent-dim: expected a whole number of at least 1",
        ),
        (
            ["--filters", ""],
            "argument --filters: expected comma-separated positive whole numbers",
        ),
        (["--filters", "8,x"], "such as 8,16,32,64, received '8,x'"),
        (["--filters", "8,0"], "received '8,0'"),
        (["--filters", "8,,16"], "received '8,,16'"),
        (["--filters", "8.5"], "received '8.5'"),
        (
            ["--learning-rate", "0"],
            "argument --learning-rate: expected a number above 0 and below 10",
        ),
        (["--learning-rate", "20"], "received '20'"),
        (["--learning-rate", "nan"], "received 'nan'"),
        (
            ["--seed", "-1"],
            "argument --seed: expected a whole number of at least 0, received '-1'",
        ),
        (["--verbose", "3"], "argument --verbose: invalid choice: 3"),
        (["--preset", "gpu"], "argument --preset: invalid choice: 'gpu'"),
        (
            ["--output", ""],
            "argument -o/--output: expected a path, received an empty string",
        ),
        (["--data", " "], "argument --data: expected a path"),
        (["--epoches", "3"], "unrecognized arguments: --epoches 3"),
    ],
)
def test_bad_option_is_named_with_what_was_expected(capsys, tmp_path, options, message):
    argv = ["train", *options]
    if "--preset" not in options:
        argv += ["--preset", "smoke"]
    code, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--latent-dim", "1000"],
            "latent_dim must be at least 1 and at most 784. Received: latent_dim=1000.",
        ),
        (
            ["--filters", "8,5000"],
            "each entry of filters must be at least 1 and at most 1024. Received:"
            " filters=(8, 5000).",
        ),
        (
            ["--seed", "5000000000"],
            "seed must be at least 0 and at most 4294967295. Received:"
            " seed=5000000000.",
        ),
        (
            ["--train-size", "3"],
            "train_size=3 with validation_split=0.2 leaves 3 training and 0"
            " validation images",
        ),
        (
            ["--train-size", "70000"],
            "train_size must be at least 1 and at most 60000. Received:"
            " train_size=70000.",
        ),
        (
            ["--test-size", "20000"],
            "test_size must be at least 1 and at most 10000. Received:"
            " test_size=20000.",
        ),
        (
            ["--batch-size", "1000"],
            "batch_size=1000 is larger than the 410 images left for training after"
            " the validation split",
        ),
    ],
)
def test_settings_out_of_range(capsys, tmp_path, options, message):
    code, err = run_cli(capsys, *SMOKE, *options, "-o", tmp_path / "run")
    assert code == 2
    assert err == f"vae-lab: error: {message}" + err.split(message, 1)[1]
    assert not (tmp_path / "run" / "config.json").exists()


def test_unknown_preset_in_the_environment(capsys, monkeypatch):
    monkeypatch.setenv(config.PRESET_ENV_VAR, "huge")
    code, err = run_cli(capsys, "train")
    assert code == 2
    assert (
        "vae-lab: error: Unknown preset 'huge'. "
        "Expected one of ['cpu', 'full', 'smoke']." in err
    )


@pytest.mark.parametrize("where", ["under_a_file", "a_file", "proc"])
def test_output_folder_that_cannot_be_written(capsys, tmp_path, where):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    output = {
        "under_a_file": a_file / "run",
        "a_file": a_file,
        "proc": pathlib.Path("/proc/vae-lab-run"),
    }[where]
    code, err = run_cli(capsys, *SMOKE, "-o", output)
    assert code == 2
    assert f"vae-lab: error: Cannot write the run folder {output}: " in err
    assert "pass another one with --output" in err


def test_output_folder_holding_other_settings(capsys, tmp_path):
    other = config.get_preset("smoke").replace(epochs=7)
    (tmp_path / "config.json").write_text(other.to_json())
    code, err = run_cli(capsys, *SMOKE, "-o", tmp_path)
    assert code == 2
    assert "holds a run with other settings, so it cannot be resumed" in err
    assert "--fresh" in err


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"epochs": "many"}, r"valid settings: epochs must be an integer\. Received"),
        ({"filters": None}, r"valid settings: 'NoneType' object is not iterable"),
        ({"colour": "red"}, r"valid settings: .*unexpected keyword argument 'colour'"),
        ({"preset": None, "seed": None}, r"valid settings: seed must be an integer"),
    ],
)
def test_damaged_settings_in_the_output_folder(capsys, tmp_path, damage, message):
    stored = json.loads(config.get_preset("smoke").to_json())
    (tmp_path / "config.json").write_text(json.dumps({**stored, **damage}))
    code, err = run_cli(capsys, *SMOKE, "-o", tmp_path)
    assert code == 2
    assert re.search(r"config\.json does not hold " + message, err), err


def test_settings_file_missing_a_setting(capsys, tmp_path):
    stored = json.loads(config.get_preset("smoke").to_json())
    del stored["filters"]
    (tmp_path / "config.json").write_text(json.dumps(stored))
    code, err = run_cli(capsys, *SMOKE, "-o", tmp_path)
    assert code == 2
    assert "does not hold valid settings: the setting 'filters' is missing." in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: command"),
        (["fly"], "argument command: invalid choice: 'fly'"),
        (["report"], "the following arguments are required: RUN_FOLDER"),
        (["report", "{tmp}/none"], "error: No run folder at"),
        (["report", "{tmp}", "{tmp}", "{tmp}"], "report takes one run folder, or two"),
        (["report", "{tmp}", "-o", "{tmp}/out.txt"], "must be a .pdf file"),
        (["report", "{tmp}"], "is not a run folder: it has no config.json"),
    ],
)
def test_bad_commands(capsys, tmp_path, argv, message):
    code, err = run_cli(capsys, *[arg.format(tmp=tmp_path) for arg in argv])
    assert code == 2
    assert message in err


def run_process(*argv):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "vae_lab.cli", *map(str, argv)],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_no_traceback_reaches_the_terminal(tmp_path, bad_files):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    # One mistake from each stage: options, data, settings, run folder.
    commands = [
        [*SMOKE, "--epochs", "0"],
        [*SMOKE, "--data", bad_files["pickled"]],
        [*SMOKE, "--latent-dim", "100000"],
        [*SMOKE, "-o", a_file / "run"],
        ["report", tmp_path / "none"],
    ]
    processes = [run_process(*command) for command in commands]
    for command, process in zip(commands, processes, strict=True):
        _, err = process.communicate(timeout=120)
        assert process.returncode == 2, (command, err)
        assert "Traceback" not in err, (command, err)
        assert "error: " in err, (command, err)


def test_full_disk_is_one_line_with_exit_code_1(capsys, tmp_path, monkeypatch):
    from vae_lab import training

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "history.csv"))

    monkeypatch.setattr(training, "train", no_space)
    code, err = run_cli(capsys, *SMOKE, "-o", tmp_path)
    assert code == 1
    assert err.endswith(
        "vae-lab: error: [Errno 28] No space left on device: "
        f"'{tmp_path / 'history.csv'}'\n"
    )


def test_ctrl_c_during_a_report(capsys, tmp_path, monkeypatch):
    from vae_lab import report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_report", interrupted)
    code, err = run_cli(capsys, "report", tmp_path)
    assert code == 130
    assert err == "vae-lab: interrupted. No report was written.\n"


def test_damaged_history_in_the_output_folder(capsys, tmp_path):
    (tmp_path / "history.csv").write_text("epoch,loss\n0,lots\n")
    code, err = run_cli(capsys, *SMOKE, "-o", tmp_path)
    assert code == 2
    assert "history.csv is not a history written by vae_lab" in err
    assert "Delete the file to keep training without the old history." in err
