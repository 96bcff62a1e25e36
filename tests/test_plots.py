import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_lab import plots  # noqa: E402

HISTORY = {
    "loss": [300.0, 200.0, 180.0],
    "reconstruction_loss": [290.0, 194.0, 173.0],
    "kl_loss": [10.0, 6.0, 7.0],
    "val_loss": [310.0, 220.0, 190.0],
    "val_reconstruction_loss": [300.0, 214.0, 183.0],
    "val_kl_loss": [10.0, 6.0, 7.0],
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_loss_curves_draw_three_terms_for_training_and_validation():
    figure = plots.plot_loss_curves(HISTORY)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["Total Loss", "Reconstruction Loss", "KL Divergence"]
    for ax, key in zip(
        figure.axes, ("loss", "reconstruction_loss", "kl_loss"), strict=True
    ):
        training, validation = ax.get_lines()
        assert list(training.get_xdata()) == [1, 2, 3]
        assert list(training.get_ydata()) == HISTORY[key]
        assert list(validation.get_ydata()) == HISTORY[f"val_{key}"]
        assert ax.get_xlabel() == "Epoch"


def test_loss_curves_use_recorded_epoch_numbers_and_given_axes():
    _, axes = plt.subplots(1, 3)
    history = {**HISTORY, "epoch": [4, 5, 6]}
    figure = plots.plot_loss_curves(history, axes=axes, label="Run A ")
    assert figure is axes[0].figure
    assert list(axes[0].get_lines()[0].get_xdata()) == [5, 6, 7]
    assert axes[0].get_legend().get_texts()[0].get_text() == "Run A Training"


def test_loss_curves_need_the_vae_terms():
    with pytest.raises(ValueError, match=r"lacks \['kl_loss'\]"):
        plots.plot_loss_curves({"loss": [1.0], "reconstruction_loss": [1.0]})


def test_image_rows_make_one_labelled_row_per_entry():
    images = np.random.default_rng(0).uniform(size=(5, 28, 28, 1))
    figure = plots.plot_image_rows({"A": images, "B": images[..., 0], "C": images})
    assert len(figure.axes) == 15
    labels = [figure.axes[i].get_ylabel() for i in (0, 5, 10)]
    assert labels == ["A", "B", "C"]


def test_image_rows_must_have_equal_lengths():
    with pytest.raises(ValueError, match="same number of images"):
        plots.plot_image_rows({"A": np.zeros((3, 4, 4)), "B": np.zeros((2, 4, 4))})


def test_reconstructions_put_originals_on_top():
    originals = np.zeros((4, 28, 28, 1))
    figure = plots.plot_reconstructions(originals, originals + 1)
    assert figure.axes[0].get_ylabel() == "Original"
    assert figure.axes[4].get_ylabel() == "Reconstruction"
    assert figure.axes[4].images[0].get_array().max() == 1


def test_latent_space_scatter_is_coloured_by_digit():
    z_mean = np.random.default_rng(1).normal(size=(50, 2))
    labels = np.arange(50) % 10
    figure = plots.plot_latent_space(z_mean, labels)
    ax = figure.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z[0]", "z[1]")
    points = ax.collections[0]
    assert np.array_equal(points.get_offsets(), z_mean)
    assert np.array_equal(points.get_array(), labels)


def test_latent_space_needs_two_dimensions():
    with pytest.raises(ValueError, match=r"shape \(N, 2\). Received: shape=\(5, 3\)"):
        plots.plot_latent_space(np.zeros((5, 3)), np.zeros(5))


def test_manifold_extent_centres_digits_on_grid_values():
    values = np.linspace(-3, 3, 4)
    figure = plots.plot_manifold(np.zeros((4 * 28, 4 * 28)), values)
    assert figure.axes[0].images[0].get_extent() == [-4.0, 4.0, -4.0, 4.0]
