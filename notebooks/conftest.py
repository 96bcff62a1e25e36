"""Settings for grading the notebooks with nbval.

The README's test command (`pytest` from the repository root) runs every
notebook of this folder in a fresh Jupyter kernel, cell by cell, and compares
each output with the one stored in the notebook (strict mode; see
`[tool.pytest.ini_options]` in pyproject.toml and docs/grading.md).

The kernel inherits this process's environment when it starts, so right
before the first cell of a notebook runs this file sets:

- `VAE_LAB_PRESET=smoke`, unless the grader set a preset, so training is
  short. Only the marked training cells print preset-dependent numbers.
- `VAE_LAB_RUNS` to a fresh temporary folder, shared by the notebooks of one
  session, so notebook 3 trains, notebooks 4 and 5 load its run, and nothing
  is read from or written to the repository's `runs/` folder.
- `TF_CPP_MIN_LOG_LEVEL=2`, to keep TensorFlow's C++ notices out.
- no `JUPYTER_COLUMNS` or `JUPYTER_LINES`, so model summaries are as wide as
  in the stored notebooks.

It also builds Matplotlib's font cache in this process first, so that a
fresh machine's one-time "building the font cache" notice does not land in
the first notebook's output.

Tests that are not notebook cells see the environment as it was before.
"""

import os
import pathlib
import shutil
import tempfile

import pytest

GRADING_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2"}
GRADING_DEFAULTS = {"VAE_LAB_PRESET": "smoke"}
REMOVED_VARIABLES = ("JUPYTER_COLUMNS", "JUPYTER_LINES")
RUNS_VARIABLE = "VAE_LAB_RUNS"
SANITIZE_FILE = pathlib.Path(__file__).with_name("sanitize.cfg")

_state = {"saved": None, "runs": None}


def pytest_configure(config):
    """Finds the sanitize file even when pytest runs from another folder."""
    given = getattr(config.option, "nbval_sanitize_with", None)
    if given and not os.path.isfile(given):
        candidate = pathlib.Path(str(config.rootpath)) / given
        config.option.nbval_sanitize_with = str(
            candidate if candidate.is_file() else SANITIZE_FILE
        )


def _is_notebook_cell(item):
    return str(item.path).endswith(".ipynb")


def _enter_grading_environment():
    if _state["saved"] is not None:
        return
    names = [*GRADING_ENVIRONMENT, *GRADING_DEFAULTS, *REMOVED_VARIABLES]
    _state["saved"] = {name: os.environ.get(name) for name in [*names, RUNS_VARIABLE]}
    if _state["runs"] is None:
        _state["runs"] = tempfile.mkdtemp(prefix="vae_lab_graded_runs_")
        # On a fresh machine the first import of Matplotlib builds its font
        # cache and says so on stderr; build it here, not in the first kernel.
        import matplotlib.font_manager  # noqa: F401
    os.environ.update(GRADING_ENVIRONMENT)
    for name, value in GRADING_DEFAULTS.items():
        os.environ.setdefault(name, value)
    for name in REMOVED_VARIABLES:
        os.environ.pop(name, None)
    os.environ[RUNS_VARIABLE] = _state["runs"]


def _leave_grading_environment():
    saved, _state["saved"] = _state["saved"], None
    for name, value in (saved or {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Sets the grading environment before a notebook's kernel starts."""
    if _is_notebook_cell(item):
        _enter_grading_environment()
    else:
        _leave_grading_environment()


def pytest_sessionfinish(session):
    """Restores the environment and deletes the temporary run folders."""
    _leave_grading_environment()
    if _state["runs"] is not None:
        shutil.rmtree(_state["runs"], ignore_errors=True)
        _state["runs"] = None
