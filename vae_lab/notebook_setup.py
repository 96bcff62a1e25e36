"""What every notebook's setup cell needs: a quiet Keras, a seed, plot sizes.

Importing this module imports Keras (and with it TensorFlow) while the
process's native standard error is pointed at `/dev/null`. TensorFlow's C++
start-up notices ("oneDNN custom operations are on", "Could not find cuda
drivers", "failed call to cuInit") are written straight to file descriptor 2
before its logging is set up, so `TF_CPP_MIN_LOG_LEVEL` does not silence all
of them, and Jupyter would store them as a red stderr block in the notebook.
They say nothing a student needs, and they differ from machine to machine,
which breaks the comparison nbval makes when an instructor grades a notebook.
Python warnings are not affected: they go through `sys.stderr` and show.

Import it before any other `vae_lab` module that builds models, as the setup
cell of each notebook does:

    import vae_lab.notebook_setup as lab
    from vae_lab import model, plots

    lab.start(seed=42)

Note that the silencing only covers the import and the creation of the
devices. TensorFlow notices that come later (on a GPU, the first convolution
reports the cuDNN version) are filtered by `TF_CPP_MIN_LOG_LEVEL`, which this
module sets to 2 (warnings and above) unless it is set already.
"""

import contextlib
import logging
import os
import sys

#: The oldest Keras the lab was written for; Keras 2 lacks `keras.ops`.
MINIMUM_KERAS = (3, 0)


@contextlib.contextmanager
def native_stderr_silenced():
    """Points file descriptor 2 at `/dev/null` for the duration of the block.

    Output written by Python to `sys.stderr` is flushed first, so nothing of
    it is lost; output written by C or C++ code inside the block is dropped.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w", encoding="utf-8") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_keras_quietly():
    """Imports Keras and creates the backend's devices, without native notices.

    Returns:
        The `keras` module.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with native_stderr_silenced():
        import keras

        # TensorFlow's Python logger warns about retracing when a notebook
        # calls `predict` on several models; the advice is not for students.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)

        # The first device query and the first operation print the last of
        # the start-up notices (CUDA and device creation), so do both here.
        keras.distribution.list_devices()
        keras.ops.convert_to_numpy(keras.ops.ones((1,)))
    return keras


def version_tuple(version):
    """Returns `"3.15.1"` as `(3, 15)`: the major and minor numbers."""
    parts = []
    for piece in str(version).split(".")[:2]:
        digits = "".join(char for char in piece if char.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_keras_version(version, minimum=MINIMUM_KERAS):
    """Raises a clear error when Keras is older than the lab needs.

    Args:
        version: The installed version, such as `keras.__version__`.
        minimum: The oldest `(major, minor)` that works.

    Raises:
        RuntimeError: If `version` is older than `minimum`.
    """
    if version_tuple(version) < tuple(minimum):
        raise RuntimeError(
            f"vae_lab needs Keras {'.'.join(map(str, minimum))} or newer. "
            f"Received: Keras {version}. Install the lab's requirements with "
            f"`pip install -e .[lab]` in a fresh environment."
        )


def start(seed=42, figsize=(8, 4), dpi=100):
    """Prepares a notebook: checks Keras, seeds every generator, sizes plots.

    In IPython it also makes a figure's text stand-in its titles (see
    `figure_text`) instead of a line with its size.

    Args:
        seed: Seed for Python's, NumPy's and the backend's random numbers,
            through `keras.utils.set_random_seed`.
        figsize: Default Matplotlib figure size in inches.
        dpi: Resolution of the figures stored in the notebook.

    Raises:
        RuntimeError: If Keras is too old.
    """
    import matplotlib.pyplot as plt

    check_keras_version(keras.__version__)
    keras.utils.set_random_seed(seed)
    plt.rcParams["figure.figsize"] = figsize
    plt.rcParams["figure.dpi"] = dpi
    _describe_figures_by_title()


def figure_text(figure):
    """Returns a figure's titles as one line, its text stand-in in a notebook.

    Jupyter stores a plain-text version next to every image. For a
    Matplotlib figure that is `<Figure size 800x400 with 3 Axes>`, which says
    nothing; the titles say what the figure shows, and nbval compares them.
    """
    titles = [figure.get_suptitle()] + [ax.get_title() for ax in figure.axes]
    titles = [title for title in titles if title]
    return "Figure: " + ("; ".join(titles) if titles else "untitled")


def _describe_figures_by_title():
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib.figure
    import matplotlib.pyplot as plt

    # Loading the inline backend resets the figure formatters, so load it
    # first and register the text version after it.
    plt.switch_backend(plt.get_backend())

    formatter = shell.display_formatter.formatters["text/plain"]
    formatter.for_type(
        matplotlib.figure.Figure,
        lambda figure, printer, cycle: printer.text(figure_text(figure)),
    )


def describe_machine():
    """Returns one line naming the backend, the accelerator and the CPU cores.

    Notebooks print it next to the training output, so a reader knows which
    hardware produced the numbers stored in the notebook.
    """
    devices = keras.distribution.list_devices("gpu")
    accelerator = f"{len(devices)} GPU(s)" if devices else "no GPU"
    return (
        f"Keras {keras.__version__} with the {keras.backend.backend()} backend, "
        f"{accelerator}, {os.cpu_count()} CPU cores"
    )


keras = import_keras_quietly()
