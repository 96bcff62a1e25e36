"""The figures of the lab, shared by the command line and the notebooks.

Each function draws one idea, takes optional axes to draw into, and returns
the Matplotlib figure; it never shows or saves it. In a notebook, end the
cell with `plt.show()`; on the command line, `run_files.save_figure` saves it.
"""

import matplotlib.pyplot as plt
import numpy as np

LOSS_TERMS = (
    ("loss", "Total Loss"),
    ("reconstruction_loss", "Reconstruction Loss"),
    ("kl_loss", "KL Divergence"),
)


def plot_loss_curves(history, axes=None, label=""):
    """Plots the total loss and its two terms per epoch, training and validation.

    Args:
        history: A dict of lists such as `History.history`, with `loss`,
            `reconstruction_loss`, `kl_loss` and optionally their `val_` twins
            and an `epoch` list (0-based, as Keras counts).
        axes: Three axes to draw into; by default a new 1x3 figure.
        label: Prefix for the legend, to compare runs on the same axes.

    Returns:
        The figure.
    """
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    missing = [key for key, _ in LOSS_TERMS if key not in history]
    if missing:
        raise ValueError(
            f"history lacks {missing}. Expected the keys of a vae_lab training "
            f"history. Received: {sorted(history)}."
        )
    epochs = np.asarray(history.get("epoch", range(len(history["loss"])))) + 1
    for ax, (key, title) in zip(axes, LOSS_TERMS, strict=True):
        ax.plot(epochs, history[key], marker=".", label=f"{label}Training")
        if f"val_{key}" in history:
            ax.plot(
                epochs, history[f"val_{key}"], marker=".", label=f"{label}Validation"
            )
        ax.set(title=title, xlabel="Epoch", ylabel="Nats per Image")
        ax.legend()
    return axes[0].figure


def plot_image_rows(rows, title=None, figsize=None):
    """Shows rows of images, one labelled row per entry of `rows`.

    Args:
        rows: A dict from row label to an array of images, `(N, H, W)` or
            `(N, H, W, 1)`; every row must hold the same number of images.
        title: Figure title.
        figsize: Figure size; by default about one inch per image.

    Returns:
        The figure.
    """
    rows = {label: np.asarray(images) for label, images in rows.items()}
    counts = {len(images) for images in rows.values()}
    if len(counts) != 1:
        raise ValueError(
            "Every row must hold the same number of images. Received: "
            f"{ {label: len(images) for label, images in rows.items()} }."
        )
    n = counts.pop()
    figsize = figsize or (max(n, 2) * 1.0, len(rows) * 1.15 + 0.4)
    figure, axes = plt.subplots(len(rows), n, figsize=figsize, squeeze=False)
    for row_axes, (label, images) in zip(axes, rows.items(), strict=True):
        for ax, image in zip(row_axes, images, strict=True):
            ax.imshow(np.squeeze(image), cmap="gray_r", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
        row_axes[0].set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        figure.suptitle(title)
    return figure


def plot_reconstructions(
    originals, reconstructions, title="Originals Above, Reconstructions Below"
):
    """Shows originals in the top row and their reconstructions below."""
    return plot_image_rows(
        {"Original": originals, "Reconstruction": reconstructions}, title=title
    )


def plot_latent_space(z_mean, labels, ax=None, title="Test Digits in the Latent Space"):
    """Scatters 2-D `z_mean` points coloured by digit.

    Args:
        z_mean: Array of shape `(N, 2)`.
        labels: The `N` digit labels.
        ax: Axes to draw into; by default a new figure.
        title: Axes title.

    Returns:
        The figure.
    """
    z_mean = np.asarray(z_mean)
    if z_mean.ndim != 2 or z_mean.shape[1] != 2:
        raise ValueError(
            "The latent scatter needs 2-D points, shape (N, 2). "
            f"Received: shape={z_mean.shape}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6), layout="constrained")
    points = ax.scatter(
        z_mean[:, 0], z_mean[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=4
    )
    colorbar = ax.figure.colorbar(points, ax=ax, ticks=range(10))
    colorbar.set_label("Digit")
    ax.set(title=title, xlabel="z[0]", ylabel="z[1]")
    return ax.figure


def plot_manifold(image, values, ax=None, title="Digits Decoded from a Latent Grid"):
    """Shows the grid of decoded digits from `inference.manifold`.

    Args:
        image: The big `(n * H, n * W)` image.
        values: The grid values along each axis.
        ax: Axes to draw into; by default a new figure.
        title: Axes title.

    Returns:
        The figure.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8), layout="constrained")
    # Each digit is centred on its grid value, so the edges lie half a step out.
    half_step = float(values[1] - values[0]) / 2
    low, high = float(values[0]) - half_step, float(values[-1]) + half_step
    ax.imshow(image, cmap="gray_r", extent=(low, high, low, high), vmin=0, vmax=1)
    ax.set(title=title, xlabel="z[0]", ylabel="z[1]")
    return ax.figure


def plot_digits(images, labels, columns=10, title="Training Digits and Their Labels"):
    """Shows images in a grid, each titled with its label.

    Args:
        images: Array of shape `(N, H, W)` or `(N, H, W, 1)`, raw `0..255` or
            scaled to `[0, 1]`.
        labels: The `N` labels.
        columns: Images per row.
        title: Figure title.

    Returns:
        The figure.
    """
    images = np.asarray(images)
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(
            "Expected as many labels as images, at least one. Received: "
            f"{len(images)} images and {len(labels)} labels."
        )
    rows = -(-len(images) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(columns * 0.9, rows * 1.1 + 0.5), squeeze=False
    )
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(images):
            ax.imshow(np.squeeze(images[index]), cmap="gray_r")
            ax.set_title(str(labels[index]))
    figure.suptitle(title)
    return figure


def plot_label_counts(labels, ax=None, title="Images per Digit"):
    """Draws a bar chart of how many images each digit has.

    Args:
        labels: Integer labels from 0 to 9.
        ax: Axes to draw into; by default a new figure.
        title: Axes title.

    Returns:
        The figure.
    """
    counts = np.bincount(np.asarray(labels), minlength=10)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    ax.bar(range(len(counts)), counts, color="tab:blue")
    ax.set_xticks(range(len(counts)))
    ax.set(title=title, xlabel="Digit", ylabel="Images")
    return ax.figure
