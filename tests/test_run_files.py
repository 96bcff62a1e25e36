"""Run-folder files: atomic writes, readable errors, no pickles."""

import math
import os
import pathlib

import matplotlib.pyplot as plt
import pytest

from vae_lab import errors, model, run_files


def leftovers(folder):
    return [path.name for path in pathlib.Path(folder).iterdir() if path.name[0] == "."]


def test_failing_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    run_files.write_json(path, {"loss": 1.0})

    def fail_halfway(self, text, **kwargs):
        # Write part of the text, then die as a full disk or a kill would.
        with open(self, "w", encoding="utf-8") as handle:
            handle.write(text[: len(text) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_text", fail_halfway)
    with pytest.raises(OSError, match="No space left"):
        run_files.write_json(path, {"loss": 2.0, "more": list(range(100))})
    monkeypatch.undo()
    assert run_files.read_json(path) == {"loss": 1.0}
    assert leftovers(tmp_path) == []


def test_failing_figure_leaves_the_old_png_intact(tmp_path):
    path = tmp_path / "loss_curves.png"
    figure, ax = plt.subplots()
    run_files.save_figure(figure, path)
    before = path.read_bytes()
    ax.text(0, 0, "$\\unknowncommand$")  # mathtext fails while saving
    with pytest.raises(ValueError):
        run_files.save_figure(figure, path)
    plt.close(figure)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_failing_weights_leave_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "vae.weights.h5"
    vae = model.build_vae(filters=(4,))
    run_files.save_weights(vae, path)
    before = path.read_bytes()

    def crash(self, filepath, **kwargs):
        pathlib.Path(filepath).write_bytes(b"\x89HDF half")
        raise KeyboardInterrupt

    monkeypatch.setattr(type(vae), "save_weights", crash)
    with pytest.raises(KeyboardInterrupt):
        run_files.save_weights(vae, path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_new_files_get_the_usual_permissions(tmp_path):
    path = tmp_path / "config.json"
    run_files.write_text(path, "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_copy_file_is_atomic_and_exact(tmp_path):
    source = tmp_path / "a.bin"
    source.write_bytes(bytes(range(256)) * 10)
    run_files.copy_file(source, tmp_path / "b.bin")
    assert (tmp_path / "b.bin").read_bytes() == source.read_bytes()


def test_history_round_trip(tmp_path):
    rows = [{"epoch": 0, "loss": 2.5, "seconds": 1.0}, {"epoch": 1, "loss": 2.0}]
    run_files.write_history(tmp_path / "h.csv", rows)
    read = run_files.read_history(tmp_path / "h.csv")
    assert read[0] == rows[0]
    assert math.isnan(read[1]["seconds"])
    assert run_files.history_columns(read)["loss"] == [2.5, 2.0]
    assert run_files.read_history(tmp_path / "missing.csv") == []


@pytest.mark.parametrize(
    "content",
    [
        "epoch,loss\n0,abc\n",
        "epoch,loss\n0\n",
        "loss,val_loss\n1.0,2.0\n",
        "epoch,loss\n0,1.0,extra\n",
    ],
)
def test_damaged_history_names_the_file(tmp_path, content):
    (tmp_path / "history.csv").write_text(content)
    with pytest.raises(
        errors.RunFolderError, match=r"history.csv is not a history written by vae_lab"
    ):
        run_files.read_history(tmp_path / "history.csv")


def test_damaged_json_names_the_file(tmp_path):
    (tmp_path / "metrics.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(errors.RunFolderError, match="metrics.json is not valid JSON"):
        run_files.read_json(tmp_path / "metrics.json")
    with pytest.raises(errors.RunFolderError, match="does not exist"):
        run_files.read_json(tmp_path / "none.json")


@pytest.mark.parametrize(
    "make_target",
    [
        lambda tmp: tmp / "a-file" / "run",
        lambda tmp: tmp / "a-file",
        lambda tmp: pathlib.Path("/proc/vae-lab-run"),
    ],
)
def test_unwritable_run_folder_is_refused(tmp_path, make_target):
    (tmp_path / "a-file").write_text("I am a file")
    target = make_target(tmp_path)
    with pytest.raises(
        errors.RunFolderError,
        match=r"Cannot write the run folder .*Expected a folder you can create "
        r"and write; pass another one with --output",
    ):
        run_files.prepare_run_dir(target)


def test_the_package_never_unpickles():
    # np.load must keep pickles off, and nothing may call pickle or
    # keras.models.load_model (which can run a saved model's code).
    package = pathlib.Path(run_files.__file__).parent
    for path in package.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "allow_pickle=True" not in source, path.name
        assert "import pickle" not in source, path.name
        assert "safe_mode=False" not in source, path.name
        assert "load_model(" not in source, path.name
