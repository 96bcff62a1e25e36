"""An animated GIF of training: the same digits and the manifold, epoch by epoch.

`TrainingAnimation` is a Keras callback. At the end of every epoch it decodes
a fixed set of test digits and, for a 2-D latent space, a grid over the latent
space, draws them as one frame and saves it as
`animation/epoch_001.png`, `epoch_002.png`, ... in the run folder. When
training ends it joins the frames into `training.gif`, where the blurs of the
first epochs sharpen into digits: material for a video walkthrough.

Every file is written atomically, and the GIF is built from the frames on
disk, so a run that is interrupted and resumed keeps the frames of its
earlier epochs and still gets one frame per epoch.

Drawing a frame must not change the training it watches: the callback saves
the model's non-trainable state (BatchNormalization's moving statistics, the
sampling layer's seed, the metrics) before drawing and puts it back after, so
a run with the animation trains exactly as one without it.
"""

import contextlib
import io
import logging
import pathlib
import re
import time

import keras
import matplotlib.figure
import numpy as np
from PIL import Image

from vae_lab import batch_norm, checks, data, inference, model, plots, run_files

logger = logging.getLogger(__name__)

FRAME_PATTERN = re.compile(r"epoch_(\d{3,})\.png")


def frame_path(run_dir, epoch):
    """Returns the path of the frame of `epoch` (0-based, as Keras counts)."""
    name = f"epoch_{epoch + 1:03d}.png"
    return pathlib.Path(run_dir) / run_files.ANIMATION_FRAMES / name


class TrainingAnimation(keras.callbacks.Callback):
    """Saves a frame per epoch and writes an animated GIF when training ends.

    Each frame shows `count` test digits above their reconstructions and,
    when the latent space is 2-D, the manifold of decoded digits, titled
    with the epoch and the training loss. A frame, with its 10 calibration
    batches, took about 2 s for the baseline model and 4 s for the deeper
    one on 2 busy CPU cores (measured).

    Args:
        run_dir: The run folder; frames go to its `animation/` folder and the
            GIF to `training.gif`.
        images: Test images, float32 in `[0, 1]`, shape `(N, H, W, 1)`; the
            first `count` are shown in every frame.
        count: How many digits to show.
        manifold_size: Digits along each side of the manifold.
        seconds_per_frame: How long each epoch stays on screen in the GIF.
        calibration_images: Training images for recomputing the
            BatchNormalization statistics of each frame (see
            `vae_lab.batch_norm`); the training itself keeps its own. Note
            that without them the frames use the moving averages, which lag
            far behind the weights in short runs: the first frames then show
            grey blurs even when the model has learnt more.
        calibration_batches: Batches of 128 `calibration_images` to use.

    Example:
        >>> animation = TrainingAnimation(run_dir, dataset.x_test)
        >>> training.train(config, run_dir, extra_callbacks=[animation])
    """

    def __init__(
        self,
        run_dir,
        images,
        count=10,
        manifold_size=15,
        seconds_per_frame=0.5,
        calibration_images=None,
        calibration_batches=10,
    ):
        super().__init__()
        checks.check_int("count", count, maximum=30)
        checks.check_int("calibration_batches", calibration_batches)
        if calibration_images is not None:
            shape = (*np.shape(calibration_images)[1:3], 1)
            data.check_images(calibration_images, shape, "calibration_images")
        self.calibration_images = calibration_images
        self.calibration_batches = calibration_batches
        checks.check_int("manifold_size", manifold_size, minimum=2, maximum=40)
        checks.check_fraction("seconds_per_frame", seconds_per_frame, high=60.0)
        shape = (*np.shape(images)[1:3], 1)
        images = data.check_images(images, shape, "images")
        if len(images) < count:
            raise ValueError(
                f"images must hold at least count={count} images. Received "
                f"{len(images)}."
            )
        self.run_dir = pathlib.Path(run_dir)
        self.images = np.asarray(images[:count], dtype="float32")
        self.manifold_size = manifold_size
        self.seconds_per_frame = seconds_per_frame
        self.gif_path = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        title = f"Epoch {epoch + 1} of {self.params.get('epochs', '?')}"
        # The training loss, because the validation loss of a short run
        # suffers from the lagging statistics these frames recompute.
        if logs.get("loss") is not None:
            title += f", training loss {float(logs['loss']):.1f} nats per image"
        with preserved_state(self.model):
            if self.calibration_images is not None:
                batch_norm.recalibrate_batch_norm(
                    self.model,
                    self.calibration_images,
                    max_batches=self.calibration_batches,
                )
            figure = draw_frame(self.model, self.images, title, self.manifold_size)
        path = frame_path(self.run_dir, epoch)
        path.parent.mkdir(parents=True, exist_ok=True)
        with run_files.atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=80, format="png")

    def on_train_end(self, logs=None):
        epochs = self.params.get("epochs")
        self.gif_path = write_gif(
            self.run_dir, epochs, seconds_per_frame=self.seconds_per_frame
        )


@contextlib.contextmanager
def preserved_state(vae):
    """Restores `vae`'s non-trainable and metric variables on leaving.

    Those hold BatchNormalization's moving statistics, the sampling layer's
    seed state and the running metrics: everything a forward pass may change
    besides the trained weights, which it never changes.
    """
    variables = list(vae.non_trainable_variables) + list(vae.metrics_variables)
    saved = [np.array(variable.numpy()) for variable in variables]
    try:
        yield
    finally:
        for variable, value in zip(variables, saved, strict=True):
            variable.assign(value)


def draw_frame(vae, images, title, manifold_size=15):
    """Draws one frame: digits above their reconstructions, and the manifold.

    Args:
        vae: A model from `model.build_vae`.
        images: The digits to reconstruct, `(N, H, W, 1)` in `[0, 1]`.
        title: The frame's title.
        manifold_size: Digits along each side of the manifold.

    Returns:
        A Matplotlib figure of a fixed size (not attached to pyplot, so it
        needs no closing), so that all frames line up in the GIF.
    """
    reconstructions = inference.reconstruct(vae, images)
    strip = np.concatenate([_row(images), _row(reconstructions)], axis=0)
    figure = matplotlib.figure.Figure(figsize=(8, 7.6))
    grid = figure.add_gridspec(2, 1, height_ratios=(1, 3.6))
    top = figure.add_subplot(grid[0])
    top.imshow(strip, cmap="gray_r", vmin=0.0, vmax=1.0)
    top.set_title("Test Digits (Top) and Their Reconstructions (Bottom)")
    top.axis("off")
    bottom = figure.add_subplot(grid[1])
    if model.decoder_of(vae).input_shape[-1] == 2:
        plots.plot_manifold(*inference.manifold(vae, n=manifold_size), ax=bottom)
    else:
        bottom.text(0.5, 0.5, "No manifold: the latent space is not 2-D.", ha="center")
        bottom.axis("off")
    figure.suptitle(title)
    return figure


def _row(images):
    """Puts images side by side into one `(H, N * W)` array."""
    return np.concatenate(list(np.asarray(images)[..., 0]), axis=1)


def frame_paths(run_dir, epochs=None):
    """Returns the saved frames in epoch order, at most `epochs` of them.

    A frame numbered above `epochs` is left out: it cannot belong to this run.
    """
    folder = pathlib.Path(run_dir) / run_files.ANIMATION_FRAMES
    numbered = []
    for path in folder.glob("epoch_*.png"):
        match = FRAME_PATTERN.fullmatch(path.name)
        if match and (epochs is None or int(match.group(1)) <= epochs):
            numbered.append((int(match.group(1)), path))
    return [path for _, path in sorted(numbered)]


def write_gif(run_dir, epochs=None, seconds_per_frame=0.5):
    """Joins the saved frames of a run into `training.gif`, atomically.

    The last frame stays on screen three times as long, so a viewer sees the
    final result before the loop starts again.

    Args:
        run_dir: The run folder.
        epochs: The run's number of epochs; frames numbered above it are
            ignored. `None` takes them all.
        seconds_per_frame: How long each frame is shown.

    Returns:
        The GIF's path, or `None` when there is no frame.
    """
    if epochs is not None:
        checks.check_int("epochs", epochs)
    checks.check_fraction("seconds_per_frame", seconds_per_frame, high=60.0)
    paths = frame_paths(run_dir, epochs)
    if not paths:
        logger.warning("No frames in %s; no GIF written.", run_dir)
        return None
    started = time.perf_counter()
    frames = [_load_frame(path) for path in paths]
    milliseconds = int(seconds_per_frame * 1000)
    durations = [milliseconds] * (len(frames) - 1) + [3 * milliseconds]
    target = pathlib.Path(run_dir) / run_files.ANIMATION_GIF
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=0,
        optimize=False,
    )
    with run_files.atomic_path(target) as temporary:
        temporary.write_bytes(buffer.getvalue())
    logger.info(
        "Wrote %s: %d frames, %.0f kB, in %.1f s.",
        target,
        len(frames),
        target.stat().st_size / 1024,
        time.perf_counter() - started,
    )
    return target


def _load_frame(path):
    """Reads a frame as a palette image, the form a GIF stores."""
    with Image.open(path) as image:
        return image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
