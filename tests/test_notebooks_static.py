"""Checks on the notebook files themselves, without running them.

nbval (in the README's test command) runs the notebooks and compares their
outputs; these tests check what nbval cannot: the teaching structure (title,
goal, one setup cell, a sentence before every cell, exercises at the end),
that the stored outputs come from a real, clean run, and that the nbval
marks stay few. Each check is a function that returns a list of problems,
and the last tests feed it broken notebooks to prove it can fail.
"""

import pathlib
import re

import nbformat
import pytest

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
MARKER = "# NBVAL_IGNORE_OUTPUT"
#: Marks must stay under this share of the code cells, over all notebooks.
MAX_MARKED_SHARE = 0.10
#: The longest code cell a student should meet.
MAX_CELL_LINES = 20
ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
IMPORT_LINE = re.compile(r"^\s*(import \w|from [\w.]+ import )", re.MULTILINE)
#: Notebooks with a known problem to warn about, and the marked cell that
#: must say which preset produced the stored outputs.
WARNING_NOTEBOOKS = ("03_training.ipynb", "05_assignment.ipynb")
REAL_RUN = re.compile(r"Preset '(cpu|full)' because")


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _output_text(output):
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join(output.traceback)
    return "\n".join(
        value
        for key, value in output.get("data", {}).items()
        if isinstance(value, str) and not key.startswith("image/")
    )


def structure_problems(notebook):
    """Title, goal, one setup cell first, a sentence before every code cell."""
    problems = []
    first = notebook.cells[0] if notebook.cells else None
    if first is None or first.cell_type != "markdown":
        return ["the first cell is not Markdown with a title and a goal"]
    if not first.source.startswith("# "):
        problems.append("the first cell does not start with a '# ' title")
    if "**Goal:**" not in first.source:
        problems.append("the first cell states no **Goal:**")
    code = _code_cells(notebook)
    setup = [cell for cell in code if "lab.start(" in cell.source]
    if len(setup) != 1 or not code or code[0] is not setup[0]:
        problems.append("the first code cell must be the one setup cell (lab.start)")
    for cell in code[1:]:
        if IMPORT_LINE.search(cell.source):
            problems.append(f"imports outside the setup cell: {cell.source[:40]!r}")
    for before, cell in zip(notebook.cells, notebook.cells[1:], strict=False):
        if cell.cell_type == "code" and before.cell_type != "markdown":
            problems.append(f"no Markdown sentence before {cell.source[:40]!r}")
    for cell in code:
        if len(cell.source.splitlines()) > MAX_CELL_LINES:
            problems.append(f"cell longer than {MAX_CELL_LINES} lines")
        if "plots.plot_" in cell.source and not cell.source.rstrip().endswith(
            "plt.show()"
        ):
            problems.append(f"plot cell without plt.show(): {cell.source[:40]!r}")
    return problems


def exercise_problems(notebook):
    """An Exercises section at the end, with tasks and a pointer to solutions."""
    headings = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "markdown"
        and re.search(r"^# Exercises\s*$", cell.source, re.MULTILINE)
    ]
    if not headings:
        return ["no '# Exercises' section"]
    tail = notebook.cells[headings[-1] :]
    problems = []
    if any(cell.cell_type == "code" for cell in tail):
        problems.append("code cells after the Exercises heading")
    text = "\n".join(cell.source for cell in tail)
    if len(re.findall(r"^\d+\. \*\*", text, re.MULTILINE)) < 3:
        problems.append("fewer than three numbered exercises")
    if "docs/solutions.md" not in text:
        problems.append("the exercises do not say where the solutions are")
    return problems


def output_problems(notebook):
    """Stored outputs of one clean top-to-bottom run, fit for nbval."""
    problems = []
    code = _code_cells(notebook)
    counts = [cell.execution_count for cell in code]
    if counts != list(range(1, len(code) + 1)):
        problems.append(f"not executed once top to bottom: counts {counts}")
    for cell in code[1:]:
        if not cell.outputs:
            problems.append(f"no stored output: {cell.source[:40]!r}")
    for cell in code:
        for output in cell.outputs:
            text = _output_text(output)
            if output.output_type == "error":
                problems.append(f"stored error in {cell.source[:40]!r}")
            if output.get("name") == "stderr":
                problems.append(f"stored stderr in {cell.source[:40]!r}: {text[:80]!r}")
            if "<Figure size" in text:
                problems.append(f"stored '<Figure size' text in {cell.source[:40]!r}")
            if ADDRESS.search(text):
                problems.append(f"stored memory address in {cell.source[:40]!r}")
            if "\r" in text or "\b" in text:
                problems.append(f"stored progress bar in {cell.source[:40]!r}")
    return problems


def marked_cells(notebook):
    """The code cells with an nbval mark, after checking only one kind is used."""
    marked = []
    for cell in _code_cells(notebook):
        marks = set(re.findall(r"#\s*NBVAL_\w+", cell.source))
        if marks - {MARKER}:
            raise ValueError(f"unexpected nbval marks {sorted(marks)}; use {MARKER}")
        if marks:
            marked.append(cell)
    return marked


def marked_share(notebooks):
    """Share of all code cells that carry a mark."""
    total = sum(len(_code_cells(notebook)) for notebook in notebooks)
    return sum(len(marked_cells(notebook)) for notebook in notebooks) / total


def _read(path):
    return nbformat.read(path, as_version=4)


def test_five_ordered_notebooks():
    prefixes = [path.name[:3] for path in NOTEBOOKS]
    assert prefixes == ["01_", "02_", "03_", "04_", "05_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_structure(path):
    assert structure_problems(_read(path)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_ends_with_exercises(path):
    assert exercise_problems(_read(path)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_outputs_are_clean_and_present(path):
    notebook = _read(path)
    assert output_problems(notebook) == []
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_marks_are_few_and_only_on_training_or_timing_cells():
    notebooks = [_read(path) for path in NOTEBOOKS]
    assert marked_share(notebooks) < MAX_MARKED_SHARE
    for notebook in notebooks:
        for cell in marked_cells(notebook):
            assert "training.train(" in cell.source or "comparison." in cell.source


@pytest.mark.parametrize("name", WARNING_NOTEBOOKS)
def test_known_problems_are_warned_about_and_outputs_come_from_a_real_run(name):
    notebook = _read(NOTEBOOK_DIR / name)
    assert any("**Warning" in cell.source for cell in notebook.cells)
    training_text = "".join(
        _output_text(output)
        for cell in marked_cells(notebook)
        if "training.train(" in cell.source
        for output in cell.outputs
    )
    assert REAL_RUN.search(training_text), "stored outputs are not from a cpu/full run"


def test_solutions_cover_every_notebook():
    solutions = (NOTEBOOK_DIR.parent / "docs" / "solutions.md").read_text()
    for number in range(1, len(NOTEBOOKS) + 1):
        assert f"## Notebook {number}" in solutions


# The checks above must be able to fail: each broken notebook trips one.


def _notebook(*cells):
    notebook = nbformat.v4.new_notebook()
    for kind, source, *outputs in cells:
        if kind == "md":
            notebook.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            cell = nbformat.v4.new_code_cell(source)
            cell.outputs = [nbformat.from_dict(output) for output in outputs]
            notebook.cells.append(cell)
    for count, cell in enumerate(_code_cells(notebook), start=1):
        cell.execution_count = count
    return notebook


def _stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


GOOD = (
    ("md", "# Title\n\n**Goal:** learn."),
    ("md", "Setup."),
    ("code", "import vae_lab.notebook_setup as lab\n\nlab.start()"),
    ("md", "One sentence."),
    ("code", "print(1)", _stream("1\n")),
    (
        "md",
        "# Exercises\n\nSolutions: docs/solutions.md\n\n1. **A**\n2. **B**\n3. **C**",
    ),
)


def test_a_good_notebook_has_no_problems():
    notebook = _notebook(*GOOD)
    assert structure_problems(notebook) == []
    assert exercise_problems(notebook) == []
    assert output_problems(notebook) == []


@pytest.mark.parametrize(
    ("index", "cell", "expected"),
    [
        (0, ("md", "Title without hash\n\n**Goal:** x"), "'# ' title"),
        (0, ("md", "# Title only"), "no **Goal:**"),
        (2, ("code", "print(0)", _stream("0\n")), "one setup cell"),
        (3, ("code", "x = 1", _stream("")), "no Markdown sentence"),
        (4, ("code", "import numpy as np\nprint(1)", _stream("1\n")), "imports"),
        (4, ("code", "plots.plot_digits(x, y)", _stream("")), "without plt.show()"),
        (4, ("code", "\n".join(["x = 1"] * 21), _stream("")), "longer than"),
    ],
)
def test_structure_check_fails_on_broken_notebooks(index, cell, expected):
    cells = list(GOOD)
    cells[index] = cell
    problems = structure_problems(_notebook(*cells))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (("md", "# Summary\n\nNothing to do."), "no '# Exercises' section"),
        (("md", "# Exercises\n\ndocs/solutions.md\n\n1. **A**"), "fewer than three"),
        (("md", "# Exercises\n\n1. **A**\n2. **B**\n3. **C**"), "where the solutions"),
    ],
)
def test_exercise_check_fails_on_broken_notebooks(cell, expected):
    cells = [*GOOD[:-1], cell]
    problems = exercise_problems(_notebook(*cells))
    assert any(expected in problem for problem in problems), problems


def test_exercise_check_refuses_code_after_the_exercises():
    problems = exercise_problems(_notebook(*GOOD, ("code", "print(2)")))
    assert "code cells after the Exercises heading" in problems


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (_stream("I0000 oneDNN custom operations are on", "stderr"), "stderr"),
        (_stream("<Figure size 640x480 with 1 Axes>"), "'<Figure size'"),
        (_stream("<function f at 0x7f3a2c1b5e80>"), "memory address"),
        (_stream("1/63 [....]\r2/63 [=...]"), "progress bar"),
        (
            {
                "output_type": "error",
                "ename": "ValueError",
                "evalue": "bad",
                "traceback": ["ValueError: bad"],
            },
            "stored error",
        ),
    ],
)
def test_output_check_fails_on_unclean_outputs(output, expected):
    cells = list(GOOD)
    cells[4] = ("code", "print(1)", output)
    problems = output_problems(_notebook(*cells))
    assert any(expected in problem for problem in problems), problems


def test_output_check_fails_on_missing_outputs_and_partial_runs():
    cells = list(GOOD)
    cells[4] = ("code", "print(1)")
    assert any("no stored output" in p for p in output_problems(_notebook(*cells)))
    notebook = _notebook(*GOOD)
    _code_cells(notebook)[1].execution_count = 5
    assert any("not executed once" in p for p in output_problems(notebook))


def test_mark_share_counts_marked_cells_and_refuses_other_marks():
    marked = ("code", f"{MARKER}\nresult = training.train(settings, run_dir)")
    notebook = _notebook(*GOOD[:4], marked, ("md", "x"), ("code", "print(1)"))
    assert marked_share([notebook]) == pytest.approx(1 / 3)
    skipped = _notebook(*GOOD[:4], ("code", "# NBVAL_SKIP\nprint(1)"))
    with pytest.raises(ValueError, match="unexpected nbval marks"):
        marked_cells(skipped)
