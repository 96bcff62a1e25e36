"""A multi-page PDF report of a run, or of two runs side by side.

`write_report` loads a run folder, decodes the test digits again and writes,
one page each: the settings, the architecture with the parameters of every
layer, the loss curves, reconstructions, the test digits in the latent space,
the manifold of decoded digits, and the final metrics in nats per image and
per pixel. Given two run folders it compares them instead: settings and
metrics side by side, loss curves overlaid, and the same test digits
reconstructed by both models.

Only Matplotlib's `PdfPages` is used; the figures come from `vae_lab.plots`.
Fonts are embedded as TrueType so the PDF's text can be searched and copied.
"""

import dataclasses
import logging
import os
import pathlib
import time

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends import backend_pdf

from vae_lab import data, errors, inference, model, plots, run_files, training

logger = logging.getLogger(__name__)

#: Size of a text page, inches (A4 landscape).
PAGE_SIZE = (11.69, 8.27)
LOSS_KEYS = ("loss", "reconstruction_loss", "kl_loss")


@dataclasses.dataclass
class RunSummary:
    """What the report needs from one run folder.

    Attributes:
        name: A short label for the run (its folder's name).
        result: The `training.TrainingResult` of `training.load_run`.
        metrics: `result.metrics`, or for an unfinished run the last row of
            its history in the same layout.
        finished: Whether the run wrote `metrics.json`.
        x_test: The run's test images, `(N, 28, 28, 1)` in `[0, 1]`.
        y_test: Their labels.
    """

    name: str
    result: training.TrainingResult
    metrics: dict
    finished: bool
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def config(self):
        """The run's `TrainingConfig`."""
        return training.read_config(self.result.run_dir)


def default_output(run_dirs):
    """Returns where `write_report` writes by default, inside the first run."""
    first = pathlib.Path(run_dirs[0])
    if len(run_dirs) == 1:
        return first / run_files.REPORT
    return first / f"comparison-with-{pathlib.Path(run_dirs[1]).resolve().name}.pdf"


def write_report(run_dirs, output=None, data_path=None, count=10):
    """Writes the PDF report of one run, or the comparison of two.

    Args:
        run_dirs: One run folder, or a list of one or two.
        output: The PDF to write; see `default_output` for the default.
        data_path: The npz the runs were trained on, if not the bundled
            MNIST; its test images are shown.
        count: Test digits to show in the reconstructions, 1 to 20.

    Returns:
        The path of the PDF.

    Raises:
        RunFolderError: If a folder is not a run folder with weights, or the
            output cannot be written.
        DataFileError: If the data file cannot be read.
    """
    run_dirs = _check_run_dirs(run_dirs)
    _check_count(count)
    output = pathlib.Path(output) if output is not None else default_output(run_dirs)
    if output.suffix.lower() != ".pdf":
        raise errors.RunFolderError(
            f"The report's output must be a .pdf file. Received: output={output}."
        )
    run_files.prepare_run_dir(output.parent)
    started = time.perf_counter()
    runs = [load_summary(run_dir, data_path) for run_dir in run_dirs]
    pages = _pages(runs, count)
    with (
        matplotlib.rc_context({"pdf.fonttype": 42}),
        run_files.atomic_path(output) as temporary,
        backend_pdf.PdfPages(temporary, metadata=_metadata(runs)) as pdf,
    ):
        for number, (title, draw) in enumerate(pages, start=1):
            logger.info("Report page %d of %d: %s", number, len(pages), title)
            figure = draw()
            pdf.savefig(figure)
            plt.close(figure)
    logger.info(
        "Wrote %s: %d pages in %.1f s.",
        output,
        len(pages),
        time.perf_counter() - started,
    )
    return output


def _check_run_dirs(run_dirs):
    if isinstance(run_dirs, (str, os.PathLike)):
        run_dirs = [run_dirs]
    run_dirs = [pathlib.Path(run_dir) for run_dir in run_dirs]
    if not 1 <= len(run_dirs) <= 2:
        raise errors.RunFolderError(
            "run_dirs must name one run folder, or two to compare. Received "
            f"{len(run_dirs)}."
        )
    for run_dir in run_dirs:
        if not run_dir.is_dir():
            raise errors.RunFolderError(
                f"No run folder at {run_dir}. Expected a folder written by "
                f"`vae-lab train`."
            )
    return run_dirs


def _check_count(count):
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 20:
        raise ValueError(
            f"count must be a whole number from 1 to 20. Received: count={count!r}."
        )


def load_summary(run_dir, data_path=None):
    """Loads a run folder and its test images for the report.

    An unfinished run (interrupted, or stopped by a NaN loss) is reported
    too, from its last finished epoch, as long as it saved weights.

    Raises:
        RunFolderError: If the folder lacks settings or weights.
    """
    run_dir = pathlib.Path(run_dir)
    if (
        not (run_dir / run_files.WEIGHTS).is_file()
        and (run_dir / run_files.CONFIG).is_file()
    ):
        raise errors.RunFolderError(
            f"{run_dir} holds no weights yet: its run has not finished. Run "
            f"the same `vae-lab train` command again to finish it first, or "
            f"add --fresh to it if the run had finished and its weights were "
            f"deleted."
        )
    result = training.load_run(run_dir)
    config = training.read_config(run_dir)
    raw = data.load_mnist(data_path)
    x_test, y_test = data.take_subset(
        raw.x_test, raw.y_test, config.test_size, name="test_size"
    )
    x_test = data.normalize_images(data.reshape_images(x_test))
    finished = bool(result.metrics)
    metrics = result.metrics if finished else _metrics_from_history(result.history)
    return RunSummary(run_dir.resolve().name, result, metrics, finished, x_test, y_test)


def _metrics_from_history(history):
    final = {
        key: values[-1]
        for key, values in history.items()
        if key not in ("epoch", "seconds")
    }
    return {"epochs_completed": len(history.get("epoch", [])), "final": final}


def _metadata(runs):
    names = " vs ".join(run.name for run in runs)
    return {
        "Title": f"VAE Lab Report: {names}",
        "Subject": "Convolutional variational autoencoder on MNIST",
        "Creator": "vae_lab",
    }


def _pages(runs, count):
    """Returns the pages as `(title, draw)` pairs; `draw()` gives a figure."""
    if len(runs) == 1:
        run = runs[0]
        return [
            ("settings", lambda: settings_page(runs)),
            ("architecture", lambda: architecture_page(run)),
            ("loss curves", lambda: loss_page(runs)),
            ("reconstructions", lambda: reconstructions_page(runs, count)),
            ("latent space", lambda: latent_page(runs)),
            ("manifold", lambda: manifold_page(runs)),
            ("metrics", lambda: metrics_page(runs)),
        ]
    return [
        ("settings", lambda: settings_page(runs)),
        *[
            (f"architecture of {run.name}", lambda run=run: architecture_page(run))
            for run in runs
        ],
        ("metrics", lambda: metrics_page(runs)),
        ("loss curves", lambda: loss_page(runs)),
        ("reconstructions", lambda: reconstructions_page(runs, count)),
        ("latent space", lambda: latent_page(runs)),
        ("manifold", lambda: manifold_page(runs)),
    ]


def page_count(run_count):
    """The number of pages `write_report` writes for one or two runs."""
    return 7 if run_count == 1 else 8


def text_page(title, blocks):
    """Draws a page of monospaced text blocks under a title.

    Args:
        title: The page's title.
        blocks: A list of `(heading, text)` pairs, drawn side by side.

    Returns:
        The figure.
    """
    figure = plt.figure(figsize=PAGE_SIZE)
    figure.suptitle(title, fontsize=16, y=0.96)
    width = 0.92 / len(blocks)
    for index, (heading, text) in enumerate(blocks):
        left = 0.04 + index * width
        figure.text(left, 0.88, heading, fontsize=12, weight="bold", va="top")
        figure.text(left, 0.83, text, family="monospace", fontsize=8.5, va="top")
    return figure


def settings_page(runs):
    """The settings of each run and how its training went."""
    blocks = []
    for run in runs:
        config = dataclasses.asdict(run.config)
        lines = [f"{key:<18} {value}" for key, value in config.items()]
        metrics = run.metrics
        lines += [
            "",
            f"{'status':<18} "
            + ("finished" if run.finished else "unfinished (interrupted)"),
            f"{'epochs completed':<18} {metrics.get('epochs_completed')}",
        ]
        if run.finished:
            lines += [
                f"{'training time':<18} {metrics['training_seconds']:.0f} s "
                f"({metrics['seconds_per_epoch']:.1f} s per epoch)",
                f"{'images':<18} {metrics['images']}",
                f"{'backend':<18} {metrics['backend']} (GPU: {metrics['gpu']})",
                f"{'Keras':<18} {metrics['keras_version']}",
            ]
        blocks.append((f"{run.name}: Settings", "\n".join(lines)))
    return text_page("VAE Lab Report: " + " vs ".join(r.name for r in runs), blocks)


def layer_table(part):
    """Lists a model's layers with their output shapes and parameters.

    Args:
        part: A built Keras model, such as the encoder or the decoder.

    Returns:
        The table as text, with the totals below it.
    """
    lines = [f"{'layer':<18} {'type':<20} {'output shape':<20} {'parameters':>10}"]
    for layer in part.layers:
        shape = _output_shape(layer)
        lines.append(
            f"{layer.name:<18} {type(layer).__name__:<20} {shape:<20} "
            f"{layer.count_params():>10,}"
        )
    trainable = sum(int(np.prod(v.shape)) for v in part.trainable_weights)
    frozen = sum(int(np.prod(v.shape)) for v in part.non_trainable_weights)
    lines += [
        "",
        f"{'total':<60} {trainable + frozen:>10,}",
        f"{'trainable':<60} {trainable:>10,}",
        f"{'non-trainable (batch-norm statistics)':<60} {frozen:>10,}",
    ]
    return "\n".join(lines)


def _output_shape(layer):
    output = layer.output
    if isinstance(output, (list, tuple)):
        return ", ".join(str(tuple(item.shape)) for item in output)
    return str(tuple(output.shape))


def architecture_page(run):
    """The encoder's and the decoder's layers with their parameter counts."""
    vae = run.result.model
    blocks = [
        ("Encoder", layer_table(model.encoder_of(vae))),
        ("Decoder", layer_table(model.decoder_of(vae))),
    ]
    return text_page(
        f"{run.name}: Architecture, {vae.count_params():,} Parameters in All", blocks
    )


def loss_page(runs):
    """Loss curves; two runs share the axes."""
    _, axes = plt.subplots(1, 3, figsize=PAGE_SIZE, layout="constrained")
    for run in runs:
        label = f"{run.name}: " if len(runs) > 1 else ""
        plots.plot_loss_curves(run.result.history, axes=axes, label=label)
    axes[0].figure.suptitle("Loss per Epoch", fontsize=16)
    return axes[0].figure


def reconstructions_page(runs, count):
    """The same test digits, reconstructed by each run's model."""
    originals = runs[0].x_test[:count]
    rows = {"Original": originals}
    for run in runs:
        label = run.name if len(runs) > 1 else "Reconstruction"
        rows[label] = inference.reconstruct(run.result.model, originals)
    figure = plots.plot_image_rows(
        rows, title="Test Digits and Their Reconstructions", figsize=PAGE_SIZE
    )
    return figure


def latent_page(runs):
    """The test digits' `z_mean`, one panel per run."""
    figure, axes = plt.subplots(
        1, len(runs), figsize=PAGE_SIZE, layout="constrained", squeeze=False
    )
    for ax, run in zip(axes[0], runs, strict=True):
        z_mean, _ = inference.encode(run.result.model, run.x_test)
        if z_mean.shape[1] < 2:
            ax.text(0.5, 0.5, "No scatter: the latent space is 1-D.", ha="center")
            ax.axis("off")
            continue
        title = f"{run.name}: Test Digits in the Latent Space"
        if z_mean.shape[1] != 2:
            title += f" (First 2 of {z_mean.shape[1]} Dimensions)"
        plots.plot_latent_space(z_mean[:, :2], run.y_test, ax=ax, title=title)
    return figure


def manifold_page(runs):
    """The decoded latent grid, one panel per run with a 2-D latent space."""
    figure, axes = plt.subplots(
        1, len(runs), figsize=PAGE_SIZE, layout="constrained", squeeze=False
    )
    for ax, run in zip(axes[0], runs, strict=True):
        if run.config.latent_dim != 2:
            ax.text(0.5, 0.5, "No manifold: the latent space is not 2-D.", ha="center")
            ax.axis("off")
            continue
        image, values = inference.manifold(run.result.model)
        plots.plot_manifold(
            image, values, ax=ax, title=f"{run.name}: Digits Decoded from a Grid"
        )
    return figure


def _final_values(run):
    """Yields `(split, key, value)` for the final losses of a run."""
    final = run.metrics.get("final", {})
    test = run.metrics.get("test", {})
    # A finished run's validation losses were measured on the saved model,
    # after its BatchNormalization statistics were recomputed, like the test
    # losses; the last history row's val_ figures used the lagging ones.
    validation = run.metrics.get("validation")
    for key in LOSS_KEYS:
        yield "training", key, final.get(key)
        if validation is not None:
            yield "validation", key, validation.get(key)
        else:
            yield "validation", key, final.get(f"val_{key}")
        yield "test", key, test.get(key)


def metrics_table(run):
    """The final losses of one run in nats per image and per pixel, as text."""
    pixels = int(np.prod(run.config.image_shape))
    splits = ("training", "validation", "test")
    values = {(split, key): value for split, key, value in _final_values(run)}
    lines = [
        f"{'':<20}{'nats per image':>33}{'nats per pixel':>33}",
        f"{'term':<20}" + "".join(f"{split:>11}" for split in splits * 2),
    ]
    for key in LOSS_KEYS:
        per_image = [values[split, key] for split in splits]
        cells = [_number(value, 11, 2) for value in per_image]
        cells += [_number(_per_pixel(value, pixels), 11, 4) for value in per_image]
        lines.append(f"{key:<20}" + "".join(cells))
    if not run.finished:
        lines += ["", "Unfinished run: last finished epoch, no test metrics."]
    return "\n".join(lines)


def comparison_table(runs):
    """Two runs' final losses side by side, with their difference, as text."""
    first, second = runs
    pixels = int(np.prod(first.config.image_shape))
    width = max(12, *(len(run.name) + 8 for run in runs))
    lines = [
        f"{'nats per image':<34}{first.name:>{width}}{second.name:>{width}}"
        f"{'difference':>12}{first.name + ' /pixel':>{width}}"
        f"{second.name + ' /pixel':>{width}}"
    ]
    pairs = zip(_final_values(first), _final_values(second), strict=True)
    for (split, key, a), (_, _, b) in pairs:
        difference = None if a is None or b is None else b - a
        lines.append(
            f"{split + ' ' + key:<34}{_number(a, width, 2)}{_number(b, width, 2)}"
            f"{_number(difference, 12, 2)}"
            f"{_number(_per_pixel(a, pixels), width, 4)}"
            f"{_number(_per_pixel(b, pixels), width, 4)}"
        )
    return "\n".join(lines)


def _per_pixel(value, pixels):
    return None if value is None else value / pixels


def _number(value, width, decimals):
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{decimals}f}"


def metrics_page(runs):
    """The final metrics: a table per run, and for two runs a comparison."""
    figure = plt.figure(figsize=PAGE_SIZE)
    figure.suptitle("Final Metrics", fontsize=16, y=0.96)
    top = 0.88
    if len(runs) == 2:
        figure.text(0.05, top, "Side by Side", fontsize=12, weight="bold", va="top")
        figure.text(
            0.05, top - 0.04, comparison_table(runs), family="monospace", va="top"
        )
        top -= 0.32
    for run in runs:
        epochs = run.metrics.get("epochs_completed")
        heading = f"{run.name} ({epochs} epochs)"
        figure.text(0.05, top, heading, fontsize=12, weight="bold", va="top")
        figure.text(0.05, top - 0.04, metrics_table(run), family="monospace", va="top")
        top -= 0.2
    figure.text(
        0.05,
        0.04,
        "Lower is better. Per pixel = per image / number of pixels; the "
        "reconstruction term is a binary cross-entropy summed over pixels.",
        fontsize=9,
    )
    return figure
