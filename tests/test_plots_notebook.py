"""Tests for the plots the notebooks add: digits with labels, label counts."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_lab import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_digits_are_titled_with_their_labels(mnist):
    figure = plots.plot_digits(mnist.x_train[:12], mnist.y_train[:12], columns=5)
    titles = [ax.get_title() for ax in figure.axes]
    assert len(figure.axes) == 15
    assert titles[:12] == [str(label) for label in mnist.y_train[:12]]
    assert titles[12:] == ["", "", ""]
    assert figure.get_suptitle() == "Training Digits and Their Labels"


def test_digits_need_one_label_each(mnist):
    with pytest.raises(ValueError, match="Received: 3 images and 2 labels"):
        plots.plot_digits(mnist.x_train[:3], mnist.y_train[:2])


def test_label_counts_draw_one_bar_per_digit():
    labels = np.array([0, 1, 1, 3, 3, 3])
    figure = plots.plot_label_counts(labels, title="Counts")
    heights = [patch.get_height() for patch in figure.axes[0].patches]
    assert heights == [1, 2, 0, 3, 0, 0, 0, 0, 0, 0]
    assert figure.axes[0].get_title() == "Counts"
