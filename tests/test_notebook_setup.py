import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import vae_lab.notebook_setup as lab  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_native_stderr_is_dropped_inside_the_block_and_restored_after(capfd):
    with lab.native_stderr_silenced():
        os.write(2, b"a native notice\n")
    os.write(2, b"after the block\n")
    assert capfd.readouterr().err == "after the block\n"


def test_keras_is_imported_and_returned():
    keras = lab.import_keras_quietly()
    assert keras is lab.keras
    assert hasattr(keras, "ops")
    assert os.environ.get("TF_CPP_MIN_LOG_LEVEL") is not None


@pytest.mark.parametrize(
    ("version", "expected"),
    [("3.15.1", (3, 15)), ("3.0.0rc1", (3, 0)), ("2.15", (2, 15)), ("4", (4,))],
)
def test_version_tuple_keeps_major_and_minor(version, expected):
    assert lab.version_tuple(version) == expected


def test_old_keras_is_refused_with_the_fix():
    with pytest.raises(
        RuntimeError, match=r"needs Keras 3.0 or newer. Received: Keras 2.15.0"
    ):
        lab.check_keras_version("2.15.0")
    lab.check_keras_version("3.15.1")


def test_start_seeds_numpy_and_sizes_figures():
    lab.start(seed=7, figsize=(5, 3), dpi=80)
    first = np.random.rand(3)
    lab.start(seed=7, figsize=(5, 3), dpi=80)
    assert np.array_equal(first, np.random.rand(3))
    assert tuple(plt.rcParams["figure.figsize"]) == (5, 3)
    assert plt.rcParams["figure.dpi"] == 80


def test_figure_text_lists_the_titles():
    figure, axes = plt.subplots(1, 2)
    figure.suptitle("Two Panels")
    axes[0].set_title("Left")
    assert lab.figure_text(figure) == "Figure: Two Panels; Left"
    assert lab.figure_text(plt.figure()) == "Figure: untitled"


def test_in_ipython_a_figure_is_shown_as_text_by_its_titles():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        lab.start()
        figure, ax = plt.subplots()
        ax.set_title("Hello")
        text = shell.display_formatter.formatters["text/plain"](figure)
        assert text == "Figure: Hello"
    finally:
        InteractiveShell.clear_instance()


def test_machine_description_names_backend_and_cores():
    line = lab.describe_machine()
    assert f"the {lab.keras.backend.backend()} backend" in line
    assert f"{os.cpu_count()} CPU cores" in line
