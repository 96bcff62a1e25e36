"""The repository follows its own style rules: ruff check and ruff format."""

import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent


def _ruff():
    beside_python = pathlib.Path(sys.executable).parent / "ruff"
    found = str(beside_python) if beside_python.exists() else shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (it comes with the 'lab' extra)")
    return found


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_passes_on_code_and_notebooks(command):
    result = subprocess.run(
        [_ruff(), *command, "."], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
