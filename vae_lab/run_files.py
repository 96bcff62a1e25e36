"""The run folder's files, each written so that a crash never corrupts one.

Every writer here writes to a temporary file in the same folder and then
renames it over the target with `os.replace`, which is atomic on POSIX and
Windows: a reader sees the old file or the new one, never half of one.
"""

import contextlib
import csv
import io
import json
import os
import pathlib
import shutil
import tempfile

from vae_lab import errors

CONFIG = "config.json"
HISTORY = "history.csv"
WEIGHTS = "vae.weights.h5"
METRICS = "metrics.json"
BACKUP = "backup"
#: Written by `animation.TrainingAnimation` when asked for.
ANIMATION_FRAMES = "animation"
ANIMATION_GIF = "training.gif"
#: Default output of `report.write_report` for one run.
REPORT = "report.pdf"
FIGURES = {
    "loss_curves": "loss_curves.png",
    "reconstructions": "reconstructions.png",
    "latent_space": "latent_space.png",
    "manifold": "manifold.png",
}


def prepare_run_dir(run_dir):
    """Creates `run_dir` if needed and proves it can be written, or raises.

    Raises:
        RunFolderError: If the folder cannot be created or written.
    """
    run_dir = pathlib.Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=run_dir, prefix=".write-test-"):
            pass
    except OSError as error:
        raise errors.RunFolderError(
            f"Cannot write the run folder {run_dir}: {error.strerror or error}. "
            f"Expected a folder you can create and write; pass another one "
            f"with --output."
        ) from None
    return run_dir


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` and moves it into place on success.

    The temporary name keeps `path`'s suffixes, because some writers (Keras's
    `save_weights`) insist on them.
    """
    path = pathlib.Path(path)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}-", suffix="".join(path.suffixes)
    )
    os.close(handle)
    # mkstemp creates the file readable by its owner alone; give it the
    # permissions any other new file would get.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        yield pathlib.Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def copy_file(source, target):
    """Copies `source` over `target` atomically."""
    with atomic_path(target) as temporary:
        shutil.copyfile(source, temporary)


def write_json(path, value):
    """Writes `value` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def save_figure(figure, path, dpi=100):
    """Saves a Matplotlib figure as a PNG atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, bbox_inches="tight", format="png")


def save_weights(model, path):
    """Saves a Keras model's weights atomically.

    Note that a compiled model's file also holds the optimizer's state, which
    for Adam is twice the size of the weights.
    """
    with atomic_path(path) as temporary:
        model.save_weights(temporary)


def write_history(path, rows):
    """Writes a list of per-epoch dicts as CSV atomically."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def read_history(path):
    """Reads a history CSV into a list of dicts with numbers.

    Returns:
        A list of rows; empty when the file does not exist.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if rows and "epoch" not in rows[0]:
            raise ValueError(f"no 'epoch' column among {list(rows[0])}")
        return [
            {
                # An empty cell is a value that epoch did not log.
                key: int(value)
                if key == "epoch"
                else float("nan" if value == "" else value)
                for key, value in row.items()
            }
            for row in rows
        ]
    except (TypeError, ValueError) as error:
        raise errors.RunFolderError(
            f"{path} is not a history written by vae_lab: {error}. Expected a "
            f"header and one row of numbers per epoch, starting with 'epoch'. "
            f"Delete the file to keep training without the old history."
        ) from None


def history_columns(rows):
    """Turns rows of a history into a dict of lists, as `History.history`."""
    columns = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(value)
    return columns


def read_json(path):
    """Reads a JSON file written by `write_json`.

    Raises:
        RunFolderError: If the file is missing or not valid JSON.
    """
    try:
        return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise errors.RunFolderError(f"{path} does not exist.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise errors.RunFolderError(f"{path} is not valid JSON: {error}.") from None


#: What Keras's BackupAndRestore writes into the backup folder.
BACKUP_FILES = (
    "latest.weights.h5",
    "latest.weights.h5.bkp",
    "training_metadata.json",
    "training_metadata.json.bkp",
)


def remove_backup(backup):
    """Deletes a training backup's files, and its folder once it is empty.

    Only the files Keras's BackupAndRestore writes are removed, so a folder
    of the same name that holds anything else is never emptied wholesale.

    Args:
        backup: The backup folder, `run_dir / BACKUP` in a run folder.
    """
    backup = pathlib.Path(backup)
    for name in BACKUP_FILES:
        (backup / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        backup.rmdir()
